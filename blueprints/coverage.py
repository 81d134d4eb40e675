"""Campaign coverage pages: drill-down city → county → township → village, and who is still missing."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from blueprints import actor, area_from_request, campaign_from_request, is_htmx, page_number, render_page_or_partial
from db import get_session
from services.campaigns import campaigns, coverage, discovery_stats
from services.campaigns import stats as campaign_stats
from services.errors import Invalid
from services.permissions import require
from services.registry import households
from services.registry.categories import CATEGORIES
from services.relief import queue
from services.relief.rules import REASONS, STATES
from services.visits.rules import NEED_TYPES

bp = Blueprint("coverage", __name__, url_prefix="/coverage")

PAGE_SIZE = 30


@bp.route("/")
@login_required
def index():
    """Show a campaign's coverage for an area, one row per child area, each one tap deeper."""
    session = get_session()
    listed = campaigns.all_campaigns(session)
    if not listed:
        return render_template("coverage/none.html")
    campaign = campaign_from_request() if request.args.get("campaign") else campaigns.current_or_latest(session, listed)
    area = area_from_request()
    return render_template(
        "coverage/index.html",
        campaign=campaign,
        campaigns=listed,
        area=area,
        result=coverage.coverage(session, current_user, campaign, area),
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
        outcomes=discovery_stats.OUTCOMES,
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
    rows, has_more = queue.list_rows(session, query, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
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
        days_left=queue.days_left,
        personal_data=True,
        back_url=url_for("coverage.index", campaign=campaign.id, area=area.code),
    )


@bp.route("/campaigns/new", methods=["GET", "POST"])
@login_required
def new_campaign():
    """Create a campaign (city officers): a name and a window, with deadlines for the table and the report."""
    require(current_user, "campaign.create")
    errors, form = {}, request.form
    if request.method == "POST":
        session = get_session()
        try:
            campaign = campaigns.create_campaign(session, actor(), campaigns.parse_campaign_form(form))
        except Invalid as problem:
            errors = problem.errors
        else:
            session.commit()
            flash(f"已创建排查专项：{campaign.name}", "success")
            return redirect(url_for("coverage.index", campaign=campaign.id))
    page = render_template("coverage/new.html", form=form, errors=errors, back_url=url_for("coverage.index"))
    return page, (400 if errors else 200)
