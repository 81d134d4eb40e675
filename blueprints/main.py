"""Home, 我的, health check and the web app manifest."""

from flask import Blueprint, jsonify, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from db import get_session
from extensions import limiter
from models import utcnow
from services.alerts import listing as alert_listing
from services.campaigns import campaigns, coverage
from services.candidates import candidates
from services.clock import today_in_china
from services.payouts import corrections
from services.permissions import can
from services.registry import areas, households
from services.visits import needs, schedule, schedule_counts

bp = Blueprint("main", __name__)

HOME_LOADS = 5  # assistants shown on a township officer's home, most overdue first
HOME_ALERTS = 5  # an assistant's alerts to check on 首页, red first; the rest on the 走访 tab and the list


@bp.route("/")
@login_required
def home():
    """Show the user's area and what is in it."""
    session = get_session()
    area = areas.get_area(session, current_user.area_code)
    counts = households.count_in_scope(session, current_user)
    due = loads = None
    if can(current_user, "visits.own_round"):
        due = schedule.due_visits(session, current_user)
    elif can(current_user, "visits.assistant_loads"):  # wider scopes see the loads on the 走访 tab
        per_assistant = schedule_counts.due_counts(session, current_user)
        loads = schedule.load_per_assistant(session, current_user, per_assistant)[:HOME_LOADS]
    alert_tasks, alert_task_total, alert_counts = _alerts(session)
    campaign = campaigns.active_campaign(session)
    campaign_total = coverage.coverage(session, current_user, campaign, area).total if campaign else None
    return render_template(
        "main/home.html",
        area=area,
        counts=counts,
        due=due,
        loads=loads,
        campaign=campaign,
        campaign_total=campaign_total,
        open_needs=needs.count_unresolved(session, current_user) if can(current_user, "need.settle") else None,
        corrections=corrections.counts(session, current_user, today_in_china())
        if can(current_user, "corrections.close")
        else None,
        alert_tasks=alert_tasks,
        alert_task_total=alert_task_total,
        alert_counts=alert_counts,
        candidates_waiting=candidates.count_open(session, current_user)
        if can(current_user, "candidates.settle")
        else None,
    )


def _alerts(session):
    """主动发现 on 首页: an assistant's tasks (alerts assigned to them); an officer's counts (one GROUP BY)."""
    if not can(current_user, "alerts.view"):
        return None, 0, None
    if can(current_user, "visits.own_round"):
        tasks, total = alert_listing.tasks(session, current_user, utcnow(), limit=HOME_ALERTS)
        return tasks, total, None
    return None, 0, alert_listing.home_counts(session, current_user, utcnow())


@bp.route("/me")
@login_required
def me():
    """Show one's account and the tools one's role has."""
    area = areas.get_area(get_session(), current_user.area_code)
    return render_template("main/me.html", area=area)


@bp.route("/healthz")
@limiter.exempt
def healthz():
    """Answer ok when the database answers."""
    try:
        get_session().exec(text("SELECT 1")).one()
    except Exception:  # any database failure means not healthy; the body says no more
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok")


@bp.route("/manifest.webmanifest")
def manifest():
    """Describe the app for 添加到主屏幕."""
    response = jsonify(
        name="兜底通",
        short_name="兜底通",
        lang="zh-CN",
        start_url=url_for("main.home"),
        scope="/",
        display="standalone",
        background_color="#ededed",
        theme_color="#07c160",
        description="临沧市困难群众兜底保障走访工具",
        icons=[
            {"src": url_for("static", filename="icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": url_for("static", filename="icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": url_for("static", filename="icons/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    )
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
