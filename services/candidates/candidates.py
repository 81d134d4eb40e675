"""待核实对象: people no roll knows about, found by department lists or reported from the field, until the township
registers them as a household or dismisses them with a reason."""

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from models import Candidate, User, utcnow
from services import audit
from services.audit import Actor
from services.errors import Conflict, Invalid, NotFound
from services.inputs import is_row_id, name_problem, text_problem
from services.names import user_names
from services.paging import page_of
from services.permissions import require
from services.registry.areas import area_names, get_area
from services.scope import area_level, is_in_scope, where_in_scope
from services.visits.visits import looks_like_uuid

SOURCES = {
    "field_report": "协理员上报",
    "medical": "医保名单",
    "disability": "残联名单",
    "death": "死亡名单",
    "unemployment": "人社失业名单",
}
STATUSES = {"open": "待核实", "registered": "已登记", "dismissed": "已排除"}
MAX_NOTE = 200
MAX_DESCRIPTION = 500


@dataclass
class CandidateRow:
    candidate: Candidate
    area_name: str
    reporter: str


def candidates_in_scope(user: User, status: str | None = "open"):
    """Return a select() of the candidates the user may see, newest first (one status, or all with None)."""
    query = select(Candidate).where(where_in_scope(user, Candidate.area_code))
    if status is not None:
        query = query.where(Candidate.status == status)
    return query.order_by(Candidate.created_at.desc(), Candidate.id.desc())


def list_rows(session: Session, query, *, offset: int, limit: int) -> tuple[list[CandidateRow], bool]:
    """Return one page of candidates with their area's and reporter's names (two queries more)."""
    found, has_more = page_of(session, query, offset=offset, limit=limit)
    return rows_for(session, found), has_more


def rows_for(session: Session, found: list[Candidate]) -> list[CandidateRow]:
    areas = area_names(session, {c.area_code for c in found})
    users = user_names(session, {c.reported_by_id for c in found} | {c.settled_by_id for c in found})
    return [CandidateRow(c, areas.get(c.area_code, c.area_code), users.get(c.reported_by_id, "")) for c in found]


def count_open(session: Session, user: User) -> int:
    """Return how many candidates wait in the user's scope (the 首页's 待核实对象)."""
    query = (
        select(func.count())
        .select_from(Candidate)
        .where(where_in_scope(user, Candidate.area_code), Candidate.status == "open")
    )
    return session.exec(query).one()


def get_candidate_for(session: Session, user: User, candidate_id: int, capability: str | None = None) -> Candidate:
    """Return the candidate if it lies in the user's scope (else 404, whether it exists or not); then the capability."""
    candidate = session.get(Candidate, candidate_id) if is_row_id(candidate_id) else None
    if candidate is None or not is_in_scope(user, candidate.area_code):
        raise NotFound()
    require(user, capability or "candidates.view")
    return candidate


def settled_by(session: Session, candidate: Candidate) -> str:
    return user_names(session, {candidate.settled_by_id}).get(candidate.settled_by_id, "")


def reveal_id_number(session: Session, actor: Actor, candidate: Candidate) -> str:
    """Return a candidate's full ID number and audit that it was shown."""
    audit.record(session, actor, "candidate.id_viewed", candidate)
    return candidate.id_number or "—"


def _check_open(candidate: Candidate) -> None:
    if candidate.status != "open":
        raise Conflict(f"这个待核实对象已经{STATUSES[candidate.status]}", code="candidate_settled")


def mark_registered(session: Session, actor: Actor, candidate: Candidate) -> None:
    """Record that the township registered the candidate as a household (through the new-household form)."""
    _check_open(candidate)
    candidate.status, candidate.settled_at, candidate.settled_by_id = "registered", utcnow(), actor.user.id
    candidate.settle_note = None
    session.add(candidate)
    audit.record(session, actor, "candidate.registered", candidate, area=candidate.area_code)


