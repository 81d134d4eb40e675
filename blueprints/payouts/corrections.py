"""整改事项: the scoped list with filters, one item's page, and closing it (补发, 追回, 更正账户, 核实无误)."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from blueprints import actor, page_number, render_page_or_partial
from blueprints.payouts import bp
from db import get_session
from services.clock import today_in_china
from services.errors import Invalid, Stale
from services.names import user_names
from services.payouts import corrections, importing
from services.permissions import require

PAGE_SIZE = 20


@bp.route("/corrections")
@login_required
def correction_list():
    """List the 整改 items in scope by status, kind, program, period and overdue; htmx loads more."""
    require(current_user, "payouts.view")
    session = get_session()
    programs, period_label = importing.labels(session)
    filters = corrections.parse_filters(request.args, programs)
    today = today_in_china()
    page = page_number()
    rows, has_more = corrections.list_rows(
        session,
        corrections.search(current_user, filters, today),
        today,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    return render_page_or_partial(
        "payouts/corrections.html",
        "payouts/_correction_rows.html",
        rows=rows,
        has_more=has_more,
        page=page,
        filters=filters,
        args=filters.as_args(),
        programs=programs,
        period_label=period_label,
        periods=corrections.periods_in_scope(session, current_user),
        kinds=corrections.KINDS,
        outcomes=corrections.OUTCOMES,
        status_filters=corrections.STATUS_FILTERS,
        personal_data=True,
        back_url=url_for("main.me"),
    )


@bp.route("/corrections/<int:correction_id>")
@login_required
def correction_show(correction_id: int):
    """Show one item: whom it is about, the payment, what was recorded, and (for officers) the closing form."""
    session = get_session()
    item = corrections.get_for(session, current_user, correction_id)
    return _render(session, item)


@bp.route("/corrections/<int:correction_id>/close", methods=["POST"])
@login_required
def correction_close(correction_id: int):
    """Close an item with what was done (更正账户 is recorded and keeps it open until the 补发)."""
    session = get_session()
    item = corrections.get_for(session, current_user, correction_id, "corrections.close")
    closing = corrections.Closing(
        outcome=request.form.get("outcome", ""),
        note=request.form.get("note", ""),
        reissued_on=request.form.get("reissued_on", ""),
        seen=request.form.get("seen", ""),
    )
    try:
        corrections.close(session, actor(), item, closing, today_in_china())
    except Invalid as problem:  # checked before anything changed
        return _render(session, item, errors=problem.errors, closing=closing), 400
    except Stale as problem:
        session.rollback()
        return _render(session, item, stale=str(problem)), 409
    session.commit()
    label = corrections.OUTCOMES[item.outcome]
    flash(f"已办结：{label}" if item.status == "closed" else f"已登记“{label}”，补发后再办结", "success")
    return redirect(url_for("payouts.correction_show", correction_id=item.id))


def _render(session, item, errors: dict | None = None, closing=None, stale: str = ""):
    today = today_in_china()
    programs, period_label = importing.labels(session)
    return render_template(
        "payouts/correction.html",
        row=corrections.rows_for(session, [item], today)[0],
        history=corrections.history(session, item),
        programs=programs,
        period_label=period_label,
        kinds=corrections.KINDS,
        outcomes=corrections.OUTCOMES,
        today=today.isoformat(),
        errors=errors or {},
        closing=closing,
        stale=stale,
        closed_by=user_names(session, {item.closed_by_id}).get(item.closed_by_id, ""),
        personal_data=True,
        back_url=url_for("payouts.correction_list"),
    )
