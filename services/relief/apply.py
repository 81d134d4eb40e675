"""Raising a temporary-relief application: checked at the edge, stored once per UUID."""

import hashlib
import json

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from werkzeug.exceptions import NotFound

from models import Need, Person, ReliefApplication, User, utcnow
from services import audit
from services.api.schemas import ReliefIn
from services.audit import Actor
from services.registry.households import get_household_for
from services.relief.machine import Decision, NotAllowed, ReliefError, StaleVersion, decide, township_of
from services.relief.rules import REASONS, STATES, AmountError, yuan_to_fen
from services.scope import is_in_scope

RAISERS = ("assistant", "township")
EDITABLE = ("draft", "returned")


class ReliefConflict(ValueError):
    """The application UUID was used before for different content."""


def fingerprint(payload: ReliefIn) -> str:
    """Return a fingerprint of what was submitted, to tell a replay from a different application."""
    canonical = json.dumps(payload.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def create_application(session: Session, actor: Actor, payload: ReliefIn) -> tuple[ReliefApplication, bool]:
    """Store a new application (and submit it unless kept as a draft); a replayed UUID answers the stored one."""
    digest = fingerprint(payload)
    existing = session.exec(select(ReliefApplication).where(ReliefApplication.uuid == str(payload.uuid))).first()
    if existing is not None:
        return _replay(session, actor.user, existing, digest), False
    if actor.user.role not in RAISERS:
        raise NotAllowed("只有村协理员和乡镇经办员可以提出临时救助申请")
    household = get_household_for(session, actor.user, payload.household_id)
    if household.status != "active":
        raise ReliefError("这户已退出在册，不能再申请")
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
    session.add(application)
    try:
        session.flush()
    except IntegrityError:  # the same UUID arrived twice at once
        session.rollback()
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
        raise ReliefConflict("这份申请已经提交过，内容与已保存的不同")
    return application


def _need_of(session: Session, household_id: int, need_id: int | None) -> int | None:
    """Keep the link to a 临时救助 need only if it belongs to this household."""
    if need_id is None:
        return None
    need = session.get(Need, need_id)
    return need.id if need is not None and need.household_id == household_id else None


def can_edit(user: User, application: ReliefApplication) -> bool:
    """Tell whether the user may change the application: its creator, while it is a draft or was returned."""
    return application.created_by_id == user.id and application.state in EDITABLE


def update_application(
    session: Session, actor: Actor, application: ReliefApplication, payload: ReliefIn, version: int
) -> ReliefApplication:
    """Change a draft or returned application's content (its creator only), then submit it unless kept a draft."""
    if version != application.version:
        raise StaleVersion(f"这份申请已被处理，现在是“{STATES[application.state]}”，请刷新后再看")
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
    if result.rowcount != 1:
        session.rollback()
        raise StaleVersion("这份申请刚被别人改过，请刷新后再看")
    session.refresh(application)
    audit.record(session, actor, "relief.edited", application, amount_fen=amount, urgent=payload.urgent)
    if payload.submit:
        decide(session, actor, application, Decision(action="submit", version=application.version))
    return application


def _checked_content(session: Session, household_id: int, payload: ReliefIn) -> tuple[Person, int]:
    """Check who the application is for, why and how much; return (person, amount in fen) or raise ReliefError."""
    person = session.get(Person, payload.person_id)
    if person is None or person.household_id != household_id:
        raise ReliefError("请选择这户家庭里的成员")
    if payload.reason not in REASONS:
        raise ReliefError("请选择救助原因")
    try:
        return person, yuan_to_fen(payload.amount_yuan)
    except AmountError as problem:
        raise ReliefError(str(problem)) from None
