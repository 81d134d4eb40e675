"""Needs (诉求) raised in visits: scoped lists, and open → in progress → resolved with who and when."""

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from models import AuditEvent, Household, Need, User, utcnow
from services import audit
from services.audit import Actor
from services.errors import Invalid, NotFound
from services.inputs import is_row_id
from services.names import household_names, user_names
from services.paging import page_of
from services.permissions import require
from services.registry.households import get_household_for
from services.scope import where_in_scope, where_under
from services.visits.rules import NEED_STATUSES, NEED_TYPES

STATUS_FILTERS = {"pending": "未解决", "open": "待处理", "in_progress": "处理中", "resolved": "已解决", "all": "全部"}
UNRESOLVED = ("open", "in_progress")
# Allowed moves; going back from resolved is an explicit reopen with a reason.
TRANSITIONS = {("open", "in_progress"), ("open", "resolved"), ("in_progress", "resolved"), ("resolved", "open")}
NOTE_MAX = 500


def needs_in_scope(user: User):
    """Return a select() of needs whose household lies in the user's scope (the household's rule, not a second one)."""
    return (
        select(Need).join(Household, Household.id == Need.household_id).where(where_in_scope(user, Household.area_code))
    )


def search_needs(
    user: User,
    *,
    need_type: str = "",
    status: str = "pending",
    village: str = "",
    area: str = "",
    raised_between: tuple[datetime, datetime] | None = None,
):
    """Return a select() of needs in scope filtered by type, status, village or area and when raised, newest first."""
    query = needs_in_scope(user)
    if area:
        query = query.where(where_under(area, Household.area_code))
    if raised_between:
        query = query.where(Need.created_at >= raised_between[0], Need.created_at < raised_between[1])
    if need_type in NEED_TYPES:
        query = query.where(Need.type == need_type)
    if status == "pending":
        query = query.where(Need.status.in_(UNRESOLVED))
    elif status in NEED_STATUSES:
        query = query.where(Need.status == status)
    if village:
        query = query.where(Household.area_code == village)
    return query.order_by(Need.created_at.desc(), Need.id.desc())


def count_unresolved(session: Session, user: User) -> int:
    """Return how many needs in scope are not yet resolved."""
    query = (
        select(func.count())
        .select_from(Need)
        .join(Household, Household.id == Need.household_id)
        .where(where_in_scope(user, Household.area_code), Need.status.in_(UNRESOLVED))
    )
    return session.exec(query).one()


def get_need_for(session: Session, user: User, need_id: int, capability: str | None = None) -> Need:
    """Return a need whose household is in the user's scope (else 404); with a capability, 403 without it."""
    need = session.get(Need, need_id) if is_row_id(need_id) else None
    if need is None:
        raise NotFound()
    get_household_for(session, user, need.household_id, capability)
    return need


@dataclass
class NeedRow:
    """A need with the names its row shows."""

    need: Need
    head_name: str
    village: str
    household_no: str
    raised_by: str
    updated_by: str


def list_rows(session: Session, query, *, offset: int, limit: int) -> tuple[list[NeedRow], bool]:
    """Run a needs query for one page and fetch households and people's names in bulk (three queries)."""
    needs, has_more = page_of(session, query, offset=offset, limit=limit)
    if not needs:
        return [], False
    households = household_names(session, {n.household_id for n in needs})
    users = user_names(session, {n.created_by_id for n in needs} | {n.updated_by_id for n in needs if n.updated_by_id})
    rows = []
    for need in needs:
        no, village, head = households[need.household_id]
        rows.append(NeedRow(need, head, village, no, users.get(need.created_by_id, ""), users.get(need.updated_by_id)))
    return rows, has_more


def change_status(session: Session, actor: Actor, need: Need, status: str, note: str = "") -> None:
    """Move a need to a new status; resolving and reopening need a note. Records who, when and why."""
    require(actor.user, "need.settle")
    note = (note or "").strip()
    _check_transition(need.status, status, note)
    before = need.status
    need.status = status
    need.updated_at = utcnow()
    need.updated_by_id = actor.user.id
    if status == "resolved":
        need.resolution, need.resolved_at = note, need.updated_at
    elif before == "resolved":  # reopened: the old resolution stays in the audit trail
        need.resolution, need.resolved_at = None, None
    session.add(need)
    audit.record(
        session, actor, "need.updated", need, household_id=need.household_id, status=[before, status], note=note
    )


def _check_transition(before: str, after: str, note: str) -> None:
    if after not in NEED_STATUSES:
        raise Invalid("请选择新的状态")
    if before == after:
        raise Invalid(f"这条诉求已经是“{NEED_STATUSES[after]}”")
    if (before, after) not in TRANSITIONS:
        raise Invalid(f"不能从“{NEED_STATUSES[before]}”改为“{NEED_STATUSES[after]}”")
    if len(note) > NOTE_MAX:
        raise Invalid(f"说明太长（最多 {NOTE_MAX} 字）")
    if after == "resolved" and not note:
        raise Invalid("请写明是怎样解决的")
    if before == "resolved" and not note:
        raise Invalid("重新打开请写明原因")


def next_statuses(need: Need) -> list[str]:
    """Return the statuses this need may move to, in the order the page offers them."""
    return [after for after in ("in_progress", "resolved", "open") if (need.status, after) in TRANSITIONS]


@dataclass
class HistoryEntry:
    """One status change of a need."""

    at: object
    who: str
    before: str
    after: str
    note: str


def history(session: Session, need: Need) -> list[HistoryEntry]:
    """Return the need's status changes, oldest first, from the audit trail."""
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.object_type == "need", AuditEvent.object_id == str(need.id), AuditEvent.action == "need.updated"
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    events = list(session.exec(query))
    names = user_names(session, {e.user_id for e in events})
    entries = []
    for event in events:
        detail = json.loads(event.detail or "{}")
        before, after = detail.get("status", ["", ""])
        entries.append(
            HistoryEntry(
                event.at, names.get(event.user_id, event.username or ""), before, after, detail.get("note", "")
            )
        )
    return entries
