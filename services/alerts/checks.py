"""How alerts end: a visit that checks one (and closes the household's visit-overdue ones), or an officer closing it.

A check records the outcome, the visit and any 转介, moves the alert checked → closed at once (the outcome is the
decision) and frees its open_key, so the rule may raise a new alert should the same trouble come back.
"""

from sqlalchemy import update
from sqlmodel import Session, select

from models import Alert, Household, Visit, utcnow
from services import audit
from services.alerts.outcomes import NO_OUTCOME, NO_REFERRAL, NOTE_MAX, NOTE_REQUIRED, OPEN_STATES, OUTCOMES, REFERRALS
from services.errors import Conflict, Invalid, NotAllowed
from services.inputs import text_problem
from services.permissions import can

# a visit answers these rules by itself: the household has been seen
VISIT_ANSWERS = ("must_visit_overdue", "alone_no_contact_90", "urgent_no_follow_up")
VISITED_NOTE = "已走访"
NOT_THIS_HOUSEHOLD = "这条预警不是这户的，请从预警页面打开这户的走访"
ALREADY_CLOSED = "这条预警已经办结，不用再核实"


def check_with_visit(session: Session, actor: audit.Actor, visit: Visit, household: Household, payload) -> None:
    """Close the alert the visit checks (refusing one of another household or closed), then what the visit answers.

    Called by record_visit once the visit is in the session: a refusal here is raised before this module writes
    anything, and the caller's rollback (the API's, or the outbox import's savepoint) takes the visit with it.
    """
    alert = None
    if payload.alert_id is not None:
        alert = session.get(Alert, payload.alert_id)
        if alert is None or alert.household_id != household.id:
            raise Invalid({"alert_id": NOT_THIS_HOUSEHOLD}, code="alert_mismatch")
        if alert.state not in OPEN_STATES:
            raise Conflict(ALREADY_CLOSED, code="alert_closed")
        _check(session, actor, alert, payload.alert_outcome, payload.alert_note, payload.alert_referral_to, visit)
    _close_answered(session, actor, visit, household, skip=alert.id if alert else None)
    from services.alerts import engine  # here: the rules read visit schedules, which import the visits module

    engine.run_cheap(session, actor, "visit", engine.VISIT_RULES)  # 家人说没到账 may just have been noted


def _check(session, actor, alert: Alert, outcome: str, note: str | None, referral_to: str | None, visit=None):
    now = utcnow()
    alert.outcome, alert.outcome_note, alert.referral_to = outcome, note, referral_to
    alert.visit_id = visit.id if visit else None
    alert.checked_at = alert.closed_at = now
    alert.state, alert.closed_by_id, alert.open_key = "closed", actor.user.id if actor.user else None, None
    session.add(alert)
    detail = {"outcome": outcome, "household_id": alert.household_id}
    if referral_to:
        detail["referral_to"] = referral_to
    if visit is not None:
        audit.record(session, actor, "alert.checked", alert, visit_id=visit.id, **detail)
    action = "alert.excluded" if outcome == "excluded" else "alert.closed"
    audit.record(session, actor, action, alert, by_visit=visit is not None, **detail)


def _close_answered(session: Session, actor, visit: Visit, household: Household, skip: int | None) -> None:
    """Close the household's open visit-overdue alerts: resolved by this visit; one audit event for each."""
    query = select(Alert.id).where(
        Alert.household_id == household.id, Alert.rule.in_(VISIT_ANSWERS), Alert.state.in_(OPEN_STATES)
    )
    ids = [i for i in session.exec(query) if i != skip]
    if not ids:
        return
    now = utcnow()
    values = {
        "state": "closed",
        "outcome": "resolved",
        "outcome_note": VISITED_NOTE,
        "visit_id": visit.id,
        "checked_at": now,
        "closed_at": now,
        "closed_by_id": actor.user.id if actor.user else None,
        "open_key": None,
    }
    statement = update(Alert).where(Alert.id.in_(ids)).values(**values).execution_options(synchronize_session=False)
    session.execute(statement)
    for alert_id in ids:
        audit.record(session, actor, "alert.closed", Alert(id=alert_id), outcome="resolved", visit_id=visit.id)


def parse_close_form(form) -> dict:
    """Read an officer's 办结 form (outcome, referral_to, note); raise Invalid naming each wrong field."""
    outcome = (form.get("outcome") or "").strip()
    referral_to = (form.get("referral_to") or "").strip() or None
    note = (form.get("note") or "").strip() or None
    errors = {}
    if outcome not in OUTCOMES:
        errors["outcome"] = NO_OUTCOME
    if outcome == "referral" and referral_to not in REFERRALS:
        errors["referral_to"] = NO_REFERRAL
    if outcome != "referral":
        referral_to = None
    if note is not None and len(note) > NOTE_MAX:
        errors["note"] = f"说明最多 {NOTE_MAX} 个字"
    elif note is not None and text_problem(note, "说明"):
        errors["note"] = text_problem(note, "说明")
    elif note is None and outcome in NOTE_REQUIRED:
        errors["note"] = NOTE_REQUIRED[outcome]
    if errors:
        raise Invalid(errors)
    return {"outcome": outcome, "referral_to": referral_to, "note": note}


def close(session: Session, actor: audit.Actor, alert: Alert, values: dict) -> None:
    """Close an alert without a visit (a township or county officer): outcome, note, and where it was referred."""
    if not can(actor.user, "alerts.close"):
        raise NotAllowed()
    if alert.state not in OPEN_STATES:
        raise Conflict(ALREADY_CLOSED, code="alert_closed")
    _check(session, actor, alert, values["outcome"], values["note"], values["referral_to"])
