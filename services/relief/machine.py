"""The temporary-relief state machine: every transition, who may make it, and its checks, in one place.

draft/returned --submit--> submitted --approve (≤ township limit, township reserve)--> approved --pay--> paid
submitted --forward--> forwarded --approve (county)--> approved;  submitted/forwarded --reject--> rejected
submitted/forwarded --return--> returned.  Each transition names the version it saw; a stale one is refused.
The steps themselves (labels, states, capabilities) are the table in rules.py.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from models import ReliefApplication, ReliefEvent, TownshipFund, User, utcnow
from services import audit
from services.audit import Actor
from services.errors import Invalid, NotAllowed, NotFound, Stale
from services.money import yuan, yuan_to_fen
from services.permissions import can
from services.registry.households import get_household_for
from services.relief.rules import ACTIONS, PAYMENT_FORMS, STATES, Action, refused, stale_message
from services.scope import is_in_scope

MAX_COMMENT = 500
MAX_REFERENCE = 64


@dataclass(frozen=True)
class Decision:
    """What an officer asks for: the action, the version they saw, and its details."""

    action: str
    version: int
    amount_yuan: str | None = None
    comment: str | None = None
    payment_method: str | None = None
    payment_reference: str | None = None


def township_of(area_code: str) -> str:
    """Return the 12-digit code of the township a village belongs to."""
    return area_code[:9] + "000"


def fund_for(session: Session, township_code: str) -> TownshipFund | None:
    """Return the township's approval limit and reserve fund row."""
    return session.get(TownshipFund, township_code)


def approval_limit_fen(session: Session, township_code: str) -> int:
    """Return the township's approval limit (1,000 元 unless its county or the city set another)."""
    fund = fund_for(session, township_code)
    return fund.approval_limit_fen if fund else TownshipFund.model_fields["approval_limit_fen"].default


def has_reserve(fund: TownshipFund | None) -> bool:
    """Tell whether the township's approvals draw on a reserve: only once its county has set one (above 0)."""
    return fund is not None and fund.reserve_fen > 0


def get_application_for(
    session: Session, user: User, application_id: int, capability: str | None = None
) -> ReliefApplication:
    """Return an application whose household is in the user's scope (else 404); with a capability, 403 without it."""
    application = session.get(ReliefApplication, application_id)
    if application is None:
        raise NotFound()
    get_household_for(session, user, application.household_id)
    if capability is not None and not can(user, capability, application):
        raise NotAllowed()
    return application


def allowed_actions(session: Session, user: User, application: ReliefApplication) -> list[str]:
    """Return the actions this user may take on the application now (buttons follow this, the server checks)."""
    return [code for code, action in ACTIONS.items() if _refusal(session, user, application, action) is None]


def _refusal(session: Session, user: User, application: ReliefApplication, action: Action) -> str | None:
    """Return why the user may not take the action now, or None when they may."""
    if not is_in_scope(user, application.area_code):
        return "这份申请不在您的辖区"
    if action.from_states:
        ready = application.state in action.from_states
    else:  # complete_paperwork: an urgent grant whose paperwork is still to come
        ready = application.paperwork_due_at is not None and application.paperwork_done_at is None
    if not ready or not can(user, action.capability):
        return action.refusal
    if not can(user, action.capability, application):
        return "只有提出申请的人或乡镇经办员可以提交这份申请" if action.code == "submit" else action.refusal
    if action.code == "approve" and application.state == "submitted":  # at the township: its limit, its reserve
        if application.amount_requested_fen > approval_limit_fen(session, application.township_code):
            return "金额超过乡镇审批额度，请报县级审批"
        fund = fund_for(session, application.township_code)
        if has_reserve(fund) and fund.balance_fen <= 0:
            return "乡镇备用金已用完，请联系县（区）民政局追加备用金，或报县级审批"
    return None


def decide(session: Session, actor: Actor, application: ReliefApplication, decision: Decision) -> ReliefApplication:
    """Make one transition, or refuse it and change nothing (the caller commits)."""
    action = ACTIONS.get(decision.action)
    if action is None:
        raise refused("不认识的操作")
    if decision.version != application.version:
        raise stale_refusal(application.state, application.version)
    why_not = _refusal(session, actor.user, application, action)
    if why_not:
        _refuse_if_moved(session, application)
        raise NotAllowed(why_not)
    comment = (decision.comment or "").strip() or None
    if comment and len(comment) > MAX_COMMENT:  # said, never cut: the officer must know what was kept
        raise refused(f"意见最多 {MAX_COMMENT} 个字，现在有 {len(comment)} 个字")
    changes, amount = _changes_for(session, actor.user, application, decision, comment)
    before, township = application.state, application.township_code  # read now: _move refreshes the object
    with session.begin_nested():  # a refused reserve draw undoes the move too, and nothing of the caller's
        _move(session, application, decision.version, changes)
        if action.code == "approve" and before == "submitted" and has_reserve(fund_for(session, township)):
            # after the move: a second officer waits on the application's row and is told it was handled,
            # rather than that the money ran out because the first one's draw got there before
            _draw_reserve(session, township, amount)
    _record(session, actor, application, action, before, changes, amount, comment)
    session.refresh(application)
    return application


