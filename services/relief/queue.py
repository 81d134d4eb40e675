"""Reading temporary-relief applications: the 审批 queue and its badge, and what the approver's screen shows."""

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, func
from sqlmodel import Session, select

from models import Area, Household, Person, ReliefApplication, User, utcnow
from services.paging import page_of
from services.permissions import DECIDING_ROLE
from services.scope import where_in_scope

WAITING_STATE = {role: state for state, role in DECIDING_ROLE.items()}  # what waits for a decision at each level
# The lists of the 审批 tab, per role: (key, title). City and admin only watch.
LISTS = {
    "township": (("submitted", "待我审批"), ("paperwork", "先行救助待补材料"), ("approved", "已批准待发放")),
    "county": (("forwarded", "待县级审批"), ("overdue", "先行救助材料逾期"), ("approved", "已批准待发放")),
    "city": (("submitted", "待乡镇审批"), ("forwarded", "待县级审批"), ("overdue", "先行救助材料逾期")),
    "admin": (("submitted", "待乡镇审批"), ("forwarded", "待县级审批"), ("overdue", "先行救助材料逾期")),
    "assistant": (("mine", "我的申请"),),
}
MINE = ("mine", "我的申请")


def waiting_count(session: Session, user: User) -> int:
    """Return how many applications wait for this user's decision, in one count query (the tab's badge)."""
    state = WAITING_STATE.get(user.role)
    if state is None:
        return 0
    query = select(func.count()).select_from(ReliefApplication)
    query = query.where(ReliefApplication.state == state, where_in_scope(user, ReliefApplication.area_code))
    return session.exec(query).one()


def lists_for(user: User, mine: bool = False) -> tuple[tuple[str, str], ...]:
    """Return the (key, title) lists the user's 审批 tab shows; ?mine=1 shows what they raised."""
    return (MINE,) if mine else LISTS.get(user.role, (MINE,))


def list_query(user: User, key: str, now: datetime | None = None):
    """Return a select() of the applications in one list of the 审批 tab, in the user's scope."""
    now = now or utcnow()
    query = select(ReliefApplication).where(where_in_scope(user, ReliefApplication.area_code))
    pending_paperwork = and_(
        ReliefApplication.paperwork_due_at.is_not(None), ReliefApplication.paperwork_done_at.is_(None)
    )
    if key in ("submitted", "forwarded"):
        order = (ReliefApplication.urgent.desc(), ReliefApplication.updated_at, ReliefApplication.id)
        return query.where(ReliefApplication.state == key).order_by(*order)
    if key == "paperwork":  # the earliest deadline first, so the overdue ones lead
        return query.where(pending_paperwork).order_by(ReliefApplication.paperwork_due_at, ReliefApplication.id)
    if key == "overdue":
        query = query.where(pending_paperwork, ReliefApplication.paperwork_due_at < now)
        return query.order_by(ReliefApplication.paperwork_due_at, ReliefApplication.id)
    if key == "approved":
        return query.where(ReliefApplication.state == "approved").order_by(
            ReliefApplication.decided_at, ReliefApplication.id
        )
    query = query.where(ReliefApplication.created_by_id == user.id)  # mine
    return query.order_by(ReliefApplication.updated_at.desc(), ReliefApplication.id.desc())


@dataclass
class ApplicationRow:
    """An application with the names a list shows."""

    application: ReliefApplication
    person_name: str
    village: str
    household_no: str


def list_rows(session: Session, query, *, offset: int, limit: int) -> tuple[list[ApplicationRow], bool]:
    """Return one page of applications with person and village names (two queries), and whether more follow."""
    page, has_more = page_of(session, query, offset=offset, limit=limit)
    if not page:
        return [], False
    names = select(ReliefApplication.id, Person.name, Area.name, Household.household_no)
    names = names.join(Person, Person.id == ReliefApplication.person_id)
    names = names.join(Household, Household.id == ReliefApplication.household_id)
    names = names.join(Area, Area.code == Household.area_code)
    labels = {row[0]: row[1:] for row in session.exec(names.where(ReliefApplication.id.in_([a.id for a in page])))}
    return [ApplicationRow(a, *labels[a.id]) for a in page], has_more


def for_household(household: Household, since: datetime | None = None):
    """Return a select() of a household's applications, newest first (optionally only those since a date)."""
    query = select(ReliefApplication).where(ReliefApplication.household_id == household.id)
    if since is not None:
        query = query.where(ReliefApplication.created_at >= since)
    return query.order_by(ReliefApplication.created_at.desc(), ReliefApplication.id.desc())


def days_left(application: ReliefApplication, now: datetime | None = None) -> int | None:
    """Return whole days left to complete the paperwork (negative when overdue), or None when nothing is due."""
    if application.paperwork_due_at is None or application.paperwork_done_at is not None:
        return None
    due = application.paperwork_due_at
    due = due if due.tzinfo else due.replace(tzinfo=UTC)  # stored without a zone, always in UTC
    days = (due - (now or utcnow())).total_seconds() / 86400
    return math.ceil(days) if days >= 0 else -max(1, math.floor(-days))  # late by less than a day is 1 day late
