"""Alerts planted straight into the test world, and a visit that checks one, for the alert life and page tests."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from models import Alert

NOW = datetime.now(UTC)


def add_alert(
    session,
    household,
    rule="must_visit_overdue",
    *,
    grade="red",
    state="assigned",
    level="village",
    due=None,
    assigned_to=None,
    reason="八必访对象，已逾期 5 天",
) -> Alert:
    """Add an alert about a household (assigned to its assistant unless told), committed."""
    item = Alert(
        open_key=None if state == "closed" else f"{rule}:h{household.id}",
        rule=rule,
        grade=grade,
        area_code=household.area_code,
        household_id=household.id,
        reason=reason,
        state=state,
        level=level,
        raised_at=NOW - timedelta(days=1),
        due_at=due or NOW + timedelta(days=3),
        assigned_to_id=assigned_to if assigned_to is not None else household.assistant_id,
    )
    session.add(item)
    session.commit()
    return item


def check_visit(household, alert=None, **fields) -> dict:
    """A visit's JSON that checks the alert; fields add or override (alert_outcome …)."""
    body = {"uuid": str(uuid4()), "household_id": household.id, "kind": "routine"}
    if alert is not None:
        body["alert_id"] = alert.id
    body.update(fields)
    return body
