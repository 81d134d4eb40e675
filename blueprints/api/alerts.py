"""GET /api/v1/alerts: the 主动发现 alerts in the user's scope, filtered by state and household, a page at a time."""

from flask import request, url_for
from flask_login import current_user

from blueprints import page_number
from blueprints.api.core import route
from db import get_session
from services.alerts import listing
from services.alerts.rules import RULES
from services.api import openapi
from services.api.alert_schemas import AlertListOut, AlertOut
from services.permissions import require

PAGE_SIZE = 50


@route(openapi.ALERTS)
def alert_list():
    """List one page of alerts in scope, red first; ?state= and ?household_id= narrow it."""
    require(current_user, "alerts.view")
    state, household_id = listing.parse_filters(request.args.get("state"), request.args.get("household_id"))
    number = page_number()
    rows, more = listing.page(
        get_session(), current_user, state, household_id, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    following = None
    if more:
        args = {key: value for key, value in (("state", state), ("household_id", household_id)) if value}
        following = url_for("api.alerts", page=number + 1, **args)
    items = [_item(alert) for alert in rows]
    return AlertListOut(items=items, next=following).model_dump(mode="json")


def _item(alert) -> AlertOut:
    rule = RULES.get(alert.rule)
    return AlertOut(
        id=alert.id,
        rule=alert.rule,
        rule_label=rule.label if rule else alert.rule,
        grade=alert.grade,
        household_id=alert.household_id,
        person_id=alert.person_id,
        candidate_id=alert.candidate_id,
        area_code=alert.area_code,
        reason=alert.reason,
        due_at=alert.due_at,
        state=alert.state,
        level=alert.level,
    )
