"""The visit form (filled at the door, sent to the JSON API by static/js/visit.js) and a visit's page."""

import json

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user, login_required

from blueprints import scan_id_for
from db import get_session
from models import utcnow
from services.alerts import listing as alert_listing
from services.alerts.outcomes import OPEN_STATES, OUTCOMES, REFERRALS
from services.campaigns import campaigns
from services.care import self_care
from services.errors import NotFound
from services.inputs import small_int
from services.names import household_label
from services.registry import households
from services.visits import visits
from services.visits.rules import (
    CHANGES,
    CHECKLIST,
    KINDS,
    NEED_STATUSES,
    NEED_TYPES,
    PHOTO_CAPTIONS,
    RISKS,
    SELF_CHECKS,
    self_checks_for,
)

bp = Blueprint("visits", __name__)

MAX_PHOTOS = 9
EMPTY_NEED_ROWS = 3  # without JavaScript nobody can add a row, so offer a few


@bp.route("/households/<int:household_id>/visits/new")
@login_required
def new(household_id: int):
    """Show the visit form; each opening gets a new visit UUID, so a submit is never counted twice."""
    session = get_session()
    household = households.get_household_for(session, current_user, household_id)
    back_url = url_for("households.show", household_id=household.id)
    label = household_label(session, household)
    if not households.is_active(household):
        return render_template(
            "visits/closed.html", household=household, label=label, back_url=back_url, personal_data=True
        ), 409
    members = households.members_with_categories(session, household)
    categories = {category for _person, cats in members for category in cats}
    head = next((person.name for person, _cats in members if person.is_head), None)
    alert_check = _alert_check(session, household)
    asked = request.args.get("kind")
    kind = asked if asked in KINDS else campaigns.visit_kind_for(session, household)
    return render_template(
        "visits/form.html",
        household=household,
        label=label,
        head=head,
        scan_id=scan_id_for(household.id),
        kind=kind,
        kinds=KINDS,
        checklist=CHECKLIST,
        self_checks=SELF_CHECKS,
        household_self_checks=set(self_checks_for(categories)),
        care_block=self_care.visit_block(members),
        changes=CHANGES,
        need_types={k: v for k, v in NEED_TYPES.items() if k != "review"},
        empty_need_rows=EMPTY_NEED_ROWS,
        risks=RISKS,
        captions=PHOTO_CAPTIONS,
        max_photos=MAX_PHOTOS,
        back_url=back_url,
        alert_check=alert_check,
        personal_data=True,
        tabs=[],  # a focused form: the tab bar would only invite losing what was typed
    )


def _alert_check(session, household) -> dict | None:
    """The alert named by ?alert=<id> for the form's check block; one out of scope or of another household: 404."""
    raw = request.args.get("alert")
    if raw is None:
        return None
    alert = alert_listing.get_alert_for(session, current_user, small_int(raw) or 0)
    if alert.household_id != household.id:
        raise NotFound()
    row = alert_listing.rows_for(session, [alert], utcnow())[0]
    return {
        "alert": alert,
        "rule_label": row.rule_label,
        "grade_label": row.grade_label,
        "closed": alert.state not in OPEN_STATES,
        "outcomes": OUTCOMES,
        "referrals": REFERRALS,
    }


@bp.route("/visits/<int:visit_id>")
@login_required
def show(visit_id: int):
    """Show one visit in full: checks, needs, photos and the evidence that it happened at the door."""
    session = get_session()
    visit = visits.get_visit_for(session, current_user, visit_id)
    household = households.get_household_for(session, current_user, visit.household_id)
    entry = next((e for e in visits.timeline(session, household) if e.visit.id == visit.id), None)
    entry = entry or visits.timeline_for_visits(session, [visit])[0]  # older than the timeline reaches
    return render_template(
        "visits/show.html",
        entry=entry,
        visit=visit,
        household=household,
        label=household_label(session, household),
        checklist=_checklist_rows(visit),
        self_checks=_self_check_rows(visit),
        changes=[CHANGES.get(key, key) for key in json.loads(visit.changes or "[]")],
        kinds=KINDS,
        risks=RISKS,
        need_types=NEED_TYPES,
        need_statuses=NEED_STATUSES,
        far_from_home_m=visits.FAR_FROM_HOME_M,
        back_url=url_for("households.show", household_id=household.id),
        personal_data=True,
    )


def _checklist_rows(visit) -> list[tuple[str, dict | None]]:
    """Return (label, {"ok", "note"} or None when not checked) for every checklist item."""
    stored = json.loads(visit.checklist or "{}")
    return [(label, stored.get(key)) for key, label in CHECKLIST.items()]


def _self_check_rows(visit) -> list[tuple[str, bool]]:
    stored = json.loads(visit.self_checks or "{}")
    return [(SELF_CHECKS[key][0], answer) for key, answer in stored.items() if key in SELF_CHECKS]