def _record(session, actor: Actor, application, action: Action, before: str, changes: dict, amount, comment) -> None:
    """Write the transition to the application's history and the audit trail."""
    taken_over = action.code == "submit" and application.created_by_id != actor.user.id
    session.add(
        ReliefEvent(
            application_id=application.id,
            user_id=actor.user.id,
            action=action.code,
            from_state=before,
            to_state=changes.get("state", before),
            amount_fen=amount,
            comment=comment or ("乡镇经办员代为提交" if taken_over else None),
        )
    )
    detail = {"amount_fen": amount, "comment": comment}
    if taken_over:  # a township officer submitted a draft someone else wrote
        detail["taken_over_from"] = application.created_by_id
    audit.record(session, actor, f"relief.{action.code}", application, **detail)


def _changes_for(session, user, application, decision: Decision, comment) -> tuple[dict, int | None]:
    """Check the decision's details and return the columns to change and the amount involved."""
    now = utcnow()
    action = ACTIONS[decision.action]
    if action.comment_label and not comment:
        raise refused(action.comment_missing)
    changes = {"state": action.to_state} if action.to_state else {}
    if action.code in ("submit", "forward"):
        return changes, application.amount_requested_fen
    if action.code == "reject":
        return {**changes, "decided_at": now, "decided_level": user.role}, None
    if action.code == "approve":
        return _approval(session, user, application, decision, comment, now)
    if action.code == "pay":
        if decision.payment_method not in PAYMENT_FORMS:
            raise refused("请选择发放方式：一卡通、现金或实物")
        reference = (decision.payment_reference or "").strip() or None
        if reference and len(reference) > MAX_REFERENCE:
            raise refused(f"凭证号最多 {MAX_REFERENCE} 个字符")
        paid = {"paid_at": now, "paid_by_id": user.id, "payment_method": decision.payment_method}
        return {**changes, **paid, "payment_reference": reference}, application.amount_approved_fen
    if action.code == "complete_paperwork":
        return {"paperwork_done_at": now}, None
    return changes, None  # return


def _approval(session, user, application, decision: Decision, comment, now) -> tuple[dict, int]:
    try:
        amount = yuan_to_fen(decision.amount_yuan) if decision.amount_yuan else application.amount_requested_fen
    except Invalid as problem:
        raise refused(str(problem)) from None
    if amount > application.amount_requested_fen:
        raise refused("批准金额不能高于申请金额")
    if amount < application.amount_requested_fen and not comment:
        raise refused("降低金额时请写明理由")
    changes = {"state": "approved", "amount_approved_fen": amount, "decided_at": now, "decided_level": user.role}
    if application.state == "submitted":  # decided at the township, within its limit and from its reserve
        if amount > approval_limit_fen(session, application.township_code):
            raise NotAllowed("金额超过乡镇审批额度，请报县级审批")
        if application.urgent:
            fund = fund_for(session, application.township_code)
            days = fund.paperwork_days if fund else TownshipFund.model_fields["paperwork_days"].default
            changes["paperwork_due_at"] = now + timedelta(days=days)
    return changes, amount


def _draw_reserve(session: Session, township_code: str, amount: int) -> None:
    """Take the amount from the township's reserve in one conditional UPDATE: never below zero."""
    result = session.execute(
        update(TownshipFund)
        .where(TownshipFund.area_code == township_code, TownshipFund.balance_fen >= amount)
        .values(balance_fen=TownshipFund.balance_fen - amount)
    )
    if result.rowcount != 1:
        # a fresh read: the fund object in the session may predate another officer's committed draw
        left = session.exec(select(TownshipFund.balance_fen).where(TownshipFund.area_code == township_code)).first()
        balance = yuan(left or 0)
        raise refused(f"乡镇备用金余额不足：还剩 {balance} 元，不够批准这笔救助")


def _move(session: Session, application: ReliefApplication, version: int, changes: dict) -> None:
    """Apply the changes only if nobody moved the application since `version` (optimistic locking)."""
    values = {**changes, "version": version + 1, "updated_at": utcnow()}
    result = session.execute(
        update(ReliefApplication)
        .where(ReliefApplication.id == application.id, ReliefApplication.version == version)
        .values(**values)
    )
    if result.rowcount != 1:
        now = session.exec(
            select(ReliefApplication.state, ReliefApplication.version).where(ReliefApplication.id == application.id)
        ).one()
        raise stale_refusal(*now)


def _refuse_if_moved(session: Session, application: ReliefApplication) -> None:
    """Say it was handled when another officer moved the application meanwhile: their approval just emptied the
    reserve, and "备用金已用完" would tell this officer the wrong story (a fresh read, not the session's copy)."""
    fresh = session.exec(
        select(ReliefApplication.state, ReliefApplication.version).where(ReliefApplication.id == application.id)
    ).first()
    if fresh is not None and fresh[1] != application.version:
        raise stale_refusal(*fresh)


def stale_refusal(state: str, version: int) -> Stale:
    """Return the refusal of a decision on a version someone else already moved on, with the state now."""
    return Stale(stale_message(state), detail={"state": state, "state_label": STATES[state], "version": version})


def history(session: Session, application: ReliefApplication) -> list[ReliefEvent]:
    """Return the application's transitions, oldest first."""
    query = select(ReliefEvent).where(ReliefEvent.application_id == application.id).order_by(ReliefEvent.id)
    return list(session.exec(query))
