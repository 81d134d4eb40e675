"""The temporary-relief state machine: every transition, who may make it, and its checks, in one place.

draft/returned --submit--> submitted --approve (≤ township limit, township reserve)--> approved --pay--> paid
submitted --forward--> forwarded --approve (county)--> approved;  submitted/forwarded --reject--> rejected
submitted/forwarded --return--> returned.  Each transition names the version it saw; a stale one is refused.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, select
from werkzeug.exceptions import NotFound

from models import ReliefApplication, ReliefEvent, TownshipFund, User, utcnow
from services import audit
from services.audit import Actor
from services.registry.households import get_household_for
from services.relief.rules import ACTIONS, PAYMENT_FORMS, STATES, AmountError, fen_to_yuan, yuan_to_fen
from services.scope import is_in_scope

OFFICERS = ("township", "county")


class ReliefError(ValueError):
    """A transition that is not allowed or not valid; str() says why, for the officer."""


class NotAllowed(ReliefError):
    """The user may not make this transition (HTTP 403)."""


class StaleVersion(ReliefError):
    """Someone else moved the application first (HTTP 409)."""


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


def get_application_for(session: Session, user: User, application_id: int) -> ReliefApplication:
    """Return an application whose household is in the user's scope; otherwise 404."""
    application = session.get(ReliefApplication, application_id)
    if application is None:
        raise NotFound()
    get_household_for(session, user, application.household_id)
    return application


def allowed_actions(session: Session, user: User, application: ReliefApplication) -> list[str]:
    """Return the actions this user may take on the application now (buttons follow this, the server checks)."""
    return [action for action in ACTIONS if _refusal(session, user, application, action) is None]


def _refusal(session: Session, user: User, application: ReliefApplication, action: str) -> str | None:
    """Return why the user may not take the action now, or None when they may."""
    if not is_in_scope(user, application.area_code):
        return "这份申请不在您的辖区"
    state, role = application.state, user.role
    if action == "submit":
        return None if state in ("draft", "returned") and role in ("assistant", "township") else "现在不能提交"
    if action in ("approve", "reject", "return"):
        if state == "submitted" and role == "township":
            if action == "approve" and application.amount_requested_fen > approval_limit_fen(
                session, application.township_code
            ):
                return "金额超过乡镇审批额度，请报县级审批"
            return None
        if state == "forwarded" and role == "county":
            return None
        return "您现在不能审批这份申请"
    if action == "forward":
        return None if state == "submitted" and role == "township" else "现在不能报县级审批"
    if action == "pay":
        return None if state == "approved" and role in OFFICERS else "现在不能登记发放"
    if action == "complete_paperwork":
        pending = application.paperwork_due_at is not None and application.paperwork_done_at is None
        return None if pending and role in OFFICERS else "没有待补的材料"
    return "不认识的操作"


def decide(session: Session, actor: Actor, application: ReliefApplication, decision: Decision) -> ReliefApplication:
    """Make one transition, or refuse it and change nothing (the caller commits or rolls back)."""
    user = actor.user
    if decision.action not in ACTIONS:
        raise ReliefError("不认识的操作")
    if decision.version != application.version:
        raise StaleVersion(f"这份申请已被处理，现在是“{STATES[application.state]}”，请刷新后再看")
    why_not = _refusal(session, user, application, decision.action)
    if why_not:
        raise NotAllowed(why_not)
    comment = (decision.comment or "").strip()[:500] or None
    changes, amount = _changes_for(session, user, application, decision, comment)
    before = application.state  # read now: the UPDATE in _move also refreshes the object in memory
    _move(session, application, decision.version, changes)
    if decision.action == "approve" and user.role == "township":
        # after the move: a second officer waits on the application's row and is told it was handled,
        # rather than that the money ran out because the first one's draw got there before
        _draw_reserve(session, application.township_code, amount)
    session.add(
        ReliefEvent(
            application_id=application.id,
            user_id=user.id,
            action=decision.action,
            from_state=before,
            to_state=changes.get("state", before),
            amount_fen=amount,
            comment=comment,
        )
    )
    audit.record(session, actor, f"relief.{decision.action}", application, amount_fen=amount, comment=comment)
    session.refresh(application)
    return application


def _changes_for(session, user, application, decision: Decision, comment) -> tuple[dict, int | None]:
    """Check the decision's details and return the columns to change and the amount involved."""
    now = utcnow()
    action = decision.action
    if action == "submit":
        return {"state": "submitted"}, application.amount_requested_fen
    if action in ("reject", "return", "forward") and not comment:
        raise ReliefError(
            {"reject": "不批准请写明理由", "return": "退回请写明需要补充什么", "forward": "报县级请写明乡镇意见"}[
                action
            ]
        )
    if action == "reject":
        return {"state": "rejected", "decided_at": now, "decided_level": user.role}, None
    if action == "return":
        return {"state": "returned"}, None
    if action == "forward":
        return {"state": "forwarded"}, application.amount_requested_fen
    if action == "approve":
        return _approval(session, user, application, decision, comment, now)
    if action == "pay":
        if decision.payment_method not in PAYMENT_FORMS:
            raise ReliefError("请选择发放方式：一卡通、现金或实物")
        reference = (decision.payment_reference or "").strip()[:64] or None
        changes = {
            "state": "paid",
            "paid_at": now,
            "paid_by_id": user.id,
            "payment_method": decision.payment_method,
            "payment_reference": reference,
        }
        return changes, application.amount_approved_fen
    return {"paperwork_done_at": now}, None  # complete_paperwork


def _approval(session, user, application, decision: Decision, comment, now) -> tuple[dict, int]:
    try:
        amount = yuan_to_fen(decision.amount_yuan) if decision.amount_yuan else application.amount_requested_fen
    except AmountError as problem:
        raise ReliefError(str(problem)) from None
    if amount > application.amount_requested_fen:
        raise ReliefError("批准金额不能高于申请金额")
    if amount < application.amount_requested_fen and not comment:
        raise ReliefError("降低金额时请写明理由")
    changes = {"state": "approved", "amount_approved_fen": amount, "decided_at": now, "decided_level": user.role}
    if user.role == "township":
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
        balance = fen_to_yuan(left or 0)
        raise ReliefError(f"乡镇备用金余额不足：还剩 {balance} 元，不够批准这笔救助")


def _move(session: Session, application: ReliefApplication, version: int, changes: dict) -> None:
    """Apply the changes only if nobody moved the application since `version` (optimistic locking)."""
    values = {**changes, "version": version + 1, "updated_at": utcnow()}
    result = session.execute(
        update(ReliefApplication)
        .where(ReliefApplication.id == application.id, ReliefApplication.version == version)
        .values(**values)
    )
    if result.rowcount != 1:
        session.rollback()
        current = session.get(ReliefApplication, application.id)
        raise StaleVersion(f"这份申请已被处理，现在是“{STATES[current.state]}”，请刷新后再看")


def history(session: Session, application: ReliefApplication) -> list[ReliefEvent]:
    """Return the application's transitions, oldest first."""
    query = select(ReliefEvent).where(ReliefEvent.application_id == application.id).order_by(ReliefEvent.id)
    return list(session.exec(query))
