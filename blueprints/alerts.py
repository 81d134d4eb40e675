"""主动发现 pages: the scoped list of alerts, one alert with its history and 办结, and the city's rule settings."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from blueprints import actor, page_number, render_page_or_partial
from db import get_session
from models import Household, Person, utcnow
from services.alerts import checks, listing, settings
from services.alerts.listing import LEVELS, PAGE_STATES
from services.alerts.outcomes import OPEN_STATES, OUTCOMES, REFERRALS
from services.alerts.rules import GRADE_LABELS, RULES
from services.errors import Invalid
from services.names import household_label
from services.permissions import require
from services.registry import areas, households

bp = Blueprint("alerts", __name__, url_prefix="/alerts")

PAGE_SIZE = 20


@bp.route("/")
@login_required
def index():
    """List the alerts in scope, red first then the earliest due; filters narrow it, htmx loads more."""
    require(current_user, "alerts.view")
    session = get_session()
    filters = listing.parse_page_filters(request.args, current_user)
    now, page = utcnow(), page_number()
    query = listing.search(current_user, filters, now)
    rows, has_more = listing.list_rows(session, query, now, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render_page_or_partial(
        "alerts/index.html",
        "alerts/_rows.html",
        rows=rows,
        has_more=has_more,
        page=page,
        filters=filters,
        args=filters.as_args(),
        narrowed=_narrowed_by(session, filters),
        grades=GRADE_LABELS,
        states=PAGE_STATES,
        levels=LEVELS,
        personal_data=True,
    )


def _narrowed_by(session, filters: listing.Filters) -> str:
    """Describe the filters a link brought (area, rule, grade, level, overdue, outcome, days) for the 只显示 notice."""
    parts = []
    if filters.area:
        parts.append(areas.area_names(session, [filters.area]).get(filters.area, filters.area))
    if filters.rule:
        parts.append(RULES[filters.rule].label)
    if filters.grade:
        parts.append(f"{GRADE_LABELS[filters.grade]}色预警")
    if filters.level:
        parts.append(f"已移交{LEVELS[filters.level]}" if filters.level != "village" else "在村里")
    if filters.overdue:
        parts.append("已逾期")
    if filters.outcome:
        parts.append(f"核实结果：{OUTCOMES[filters.outcome]}")
    for label, first, last in (
        ("预警", filters.raised_from, filters.raised_to),
        ("核实", filters.checked_from, filters.checked_to),
    ):
        if first or last:
            parts.append(f"{first.isoformat() if first else ''}～{last.isoformat() if last else ''}{label}")
    if filters.state != "open":
        parts.append(PAGE_STATES[filters.state])
    return " · ".join(parts)


@bp.route("/<int:alert_id>")
@login_required
def show(alert_id: int):
    """Show one alert: why, what the rule means, whom it is about, how it went, and what to do next."""
    require(current_user, "alerts.view")
    session = get_session()
    alert = listing.get_alert_for(session, current_user, alert_id)
    return _render_alert(session, alert)


@bp.route("/<int:alert_id>/close", methods=["POST"])
@login_required
def close(alert_id: int):
    """Close an alert without a visit (township or county officer): an outcome, a note (排除 needs the reason)."""
    session = get_session()
    alert = listing.get_alert_for(session, current_user, alert_id)
    require(current_user, "alerts.close")
    try:
        values = checks.parse_close_form(request.form)
        checks.close(session, actor(), alert, values)
    except Invalid as problem:
        return _render_alert(session, alert, errors=problem.errors, form=request.form), 400
    session.commit()
    flash(f"已办结：{OUTCOMES[values['outcome']]}", "success")
    return redirect(url_for("alerts.show", alert_id=alert.id), code=303)


def _render_alert(session, alert, errors=None, form=None):
    household = session.get(Household, alert.household_id) if alert.household_id else None
    row = listing.rows_for(session, [alert], utcnow())[0]
    person = session.get(Person, alert.person_id) if alert.person_id else None
    return render_template(
        "alerts/show.html",
        alert=alert,
        row=row,
        rule=RULES.get(alert.rule),
        household=household,
        person=person,
        label=household_label(session, household) if household else "",
        can_visit=household is not None and households.is_active(household) and alert.state in OPEN_STATES,
        is_open=alert.state in OPEN_STATES,
        history=listing.history(session, alert),
        grades=GRADE_LABELS,
        levels=LEVELS,
        outcomes=OUTCOMES,
        referrals=REFERRALS,
        errors=errors or {},
        form=form or {},
        back_url=url_for("alerts.index"),
        personal_data=True,
    )


@bp.route("/rules", methods=["GET", "POST"])
@login_required
def rules():
    """Let the city switch each rule on or off and set its days to check and its threshold."""
    require(current_user, "alerts.rules")
    session = get_session()
    errors, form = {}, None
    if request.method == "POST":
        form = request.form
        try:
            changes = settings.save(session, actor(), settings.parse_form(form))
        except Invalid as problem:
            errors = problem.errors
        else:
            session.commit()
            flash(f"已保存 {len(changes)} 条规则的设置" if changes else "没有改动", "success")
            return redirect(url_for("alerts.rules"), code=303)
    page = render_template(
        "alerts/rules.html",
        rows=settings.rows(session),
        form=form,
        errors=errors,
        grades=GRADE_LABELS,
        limits=(settings.MIN_DAYS, settings.MAX_DAYS),
        back_url=url_for("main.me"),
    )
    return page, (400 if errors else 200)
