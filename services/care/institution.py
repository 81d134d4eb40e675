"""Wishes to move into an institution (集中供养) as requests: requested → confirmed (township) → placed (county),
or declined with a reason. On placement the person's record moves into the institution's household."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, delete, func, select

from models import Area, CareAgreement, Household, InstitutionRequest, Person, PersonCategory, User, utcnow
from services import audit
from services.audit import Actor
from services.care.agreements import sync_flag
from services.clock import aware, today_in_china
from services.errors import Invalid, NotFound
from services.inputs import is_row_id, small_int, text_problem
from services.paging import page_of
from services.permissions import can, require
from services.registry.households import exit_household, get_household_for
from services.scope import is_in_scope, where_in_scope, where_under

STATUSES = {"requested": "待乡镇确认", "confirmed": "待县（区）安置", "placed": "已入住机构", "declined": "不予安置"}
OPEN = ("requested", "confirmed")
MAX_NOTE = 300
MOVED_RELATION = "其他"  # in an institution's household nobody is a relative of the head
EMPTIED_REASON = "转入集中供养机构"  # services/registry/households.py EXIT_REASONS


def _county(area_code: str) -> str:
    return area_code[:6] + "000000"


def _note(text, label: str, required: bool = False) -> str | None:
    note = str(text or "").strip()
    if required and not note:
        raise Invalid({"reason": f"请写明{label}"})
    if len(note) > MAX_NOTE:
        raise Invalid({"reason": f"{label}最多 {MAX_NOTE} 字"})
    if problem := text_problem(note, label):
        raise Invalid({"reason": problem})
    return note or None


# ---- raising -------------------------------------------------------------------------------


def open_request_of(session: Session, person_id: int) -> InstitutionRequest | None:
    """Return the person's open request, if any."""
    return session.exec(select(InstitutionRequest).where(InstitutionRequest.open_person_id == person_id)).first()


def raise_request(
    session: Session, actor: Actor, household: Household, person: Person, *, note=None, visit_id: int | None = None
) -> tuple[InstitutionRequest, bool]:
    """Record a person's wish as a request, once: an open one answers instead (created False)."""
    if person.household_id != household.id:
        raise NotFound()
    if household.kind == "institution":
        raise Invalid({"person_id": "已在供养机构的人员不需要再申请"})
    existing = open_request_of(session, person.id)
    if existing is not None:
        return existing, False
    request = InstitutionRequest(
        open_person_id=person.id,
        person_id=person.id,
        household_id=household.id,
        area_code=household.area_code,
        note=_note(note, "说明"),
        visit_id=visit_id,
        requested_by_id=actor.user.id,
    )
    try:
        with session.begin_nested():  # undoes only this insert
            session.add(request)
    except IntegrityError:  # the same wish was recorded at the same moment (a visit and an officer)
        return open_request_of(session, person.id), False
    if not household.wants_institutional_care:
        household.wants_institutional_care = True
        session.add(household)
    audit.record(session, actor, "institution.requested", request, household_id=household.id, visit_id=visit_id)
    return request, True


def raise_from_form(session: Session, actor: Actor, household: Household, form) -> tuple[InstitutionRequest, bool]:
    """Raise a request from the household page's form (an officer or the assistant heard the wish)."""
    require(actor.user, "institution.request", message="只有本村协理员和乡镇经办员可以登记集中供养申请")
    if household.status != "active":
        raise Invalid("这户已退出在册，不能再登记申请")
    person_id = small_int(form.get("person_id"))
    person = session.get(Person, person_id) if is_row_id(person_id) else None
    if person is None or person.household_id != household.id:
        raise Invalid({"person_id": "请选择这户的成员"})
    return raise_request(session, actor, household, person, note=form.get("note"))


# ---- deciding ------------------------------------------------------------------------------


def get_request_for(session: Session, user: User, request_id: int) -> InstitutionRequest:
    """Return a request whose village lies in the user's scope; otherwise 404."""
    request = session.get(InstitutionRequest, request_id) if is_row_id(request_id) else None
    if request is None or not is_in_scope(user, request.area_code):
        raise NotFound()
    return request


def _check_state(request: InstitutionRequest, expected: str, what: str) -> None:
    if request.status != expected:
        raise Invalid(f"这份申请{STATUSES[request.status]}，不能{what}")


def confirm(session: Session, actor: Actor, request: InstitutionRequest) -> None:
    """The township confirms the wish (it has checked the person and the family)."""
    require(actor.user, "institution.confirm", message="由乡镇经办员确认集中供养申请")
    _check_state(request, "requested", "确认")
    request.status, request.confirmed_at, request.confirmed_by_id = "confirmed", utcnow(), actor.user.id
    session.add(request)
    audit.record(session, actor, "institution.confirmed", request, household_id=request.household_id)


def decline(session: Session, actor: Actor, request: InstitutionRequest, reason) -> None:
    """The township (before confirming) or the county (before placing) declines, with a reason."""
    allowed = (request.status == "requested" and can(actor.user, "institution.confirm")) or (
        request.status == "confirmed" and can(actor.user, "institution.place")
    )
    if request.status not in OPEN:
        raise Invalid(f"这份申请{STATUSES[request.status]}，不能再处理")
    if not allowed:
        raise Invalid("待确认的申请由乡镇处理，已确认的由县（区）处理")
    request.decline_reason = _note(reason, "不予安置的原因", required=True)
    request.status, request.open_person_id = "declined", None
    request.declined_at, request.declined_by_id = utcnow(), actor.user.id
    session.add(request)
    _clear_wish_if_none_left(session, request.household_id)
    audit.record(session, actor, "institution.declined", request, household_id=request.household_id)


