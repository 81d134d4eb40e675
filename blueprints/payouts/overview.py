"""钱到没到 in numbers: per program and period paid / failed / missing / to correct, and the payments behind them."""

from flask import render_template, request, url_for
from flask_login import current_user, login_required

from blueprints import page_number, render_page_or_partial
from blueprints.payouts import bp
from db import get_session
from services.clock import today_in_china
from services.payouts import overview as payouts_overview
from services.payouts.programs import all_programs
from services.permissions import require

PAGE_SIZE = 30


def _is_own(area) -> bool:
    return area.code == current_user.area_code


@bp.route("/overview")
@login_required
def overview():
    """Show the counts per program and period in scope (filter by program and period); the city's late imports."""
    require(current_user, "payouts.view")
    session = get_session()
    area = payouts_overview.resolve_area(session, current_user, request.args.get("area"))
    program, period = payouts_overview.parse_filters(session, request.args.get("program"), request.args.get("period"))
    today = today_in_china()
    return render_template(
        "payouts/overview.html",
        view=payouts_overview.overview(session, current_user, area, program, period, today),
        programs=all_programs(session),
        periods=payouts_overview.period_choices(session, program, today),
        area_arg=None if _is_own(area) else area.code,
        back_url=url_for("payouts.overview", area=area.parent_code) if not _is_own(area) else None,
    )


@bp.route("/payments")
@login_required
def payments():
    """List the payments behind an overview number: names and masked ID numbers, in scope; htmx loads more."""
    require(current_user, "payouts.view")
    session = get_session()
    area = payouts_overview.resolve_area(session, current_user, request.args.get("area"))
    program, period = payouts_overview.parse_filters(session, request.args.get("program"), request.args.get("period"))
    status = request.args.get("status", "").strip()
    query = payouts_overview.search_payments(current_user, area, program, period, status)
    page = page_number()
    rows, has_more = payouts_overview.payment_rows(session, query, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    filters = {"program": program, "period": period.code if period else "", "status": status}
    if not _is_own(area):
        filters["area"] = area.code
    return render_page_or_partial(
        "payouts/payments.html",
        "payouts/_payment_rows.html",
        rows=rows,
        has_more=has_more,
        page=page,
        filters=filters,
        total=payouts_overview.count_payments(session, query) if page == 1 else None,
        area=area,
        program_name=all_programs(session)[program].name if program else "全部项目",
        period=period,
        status_label=payouts_overview.PAYMENT_STATUSES.get(status, "全部"),
        back_url=url_for("payouts.overview", **{k: v for k, v in filters.items() if k != "status" and v}),
        personal_data=True,
    )
