"""The 走访 tab: who is due a visit and recent visits; the city's visit frequencies."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from blueprints import actor, is_htmx, page_number, render_page_or_partial
from db import get_session
from models import utcnow
from services.alerts import listing as alert_listing
from services.errors import Invalid
from services.permissions import can, require
from services.registry.categories import CATEGORIES
from services.visits import schedule, schedule_counts
from services.visits.rules import KINDS, RISKS
from services.visits.schedule import SECTIONS

bp = Blueprint("schedule", __name__)

DUE_PAGE = 30
RECENT_PAGE = 20
ALERT_TASKS = 20  # an assistant's alerts to check, above the due lists; the rest on /alerts/


@bp.route("/visits/")
@login_required
def index():
    """Assistants: overdue, today, this week, then recent visits. Officers: overdue per assistant, then recent."""
    session = get_session()
    page = page_number()
    section = request.args.get("section", "")
    if is_htmx() and section in SECTIONS:  # 加载更多 of one due list
        items = schedule.due_visits(session, current_user).section(section)
        return render_page_or_partial(
            "schedule/index.html",
            "schedule/_due_rows.html",
            section=section,
            items=items[(page - 1) * DUE_PAGE : page * DUE_PAGE],
            has_more=len(items) > page * DUE_PAGE,
            page=page,
            risks=RISKS,
        )
    recent, has_more = schedule.recent_rows(session, current_user, offset=(page - 1) * RECENT_PAGE, limit=RECENT_PAGE)
    context = {"recent": recent, "has_more": has_more, "page": page, "kinds": KINDS, "risks": RISKS}
    if is_htmx():  # 加载更多 of recent visits: the schedule need not be worked out again
        return render_page_or_partial("schedule/index.html", "schedule/_recent.html", **context)
    alert_tasks, alert_task_total = [], 0
    if can(current_user, "visits.own_round"):
        due, loads = schedule.due_visits(session, current_user), []
        counts = due.counts
        alert_tasks, alert_task_total = alert_listing.tasks(session, current_user, utcnow(), limit=ALERT_TASKS)
    else:  # officers see counts per assistant, counted in SQL over thousands of households
        due, per_assistant = None, schedule_counts.due_counts(session, current_user)
        loads, counts = (
            schedule.load_per_assistant(session, current_user, per_assistant),
            schedule_counts.totals(per_assistant),
        )
    return render_page_or_partial(
        "schedule/index.html",
        "schedule/_recent.html",
        due=due,
        counts=counts,
        loads=loads,
        sections=SECTIONS,
        page_size=DUE_PAGE,
        alert_tasks=alert_tasks,
        alert_task_total=alert_task_total,
        personal_data=True,
        **context,
    )


@bp.route("/settings/visit-frequencies", methods=["GET", "POST"])
@login_required
def frequencies():
    """Let the city set how many days may pass between visits, by category and for 紧急 risk."""
    require(current_user, "frequencies.set")
    session = get_session()
    errors, form = {}, None
    if request.method == "POST":
        form = request.form
        try:
            changes = schedule.save_frequencies(session, actor(), schedule.parse_frequency_form(form))
        except Invalid as problem:
            errors = problem.errors
        else:
            session.commit()
            flash("已保存走访频次" if changes else "没有改动", "success")
            return redirect(url_for("schedule.frequencies"))
    stored = schedule.stored_frequencies(session)
    days = schedule.frequencies(session)
    return render_template(
        "schedule/frequencies.html",
        form=form,
        errors=errors,
        stored=stored,
        days=days,
        defaults=schedule.DEFAULT_DAYS,
        categories=CATEGORIES,
        min_days=schedule.MIN_DAYS,
        max_days=schedule.MAX_DAYS,
        back_url=url_for("main.me"),
    ), (400 if errors else 200)
