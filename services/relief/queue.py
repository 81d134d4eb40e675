"""Reading temporary-relief applications: the 审批 queue and its badge, and what the approver's screen shows."""

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func
from sqlmodel import Session, select

from models import Area, Household, Person, ReliefApplication, ReliefEvent, ReliefPhoto, TownshipFund, User, utcnow
from services.names import user_names
from services.paging import page_of
from services.permissions import DECIDING_ROLE
from services.registry import areas, households
from services.registry.categories import CATEGORIES
from services.relief import evidence
from services.relief.machine import allowed_actions, approval_limit_fen, fund_for, history
from services.relief.rules import GRANTED
from services.scope import where_in_scope
from services.visits import visits

WAITING_STATE = {role: state for state, role in DECIDING_ROLE.items()}  # what waits for a decision at each level
HISTORY_DAYS = 365
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


@dataclass
class Screen:
    """Everything the approver's one screen shows."""

    application: ReliefApplication
    household: Household
    village_path: str
    person: Person
    person_categories: list[str]
    household_categories: list[str]
    latest_visit: visits.TimelineEntry | None
    earlier: list[ReliefApplication]
    received_fen: int
    fund: TownshipFund | None
    limit_fen: int
    township_name: str
    events: list[tuple[ReliefEvent, str]]
    photos: list[ReliefPhoto]
    actions: list[str]
    creator: str
    days_left: int | None
    names: dict[int, str] = field(default_factory=dict)


def screen(session: Session, user: User, application: ReliefApplication, household: Household) -> Screen:
    """Gather the approver's screen: person, household, latest visit, past relief, reserve, limit, history."""
    members = households.members_with_categories(session, household)
    person, person_categories = next(((p, c) for p, c in members if p.id == application.person_id), members[0])
    household_categories = sorted({c for _p, cats in members for c in cats}, key=list(CATEGORIES).index)
    timeline = visits.timeline(session, household)
    since = utcnow() - timedelta(days=HISTORY_DAYS)
    earlier = [a for a in session.exec(for_household(household, since)) if a.id != application.id]
    received = sum(a.amount_approved_fen or 0 for a in earlier if a.state in GRANTED)
    events = history(session, application)
    names = user_names(session, {e.user_id for e in events} | {application.created_by_id, application.paid_by_id})
    path = areas.area_path(session, household.area_code)
    return Screen(
        application=application,
        household=household,
        village_path=" · ".join(area.name for area in path[1:]),
        person=person,
        person_categories=person_categories,
        household_categories=household_categories,
        latest_visit=timeline[0] if timeline else None,
        earlier=earlier,
        received_fen=received,
        fund=fund_for(session, application.township_code),
        limit_fen=approval_limit_fen(session, application.township_code),
        township_name=next((a.name for a in path if a.code == application.township_code), ""),
        events=[(event, names.get(event.user_id, "")) for event in events],
        photos=evidence.photos_of(session, application),
        actions=allowed_actions(session, user, application),
        creator=names.get(application.created_by_id, ""),
        days_left=days_left(application),
        names=names,
    )
