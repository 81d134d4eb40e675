"""Needs (诉求) raised in visits: the scoped list with filters, one need's page, and status changes."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from blueprints import actor, page_number, render_page_or_partial
from db import get_session
from services.campaigns import campaigns
from services.errors import Invalid
from services.registry import areas
from services.visits import needs
from services.visits.needs import STATUS_FILTERS
from services.visits.rules import NEED_STATUSES, NEED_TYPES

bp = Blueprint("needs", __name__, url_prefix="/needs")

PAGE_SIZE = 20


@bp.route("/")
@login_required
def index():
    """List needs in scope by type, status and village; htmx swaps the rows and loads more."""
    session = get_session()
    filters = {
        "type": request.args.get("type", "").strip(),
        "status": request.args.get("status", "").strip(),
        "village": request.args.get("village", "").strip(),
        "area": request.args.get("area", "").strip(),
        "campaign": request.args.get("campaign", "").strip(),
    }
    if filters["status"] not in STATUS_FILTERS:
        filters["status"] = "pending"
    if not areas.is_area_code(filters["area"]):
        filters["area"] = ""
    campaign = campaigns.find_campaign(session, filters["campaign"])
    filters["campaign"] = str(campaign.id) if campaign else ""
    page = page_number()
    query = needs.search_needs(
        current_user,
        need_type=filters["type"],
        status=filters["status"],
        village=filters["village"],
        area=filters["area"],
        raised_between=campaigns.window(campaign) if campaign else None,
    )
    rows, has_more = needs.list_rows(session, query, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render_page_or_partial(
        "needs/index.html",
        "needs/_rows.html",
        rows=rows,
        has_more=has_more,
        page=page,
        filters=filters,
        villages=list(session.exec(areas.areas_in_scope(current_user, level=4))),
        need_types=NEED_TYPES,
        need_statuses=NEED_STATUSES,
        status_filters=STATUS_FILTERS,
        narrowed=_narrowed_by(session, filters["area"], campaign),
        personal_data=True,
    )


def _narrowed_by(session, area_code: str, campaign) -> str:
    """Describe the filters the coverage page links with (area, campaign), for the notice above the list."""
    parts = [areas.area_names(session, [area_code]).get(area_code, area_code)] if area_code else []
    if campaign:
        parts.append(f"{campaign.name}期间提出")
    return " · ".join(parts)


@bp.route("/<int:need_id>")
@login_required
def show(need_id: int):
    """Show one need, its household, how it went so far, and (for officers) the next step."""
    session = get_session()
    need = needs.get_need_for(session, current_user, need_id)
    return _render_need(session, need)


@bp.route("/<int:need_id>/status", methods=["POST"])
@login_required
def change_status(need_id: int):
    """Move a need on: 处理中, 已解决 with how, or reopened with why (township officers and above)."""
    session = get_session()
    need = needs.get_need_for(session, current_user, need_id, "need.settle")
    status = request.form.get("status", "")
    try:
        needs.change_status(session, actor(), need, status, request.form.get("note", ""))
    except Invalid as problem:  # checked before anything changed: nothing to roll back
        return _render_need(session, need, error=str(problem), note=request.form.get("note", ""), chosen=status), 400
    session.commit()
    flash(f"已改为“{NEED_STATUSES[need.status]}”", "success")
    return redirect(url_for("needs.show", need_id=need.id))


def _render_need(session, need, error: str = "", note: str = "", chosen: str = ""):
    household_no, village, head_name = needs.household_names(session, {need.household_id})[need.household_id]
    names = needs.user_names(session, {need.created_by_id, need.updated_by_id})
    return render_template(
        "needs/show.html",
        need=need,
        household_no=household_no,
        village=village,
        head_name=head_name,
        raised_by=names.get(need.created_by_id, ""),
        updated_by=names.get(need.updated_by_id, ""),
        history=needs.history(session, need),
        next_statuses=needs.next_statuses(need),
        need_types=NEED_TYPES,
        need_statuses=NEED_STATUSES,
        error=error,
        note=note,
        chosen=chosen,
        personal_data=True,
        back_url=url_for("needs.index"),
    )