def dismiss(session: Session, actor: Actor, candidate: Candidate, reason: str) -> None:
    """Dismiss the candidate after checking: not in difficulty, moved away, already helped … — a reason is required."""
    _check_open(candidate)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid({"reason": "请写明排除的原因"})
    if len(reason) > MAX_NOTE:
        raise Invalid({"reason": f"原因最多 {MAX_NOTE} 字"})
    problem = text_problem(reason, "原因")
    if problem:
        raise Invalid({"reason": problem})
    candidate.status, candidate.settled_at, candidate.settled_by_id = "dismissed", utcnow(), actor.user.id
    candidate.settle_note = reason
    session.add(candidate)
    audit.record(session, actor, "candidate.dismissed", candidate, reason=reason)


# ---- field reports --------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldReport:
    """What an assistant reports of a family in difficulty: made on the phone with its own UUID."""

    uuid: str
    name: str
    area_code: str
    description: str


def check_report(session: Session, user: User, report: FieldReport) -> FieldReport:
    """Return the report cleaned, or refuse it in plain Chinese: a name, a village in scope, what was seen."""
    errors = {}
    name = (report.name or "").strip()
    description = (report.description or "").strip()
    problem = name_problem(name, "姓名（或户主姓名）")
    if problem:
        errors["name"] = problem
    area = get_area(session, report.area_code) if report.area_code else None
    if area is None or area_level(area.code) != 4 or not is_in_scope(user, area.code):
        errors["area_code"] = "请选择您负责的村（社区）"
    if not description:
        errors["description"] = "请写下看到的情况"
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = f"情况最多 {MAX_DESCRIPTION} 字"
    elif text_problem(description, "情况"):
        errors["description"] = text_problem(description, "情况")
    if errors:
        raise Invalid(errors, code="candidate_refused")
    return FieldReport(uuid=report.uuid, name=name, area_code=report.area_code, description=description)


def report(session: Session, actor: Actor, report: FieldReport) -> tuple[Candidate, bool]:
    """Create the candidate of a field report once; return (candidate, created).

    The same UUID again answers the stored candidate when it is the same report by the same person (a retry the
    phone made because the answer was lost), and 409 otherwise.
    """
    require(actor.user, "candidates.report")
    report = check_report(session, actor.user, report)
    existing = session.exec(select(Candidate).where(Candidate.uuid == report.uuid)).first()
    if existing is not None:
        return _replayed(existing, actor, report), False
    candidate = Candidate(
        uuid=report.uuid,
        area_code=report.area_code,
        name=report.name,
        description=report.description,
        source="field_report",
        reported_by_id=actor.user.id,
    )
    try:
        with session.begin_nested():  # undoes only this row
            session.add(candidate)
    except IntegrityError:  # the same UUID arrived twice at once: the other request stored it
        again = session.exec(select(Candidate).where(Candidate.uuid == report.uuid)).first()
        if again is None:
            raise
        return _replayed(again, actor, report), False
    audit.record(session, actor, "candidate.reported", candidate, area=candidate.area_code)
    return candidate, True


def _replayed(candidate: Candidate, actor: Actor, report: FieldReport) -> Candidate:
    same = (
        candidate.reported_by_id == actor.user.id
        and candidate.source == "field_report"
        and (candidate.name, candidate.area_code, candidate.description)
        == (report.name, report.area_code, report.description)
    )
    if not same:
        raise Conflict("这份上报已经提交过，内容与已保存的不同", code="candidate_conflict")
    return candidate


def get_report_by_uuid_for(session: Session, user: User, uuid: str) -> Candidate:
    """Return the field report with this UUID if the user made it and may still see it; otherwise 404."""
    if not looks_like_uuid(uuid):
        raise NotFound()
    candidate = session.exec(select(Candidate).where(Candidate.uuid == uuid)).first()
    if candidate is None or candidate.reported_by_id != user.id or not is_in_scope(user, candidate.area_code):
        raise NotFound()
    return candidate