def institutions_for(session: Session, request: InstitutionRequest) -> list[tuple[Household, str]]:
    """Return the active institutions of the request's county, with their village names, to choose from."""
    county = _county(request.area_code)
    query = (
        select(Household, Area.name)
        .join(Area, Area.code == Household.area_code)
        .where(Household.kind == "institution", Household.status == "active", where_under(county, Household.area_code))
        .order_by(Household.area_code, Household.household_no)
    )
    return list(session.exec(query))


def place(session: Session, actor: Actor, request: InstitutionRequest, institution_id) -> Household:
    """The county places the person in one of its institutions: the person's record moves into its household."""
    require(actor.user, "institution.place", message="由县（区）民政局安置到供养机构")
    _check_state(request, "confirmed", "安置")
    chosen = small_int(institution_id)
    institution = session.get(Household, chosen) if is_row_id(chosen) else None
    if (
        institution is None
        or institution.kind != "institution"
        or institution.status != "active"
        or _county(institution.area_code) != _county(request.area_code)
        or not is_in_scope(actor.user, institution.area_code)
    ):
        raise Invalid({"institution_id": "请选择本县（区）的供养机构"})
    person = session.get(Person, request.person_id)
    old = session.get(Household, person.household_id)
    _move(session, person, institution)
    _end_agreements(session, person, old)  # the institution looks after the person now
    request.status, request.open_person_id = "placed", None
    request.institution_id, request.placed_at, request.placed_by_id = institution.id, utcnow(), actor.user.id
    session.add(request)
    audit.record(
        session, actor, "institution.placed", request, person_id=person.id, from_household=old.id, to=institution.id
    )
    left = session.exec(select(func.count()).select_from(Person).where(Person.household_id == old.id)).one()
    if left == 0 and old.status == "active":
        exit_household(session, actor, old, EMPTIED_REASON)
    _clear_wish_if_none_left(session, old.id)
    return institution


def _move(session: Session, person: Person, institution: Household) -> None:
    """Move a person's record into the institution's household; dispersed 特困 becomes 集中供养."""
    person.household_id, person.is_head, person.relation = institution.id, False, MOVED_RELATION
    session.add(person)
    categories = set(session.exec(select(PersonCategory.category).where(PersonCategory.person_id == person.id)))
    if "tekun_dispersed" in categories:
        session.exec(
            delete(PersonCategory).where(
                PersonCategory.person_id == person.id, PersonCategory.category == "tekun_dispersed"
            )
        )
        if "tekun_central" not in categories:
            session.add(PersonCategory(person_id=person.id, category="tekun_central"))
    now = utcnow()
    institution.updated_at = now
    session.add(institution)
    session.flush()


def _end_agreements(session: Session, person: Person, old: Household) -> None:
    query = select(CareAgreement).where(CareAgreement.person_id == person.id, CareAgreement.status == "active")
    for agreement in session.exec(query):
        agreement.status, agreement.ended_on, agreement.updated_at = "ended", today_in_china(), utcnow()
        session.add(agreement)
    session.flush()
    sync_flag(session, old)


def _clear_wish_if_none_left(session: Session, household_id: int) -> None:
    """Clear the household's 集中供养意愿 once no request of it is open any more."""
    household = session.get(Household, household_id)
    still = session.exec(
        select(InstitutionRequest.id).where(
            InstitutionRequest.household_id == household_id, InstitutionRequest.status.in_(OPEN)
        )
    ).first()
    if household.wants_institutional_care and still is None:
        household.wants_institutional_care = False
        household.updated_at = utcnow()
        session.add(household)


# ---- listing -------------------------------------------------------------------------------


@dataclass
class RequestRow:
    """What the list shows of one request."""

    request: InstitutionRequest
    person_name: str
    village: str
    waiting_days: int


def list_requests(
    session: Session, user: User, *, status: str, offset: int, limit: int, now: datetime | None = None
) -> tuple[list[RequestRow], bool]:
    """Return a page of the requests in the user's scope, oldest first (the open ones unless status says)."""
    query = select(InstitutionRequest).where(where_in_scope(user, InstitutionRequest.area_code))
    if status in STATUSES:
        query = query.where(InstitutionRequest.status == status)
    else:
        query = query.where(InstitutionRequest.status.in_(OPEN))
    query = query.order_by(InstitutionRequest.requested_at, InstitutionRequest.id)
    requests, has_more = page_of(session, query, offset=offset, limit=limit)
    if not requests:
        return [], False
    names = dict(
        session.exec(select(Person.id, Person.name).where(Person.id.in_({r.person_id for r in requests}))).all()
    )
    villages = dict(
        session.exec(select(Area.code, Area.name).where(Area.code.in_({r.area_code for r in requests}))).all()
    )
    now = now or utcnow()
    rows = [
        RequestRow(r, names.get(r.person_id, ""), villages.get(r.area_code, r.area_code), _days(now, r.requested_at))
        for r in requests
    ]
    return rows, has_more


def _days(now: datetime, then: datetime) -> int:
    return max((aware(now) - aware(then)).days, 0)


def for_household(session: Session, household: Household) -> list[InstitutionRequest]:
    """Return the requests raised in a household (or placed into it), newest first."""
    query = select(InstitutionRequest).where(
        (InstitutionRequest.household_id == household.id) | (InstitutionRequest.institution_id == household.id)
    )
    return list(session.exec(query.order_by(InstitutionRequest.requested_at.desc())))


def get_household_of_request(session: Session, user: User, request: InstitutionRequest) -> Household:
    """Return the household the request was raised in (scope-checked)."""
    return get_household_for(session, user, request.household_id)
