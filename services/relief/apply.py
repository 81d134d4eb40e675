"""Raising and editing a temporary-relief application: checked at the edge, stored once per UUID."""

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models import Household, Need, Person, ReliefApplication, ReliefEvent, User, utcnow
from services import audit
from services.api.relief_schemas import ReliefIn
from services.api.schemas import fingerprint
from services.audit import Actor
from services.errors import Conflict, Invalid, NotAllowed, NotFound, Stale
from services.money import yuan_to_fen
from services.permissions import can, require
from services.registry.areas import area_names
from services.registry.households import check_active, get_household_for
from services.relief.machine import Decision, decide, stale_refusal, township_of
from services.relief.rules import EDITABLE, REASONS, UNDECIDED, refused
from services.scope import is_in_scope


def create_application(session: Session, actor: Actor, payload: ReliefIn) -> tuple[ReliefApplication, bool]:
    """Store a new application (and submit it unless kept as a draft); a replayed UUID answers the stored one."""
    digest = fingerprint(payload)
    existing = session.exec(select(ReliefApplication).where(ReliefApplication.uuid == str(payload.uuid))).first()
    if existing is not None:
        return _replay(session, actor.user, existing, digest), False
    require(actor.user, "relief.raise", message="只有村协理员和乡镇经办员可以提出临时救助申请")
    household = get_household_for(session, actor.user, payload.household_id)
    try:
        check_active(household, "申请")
    except Invalid as problem:
        raise refused(str(problem)) from None
    person, amount = _checked_content(session, household.id, payload)
    need_id = _need_of(session, household.id, payload.need_id)
    application = ReliefApplication(
        uuid=str(payload.uuid),
        content_hash=digest,
        household_id=household.id,
        person_id=person.id,
        area_code=household.area_code,
        township_code=township_of(household.area_code),
        reason=payload.reason,
        circumstances=payload.circumstances.strip(),
        amount_requested_fen=amount,
        payment_form=payload.payment_form,
        urgent=payload.urgent,
        need_id=need_id,
        created_by_id=actor.user.id,
    )
    try:
        with session.begin_nested():  # undoes only this insert
            session.add(application)
    except IntegrityError:  # the same UUID arrived twice at once
        again = session.exec(select(ReliefApplication).where(ReliefApplication.uuid == str(payload.uuid))).one()
        return _replay(session, actor.user, again, digest), False
    audit.record(session, actor, "relief.created", application, amount_fen=amount, urgent=payload.urgent)
    if payload.submit:
        decide(session, actor, application, Decision(action="submit", version=application.version))
    return application, True


def _replay(session: Session, user: User, application: ReliefApplication, digest: str) -> ReliefApplication:
    if not is_in_scope(user, application.area_code):
        raise NotFound()
    if application.content_hash != digest:
        raise Conflict("这份申请已经提交过，内容与已保存的不同", code="relief_conflict")
    return application


def _need_of(session: Session, household_id: int, need_id: int | None) -> int | None:
    """Keep the link to a 临时救助 need only if it belongs to this household."""
    if need_id is None:
        return None
    need = session.get(Need, need_id)
    return need.id if need is not None and need.household_id == household_id else None


def can_edit(user: User, application: ReliefApplication) -> bool:
    """Tell whether the user may change the application: its writer, while it is a draft or was returned."""
    return application.state in EDITABLE and can(user, "relief.edit", application)


def update_application(
    session: Session, actor: Actor, application: ReliefApplication, payload: ReliefIn, version: int
) -> ReliefApplication:
    """Change a draft or returned application's content (its creator only), then submit it unless kept a draft."""
    if version != application.version:
        raise stale_refusal(application.state, application.version)
    if not can_edit(actor.user, application):
        raise NotAllowed("只有提出申请的人可以修改草稿或退回的申请")
    person, amount = _checked_content(session, application.household_id, payload)
    fields = {
        "person_id": person.id,
        "reason": payload.reason,
        "circumstances": payload.circumstances.strip(),
        "amount_requested_fen": amount,
        "payment_form": payload.payment_form,
        "urgent": payload.urgent,
    }
    # the same version check as every transition: two edits of one draft at once cannot both land
    result = session.execute(
        update(ReliefApplication)
        .where(ReliefApplication.id == application.id, ReliefApplication.version == version)
        .values(**fields, version=version + 1, updated_at=utcnow())
    )
    if result.rowcount != 1:  # nothing was written: there is nothing to undo
        raise Stale("这份申请刚被别人改过，请刷新后再看")
    session.refresh(application)
    audit.record(session, actor, "relief.edited", application, amount_fen=amount, urgent=payload.urgent)
    if payload.submit:
        decide(session, actor, application, Decision(action="submit", version=application.version))
    return application


def _checked_content(session: Session, household_id: int, payload: ReliefIn) -> tuple[Person, int]:
    """Check who the application is for, why and how much; return (person, amount in fen) or refuse."""
    person = session.get(Person, payload.person_id)
    if person is None or person.household_id != household_id:
        raise refused("请选择这户家庭里的成员")
    if payload.reason not in REASONS:  # the schema's enum says so too; a form or a test may build a payload by hand
        raise refused("请选择救助原因")
    try:
        return person, yuan_to_fen(payload.amount_yuan)
    except Invalid as problem:
        raise refused(str(problem)) from None


def follow_household(session: Session, actor: Actor, household: Household) -> list[ReliefApplication]:
    """Move the household's undecided applications to its new village and township, recorded in their history.

    A household the county moved must be decided by its new township; one already decided stays where it was
    decided, as that township's record (its reserve paid for it). The version goes up: an officer who opened
    the application before the move must look again.
    """
    query = select(ReliefApplication).where(
        ReliefApplication.household_id == household.id,
        ReliefApplication.state.in_(UNDECIDED),
        ReliefApplication.area_code != household.area_code,
    )
    moved = list(session.exec(query))
    township = township_of(household.area_code)
    names = area_names(session, {household.area_code, township})
    for application in moved:
        old_area, old_township = application.area_code, application.township_code
        application.area_code, application.township_code = household.area_code, township
        application.version += 1
        application.updated_at = utcnow()
        session.add(application)
        village, township_name = names.get(household.area_code, household.area_code), names.get(township, township)
        comment = f"住户迁至{village}，转由{township_name}办理"
        session.add(
            ReliefEvent(
                application_id=application.id,
                user_id=actor.user.id,
                action="moved",
                from_state=application.state,
                to_state=application.state,
                comment=comment,
            )
        )
        detail = {"from_area": old_area, "to_area": household.area_code, "from_township": old_township}
        audit.record(session, actor, "relief.moved", application, **detail)
    return moved
