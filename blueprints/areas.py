"""Township and county hotlines (服务电话): list them and edit one in place."""

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from blueprints import actor, is_htmx
from db import get_session
from services.errors import Invalid
from services.permissions import require
from services.registry import areas

bp = Blueprint("areas", __name__, url_prefix="/areas")


@bp.before_request
@login_required
def require_hotline_role():
    """Keep assistants (and anyone not signed in) out of every page here."""
    require(current_user, "hotlines.edit")


@bp.route("/hotlines")
def hotlines():
    """List the townships and counties in scope with their hotlines, each editable in its row."""
    return _list()


def _list(failed=None, typed: str = "", error: str = "", status: int = 200):
    rows = list(get_session().exec(areas.editable_hotline_areas(current_user)))
    return render_template(
        "areas/hotlines.html", rows=rows, failed=failed, typed=typed, error=error, back_url=url_for("main.me")
    ), status


@bp.route("/<code>/hotline", methods=["POST"])
def edit_hotline(code: str):
    """Save one hotline: htmx gets the row back, a plain form goes back to the list."""
    session = get_session()
    area = areas.get_hotline_area_for(session, current_user, code)
    typed = request.form.get("hotline", "")
    try:
        areas.change_hotline(session, actor(), area, typed)
    except Invalid as problem:
        if is_htmx():
            return _row(area, typed=typed, error=str(problem), status=400)
        return _list(failed=area.code, typed=typed, error=str(problem), status=400)
    session.commit()
    if is_htmx():
        return _row(area, saved=True)
    flash(f"已保存{area.name}的服务电话", "success")
    return redirect(url_for("areas.hotlines"))


def _row(area, status: int = 200, **state):
    response = make_response(render_template("areas/_hotline_row.html", area=area, **state), status)
    response.headers["Vary"] = "HX-Request"
    return response
