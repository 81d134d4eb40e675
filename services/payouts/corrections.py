"""整改 items: the scoped list with filters, one item, and closing it with what was done.

An item belongs to the household's village (its township closes it) or, for a person not in the registry, to the
county. It is closed by 补发 (with the new payment's date), 追回 or 核实无误 (with what was checked). 更正账户 is
recorded but leaves the item open: the money has still not arrived, so it stays on the list until the 补发.
Closing names what the officer saw (the outcome recorded so far); if someone moved the item meanwhile it is Stale.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, update
from sqlmodel import Session, select

from models import AuditEvent, Correction, Payment, Person, utcnow
from services import audit
from services.audit import Actor
from services.errors import Invalid, NotFound, Stale
from services.inputs import is_row_id, text_problem
from services.names import household_names, user_names
from services.paging import page_of
from services.payouts.programs import period_from_code
from services.permissions import require
from services.registry import idnumber
from services.scope import is_in_scope, where_in_scope, where_under

STATUS_FILTERS = {"open": "未办结", "closed": "已办结", "all": "全部"}
KINDS = {
    "failed": "发放失败",
    "missing": "应发未发",
    "not_in_registry": "不在册",
    "duplicate": "重复发放",
    "after_exit": "退出后仍发放",
    "wrong_amount": "金额不符",
    "disputed": "群众反映未到账",
}
OUTCOMES = {"reissued": "补发", "recovered": "追回", "account_fixed": "更正账户", "verified": "核实无误"}
CLOSING = ("reissued", "recovered", "verified")  # account_fixed leaves the item open until the 补发
NOTE_MAX = 500
ACTIONS = ("payouts.correction_closed", "payouts.correction_account_fixed")


@dataclass
class Filters:
    status: str = "open"
    kind: str = ""
    program: str = ""
    period: str = ""
    overdue: bool = False
    area: str = ""  # a township or village under the user's own area (the overview's drill-down)

    def as_args(self) -> dict[str, str]:
        """Return the filters as URL arguments (only those set), for links and the next page."""
        args = {"status": self.status, "kind": self.kind, "program": self.program, "period": self.period}
        args["area"] = self.area
        args["overdue"] = "1" if self.overdue else ""
        return {key: value for key, value in args.items() if value}


def parse_filters(args: Mapping, programs: Mapping) -> Filters:
    """Read the list's filters from URL arguments; anything unknown is dropped."""
    status = str(args.get("status", "")).strip()
    kind = str(args.get("kind", "")).strip()
    program = str(args.get("program", "")).strip()
    period = str(args.get("period", "")).strip()[:7]
    try:
        period = period_from_code(period).code if period else ""
    except Invalid:
        period = ""
    overdue = str(args.get("overdue", "")).strip() == "1"
    area = str(args.get("area", "")).strip()
    return Filters(
        area=area if re.fullmatch(r"\d{12}", area) else "",
        status="open" if overdue else status if status in STATUS_FILTERS else "open",
        kind=kind if kind in KINDS else "",
        program=program if program in programs else "",
        period=period,
        overdue=overdue,
    )


def search(user, filters: Filters, today: date):
    """Return a select() of the items in the user's scope that pass the filters: the most urgent first."""
    query = select(Correction).where(where_in_scope(user, Correction.area_code))
    if filters.status in ("open", "closed"):
        query = query.where(Correction.status == filters.status)
    if filters.overdue:
        query = query.where(Correction.deadline < today)
    if filters.kind:
        query = query.where(Correction.kind == filters.kind)
    if filters.program:
        query = query.where(Correction.program_code == filters.program)
    if filters.period:
        query = query.where(Correction.period == filters.period)
    if filters.area:  # narrows within the scope above; an area outside it simply finds nothing
        query = query.where(where_under(filters.area, Correction.area_code))
    if filters.status == "closed":
        return query.order_by(Correction.closed_at.desc(), Correction.id.desc())
    still_open = case((Correction.status == "open", 0), else_=1)
    return query.order_by(still_open, Correction.deadline, Correction.id)


def counts(session: Session, user, today: date) -> tuple[int, int]:
    """Return how many items in scope are open, and how many of them are past their deadline (one query)."""
    late = case((Correction.deadline < today, 1), else_=0)
    query = select(func.count(), func.coalesce(func.sum(late), 0)).where(
        where_in_scope(user, Correction.area_code), Correction.status == "open"
    )
    total, overdue = session.exec(query).one()
    return int(total), int(overdue)


def periods_in_scope(session: Session, user, limit: int = 36) -> list[str]:
    """Return the periods the user's items belong to, newest first (for the filter)."""
    query = (
        select(Correction.period)
        .where(where_in_scope(user, Correction.area_code))
        .group_by(Correction.period)
        .order_by(Correction.period.desc())
        .limit(limit)
    )
    return list(session.exec(query))


@dataclass
class Row:
    """An item with whom it is about, as lists and its page show it."""

    item: Correction
    name: str  # the person (or, not in the registry, the name in the bank's file)
    id_masked: str
    head_name: str = ""
    village: str = ""
    household_no: str = ""
    overdue: bool = False
    payment: Payment | None = None


