"""Campaign coverage pages: drill-down city → county → township → village, and who is still missing."""

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlmodel import select

from blueprints import actor, is_htmx, page_number, render_page_or_partial
from db import get_session
from models import Campaign
from services import audit
from services.campaigns import coverage
from services.campaigns import stats as campaign_stats
from services.registry import households
from services.registry.categories import CATEGORIES
from services.relief import queue as relief_queue
from services.relief.rules import REASONS, STATES
from services.visits.rules import NEED_TYPES

bp = Blueprint("coverage", __name__, url_prefix="/coverage")

CAMPAIGN_ROLES = ("city", "admin")
DOWNLOAD_ROLES = ("township", "county", "city", "admin")  # the statistics table is an office document
PAGE_SIZE = 30


def campaign_from_request() -> Campaign:
    """Return the campaign named in ?campaign=, else the one running today, else 404."""
    session = get_session()
    raw = request.args.get("campaign", "")
    campaign = session.get(Campaign, int(raw)) if raw.isdigit() else coverage.active_campaign(session)
    if campaign is None:
        abort(404)
    return campaign


def area_from_request():
    """Return the area named in ?area= (else the user's own) if the user may see it; otherwise 404."""
    return coverage.check_area(get_session(), current_user, request.args.get("area") or current_user.area_code)


@bp.route("/")
@login_required
def index():
    """Show a campaign's coverage for an area, one row per child area, each one tap deeper."""
    session = get_session()
    campaigns = list(session.exec(select(Campaign).order_by(Campaign.start_date.desc())))
    if not campaigns:
        return render_template("coverage/none.html", can_create=current_user.role in CAMPAIGN_ROLES)
    if request.args.get("campaign"):
        campaign = campaign_from_request()
    else:  # today's campaign, else the latest one
        campaign = coverage.active_campaign(session) or campaigns[0]
    area = area_from_request()
    return render_template(
        "coverage/index.html",
        campaign=campaign,
        campaigns=campaigns,
        area=area,
        result=coverage.coverage(session, current_user, campaign, area),
        can_create=current_user.role in CAMPAIGN_ROLES,
        can_download=current_user.role in DOWNLOAD_ROLES,
        step=lambda tally: min(10, int(tally.rate * 10)),
    )


@bp.route("/breakdown")
@login_required
def breakdown():
    """Show an area's persons by category, problems found by type and what was done, each number a link."""
    session, campaign, area = get_session(), campaign_from_request(), area_from_request()
    return render_page_or_partial(
        "coverage/breakdown.html",
        "coverage/_breakdown.html",
        campaign=campaign,
        area=area,
        stats=campaign_stats.statistics(session, current_user, campaign, area),
        categories=CATEGORIES,
        table_categories=campaign_stats.TABLE_CATEGORIES,
        need_types=NEED_TYPES,
        back_url=url_for("coverage.index", campaign=campaign.id, area=area.code),
    )


@bp.route("/missing")
@login_required
def missing():
    """List the households of an area not yet visited in the campaign (还差 N 户)."""
    session, campaign, area = get_session(), campaign_from_request(), area_from_request()
    page = page_number()
    query = coverage.missing_households(current_user, campaign, area)
    rows, has_more = households.list_rows(session, query, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    # the heading's count; htmx's 加载更多 only wants rows
    total = None if is_htmx() else coverage.coverage(session, current_user, campaign, area).total
    return render_page_or_partial(
        "coverage/missing.html",
        "coverage/_missing_rows.html",
        campaign=campaign,
        area=area,
        rows=rows,
        has_more=has_more,
        page=page,
        total=total,
        personal_data=True,
        back_url=url_for("coverage.index", campaign=campaign.id, area=area.code),
    )


@bp.route("/relief")
@login_required
def relief():
    """List the temporary relief granted in the campaign window under an area (the number on the coverage page)."""
    session, campaign, area = get_session(), campaign_from_request(), area_from_request()
    page = page_number()
    query = campaign_stats.granted_relief(current_user, campaign, area)
    rows, has_more = relief_queue.list_rows(session, query, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render_page_or_partial(
        "coverage/relief.html",
        "coverage/_relief_rows.html",
        campaign=campaign,
        area=area,
        rows=rows,
        has_more=has_more,
        page=page,
        reasons=REASONS,
        states=STATES,
        days_left=relief_queue.days_left,
        personal_data=True,
        back_url=url_for("coverage.index", campaign=campaign.id, area=area.code),
    )


@bp.route("/campaigns/new", methods=["GET", "POST"])
@login_required
def new_campaign():
    """Create a campaign (city officers): a name and a window, with deadlines for the table and the report."""
    if current_user.role not in CAMPAIGN_ROLES:
        abort(403)
    errors, form = {}, request.form
    if request.method == "POST":
        campaign, errors = _campaign_from(form)
        if not errors:
            session = get_session()
            session.add(campaign)
            session.flush()
            audit.record(session, actor(), "campaign.created", campaign, name=campaign.name)
            session.commit()
            flash(f"已创建排查专项：{campaign.name}", "success")
            return redirect(url_for("coverage.index", campaign=campaign.id))
    return render_template("coverage/new.html", form=form, errors=errors, back_url=url_for("coverage.index")), (
        400 if errors else 200
    )


def _campaign_from(form) -> tuple[Campaign | None, dict]:
    """Read and check the campaign form; return (campaign, errors)."""
    errors, dates = {}, {}
    name = form.get("name", "").strip()
    if not name or len(name) > 100:
        errors["name"] = "请填写专项名称（100 字以内）"
    for key, label, required in (
        ("start_date", "开始日期", True),
        ("end_date", "结束日期", True),
        ("statistics_due", "统计表截止日期", False),
        ("report_due", "报告截止日期", False),
    ):
        raw = form.get(key, "").strip()
        try:
            dates[key] = date.fromisoformat(raw) if raw else None
        except ValueError:
            errors[key] = f"{label}格式不对"
            continue
        if required and dates[key] is None:
            errors[key] = f"请填写{label}"
    if not errors and dates["end_date"] < dates["start_date"]:
        errors["end_date"] = "结束日期不能早于开始日期"
    if errors:
        return None, errors
    return Campaign(name=name, created_by_id=current_user.id, **dates), {}
