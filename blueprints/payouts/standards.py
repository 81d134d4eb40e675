"""补贴项目和标准: the city sets each program's amounts and deadlines, and opens 价格临时补贴 periods."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from blueprints import actor
from blueprints.payouts import bp
from db import get_session
from services.errors import Invalid
from services.money import fen_to_yuan
from services.payouts import standards
from services.permissions import require
from services.registry.categories import CATEGORIES


def _page(errors=None, form=None, price_errors=None, price_form=None):
    session = get_session()
    return render_template(
        "payouts/standards.html",
        programs=standards.programs_view(session),
        price_periods=standards.price_periods(session),
        amount_field=standards.amount_field,
        fen_to_yuan=fen_to_yuan,
        categories=CATEGORIES,
        due_days=standards.DUE_DAYS,
        correction_days=standards.CORRECTION_DAYS,
        errors=errors or {},
        form=form,
        price_errors=price_errors or {},
        price_form=price_form,
        back_url=url_for("main.me"),
    ), (400 if errors or price_errors else 200)


@bp.route("/standards", methods=["GET", "POST"])
@login_required
def standards_page():
    """Show the programs; 保存 stores the amounts and deadlines that changed (one wrong field: nothing changes)."""
    require(current_user, "payouts.standards")
    if request.method == "POST":
        session = get_session()
        try:
            changes = standards.save(session, actor(), standards.parse_form(session, request.form))
        except Invalid as problem:
            return _page(errors=problem.errors, form=request.form)
        session.commit()
        flash(f"已保存 {changes} 处改动" if changes else "没有改动", "success")
        return redirect(url_for("payouts.standards_page"))
    return _page()


@bp.route("/standards/price", methods=["POST"])
@login_required
def price_period_open():
    """Open a 价格临时补贴 period: months, amount per person per month, which categories."""
    require(current_user, "payouts.standards")
    session = get_session()
    try:
        standards.open_price_period(session, actor(), standards.parse_price_period(request.form))
    except Invalid as problem:
        return _page(price_errors=problem.errors, price_form=request.form)
    session.commit()
    flash("已开放价格临时补贴", "success")
    return redirect(url_for("payouts.standards_page"))