def rows_for(session: Session, items: list[Correction], today: date) -> list[Row]:
    """Name the people, households and payments of the items (three queries, whatever their number)."""
    households = household_names(session, {i.household_id for i in items if i.household_id})
    person_ids = {i.person_id for i in items if i.person_id}
    persons = {}
    if person_ids:
        query = select(Person.id, Person.name, Person.id_number).where(Person.id.in_(person_ids))
        persons = {pid: (name, number) for pid, name, number in session.exec(query)}
    payment_ids = {i.payment_id for i in items if i.payment_id}
    payments = {}
    if payment_ids:
        payments = {p.id: p for p in session.exec(select(Payment).where(Payment.id.in_(payment_ids)))}
    rows = []
    for item in items:
        payment = payments.get(item.payment_id)
        name, number = persons.get(item.person_id) or ((payment.name, payment.id_number) if payment else ("", None))
        no, village, head = households.get(item.household_id, ("", "", ""))
        rows.append(
            Row(
                item=item,
                name=name,
                id_masked=idnumber.mask(number) if number else "",
                head_name=head,
                village=village,
                household_no=no,
                overdue=item.status == "open" and item.deadline < today,
                payment=payment,
            )
        )
    return rows


def list_rows(session: Session, query, today: date, *, offset: int, limit: int) -> tuple[list[Row], bool]:
    """Return one page of items, named."""
    items, has_more = page_of(session, query, offset=offset, limit=limit)
    return rows_for(session, items, today), has_more


def get_for(session: Session, user, correction_id: int, capability: str = "payouts.view") -> Correction:
    """Return an item in the user's scope (else 404) if the user holds the capability (else 403)."""
    item = session.get(Correction, correction_id) if is_row_id(correction_id) else None
    if item is None or not is_in_scope(user, item.area_code):
        raise NotFound()
    require(user, capability)
    return item


@dataclass
class Closing:
    """What an officer sends to close an item: the outcome, the note, the date of a 补发, and what they saw."""

    outcome: str
    note: str = ""
    reissued_on: str = ""
    seen: str = ""  # the outcome recorded when the page was shown ('' for none)


def close(session: Session, actor: Actor, item: Correction, closing: Closing, today: date) -> None:
    """Record the outcome (closing the item unless it is 更正账户), audited; Stale if someone moved it meanwhile."""
    require(actor.user, "corrections.close")
    values = _check(item, closing, today, actor.user.id)
    seen = closing.seen or None
    result = session.execute(
        update(Correction)
        .where(
            Correction.id == item.id,
            Correction.status == "open",
            Correction.outcome.is_(None) if seen is None else Correction.outcome == seen,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.refresh(item)
        raise Stale(stale_message(session, item))
    session.refresh(item)
    action = ACTIONS[1] if closing.outcome == "account_fixed" else ACTIONS[0]
    detail = {"outcome": closing.outcome, "note": values["outcome_note"] or ""}
    if values.get("reissued_on"):
        detail["reissued_on"] = values["reissued_on"].isoformat()
    audit.record(session, actor, action, item, kind=item.kind, program=item.program_code, period=item.period, **detail)


def _check(item: Correction, closing: Closing, today: date, user_id: int) -> dict:
    errors = {}
    outcome = closing.outcome
    note = (closing.note or "").strip()
    if outcome not in OUTCOMES:
        errors["outcome"] = "请选择办结方式：补发、追回、更正账户或核实无误"
    if len(note) > NOTE_MAX:
        errors["note"] = f"说明最多 {NOTE_MAX} 字"
    elif problem := text_problem(note, "说明"):
        errors["note"] = problem
    elif outcome == "verified" and not note:
        errors["note"] = "核实无误请写明核实的情况（找谁核实、结论是什么）"
    reissued_on = None
    if outcome == "reissued":
        raw = (closing.reissued_on or "").strip()
        try:
            reissued_on = date.fromisoformat(raw) if raw else None
        except ValueError:
            errors["reissued_on"] = "补发日期格式不对"
        else:
            if reissued_on is None:
                errors["reissued_on"] = "补发请填写补发的日期"
            elif reissued_on > today:
                errors["reissued_on"] = "补发日期不能晚于今天"
            elif reissued_on < period_from_code(item.period).first_day:
                errors["reissued_on"] = "补发日期不能早于发放期间"
    if errors:
        raise Invalid(errors)
    values = {"outcome": outcome, "outcome_note": note or None}
    if outcome in CLOSING:
        values.update(status="closed", reissued_on=reissued_on, closed_by_id=user_id, closed_at=utcnow())
    return values


def stale_message(session: Session, item: Correction) -> str:
    """Say plainly what happened to an item someone else moved on."""
    who = user_names(session, {item.closed_by_id}).get(item.closed_by_id, "别人")
    if item.status == "closed":
        return f"这条整改事项已经由{who}办结（{OUTCOMES.get(item.outcome, item.outcome)}），请刷新后再看"
    if item.outcome:
        return f"这条整改事项刚被别人登记为“{OUTCOMES.get(item.outcome, item.outcome)}”，请刷新后再看"
    return "这条整改事项刚被别人改过，请刷新后再看"


@dataclass
class HistoryEntry:
    at: object
    who: str
    outcome: str
    note: str
    reissued_on: str


def history(session: Session, item: Correction) -> list[HistoryEntry]:
    """Return what was recorded on the item, oldest first, from the audit trail."""
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.object_type == "correction",
            AuditEvent.object_id == str(item.id),
            AuditEvent.action.in_(ACTIONS),
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    events = list(session.exec(query))
    names = user_names(session, {e.user_id for e in events})
    entries = []
    for event in events:
        detail = json.loads(event.detail or "{}")
        entries.append(
            HistoryEntry(
                event.at,
                names.get(event.user_id, event.username or ""),
                OUTCOMES.get(detail.get("outcome"), ""),
                detail.get("note", ""),
                detail.get("reissued_on", ""),
            )
        )
    return entries
