"""Relief overview per township and month, overdue paperwork, and township funds (limits and reserves)."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from blueprints import actor
from db import get_session
from services.clock import china_year
from services.errors import Invalid
from services.permissions import can, require
from services.relief import funds
from services.relief import overview as relief_overview

bp = Blueprint("relief_overview", __name__, url_prefix="/relief/overview")

MONTH_CHOICES = 24  # the month selector reaches back two years


@bp.before_request
@login_required
def require_officer():
    """Keep assistants (and anyone not signed in) out: these pages are for township officers and above."""
    require(current_user, "relief.overview")


@bp.route("/")
def index():
    """Show the overview: a city by county, a county by township (with 合计), a township by month."""
    session = get_session()
    area = relief_overview.resolve_area(session, current_user, request.args.get("area"))
    month = relief_overview.parse_month(request.args.get("month"))
    current = relief_overview.this_month()
    return render_template(
        "relief_overview/index.html",
        view=relief_overview.overview(session, current_user, area, month),
        is_own_area=area.code == current_user.area_code,
        back_url=_up_from(area, month),
        months=relief_overview.months_ending(max(current, month), MONTH_CHOICES)[::-1],
        current=current,
    )


def _up_from(area, month) -> str | None:
    """Return the overview one level up when the user drilled down, else None."""
    if area.code == current_user.area_code or not area.parent_code:
        return None
    up = area.parent_code if area.parent_code != current_user.area_code else None
    return url_for("relief_overview.index", area=up, month=month.key)


@bp.route("/overdue")
def overdue():
    """List urgent township approvals whose paperwork is past its deadline, with days overdue."""
    rows, more = relief_overview.overdue_paperwork(get_session(), current_user)
    return render_template(
        "relief_overview/overdue.html",
        rows=rows,
        more=more,
        limit=relief_overview.OVERDUE_LIMIT,
        back_url=url_for("relief_overview.index"),
        personal_data=True,
    )


@bp.route("/funds")
def funds_index():
    """List the townships in scope with their limit, reserve, balance and paperwork days."""
    return render_template(
        "relief_overview/funds.html",
        groups=funds.fund_rows(get_session(), current_user),
        year=china_year(),
        back_url=url_for("relief_overview.index"),
    )


@bp.route("/funds/<code>", methods=["GET", "POST"])
def fund(code: str):
    """Show one township's fund; county officers (their townships), the city and admins change it."""
    session = get_session()
    row = funds.get_township_for(session, current_user, code)
    editable = can(current_user, "funds.edit")
    if request.method == "POST":
        require(current_user, "funds.edit")
    errors, form = {}, None
    if request.method == "POST":
        form = request.form
        try:
            changed = funds.change_fund(session, actor(), row.area, funds.parse_fund_form(form))
        except Invalid as problem:
            session.rollback()  # the fund row shown below must not keep the refused values
            errors = problem.errors
        else:
            session.commit()
            flash(f"已保存{row.area.name}的设置" if changed else "没有改动", "success")
            return redirect(url_for("relief_overview.funds_index"))
    year = china_year()
    return render_template(
        "relief_overview/fund.html",
        row=row,
        year=year,
        drawn_fen=funds.drawn_in_year(session, row.area.code, year),
        editable=editable,
        form=form,
        errors=errors,
        back_url=url_for("relief_overview.funds_index"),
    ), (400 if errors else 200)
