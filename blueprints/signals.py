"""其他部门名单导入: a county uploads a 医保, 残联, death or unemployment list, sees what importing it would do, and
confirms; registered people get alerts, the others may become 待核实对象."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask import session as cookie
from flask_login import current_user, login_required

from blueprints import actor, upload_folder
from db import get_session
from services.errors import Conflict, Invalid
from services.permissions import require
from services.roster.file import discard, display_name
from services.signals import lists, uploads

bp = Blueprint("signals", __name__, url_prefix="/signals")

PENDING = "signal_upload"  # signed-cookie key: the stored upload this user may confirm


@bp.url_value_preprocessor
def allow_lists(endpoint, _values) -> None:
    """Let a list be as large as the reader takes (MAX_UPLOAD_MB is for photos and rosters)."""
    if endpoint == "signals.import_upload":
        limit = uploads.max_file_bytes() + 1024 * 1024  # the file and the multipart wrapping around it
        request.max_content_length = max(limit, current_app.config.get("MAX_CONTENT_LENGTH") or 0)


def _upload_form(error: str | None = None, status: int = 200, kind: str | None = None):
    page = render_template(
        "signals/import.html",
        error=error,
        kinds=lists.KINDS,
        kind=kind,
        recent=uploads.recent_imports(get_session(), current_user),
        megabytes=max(uploads.max_file_bytes() // (1024 * 1024), 1),
        back_url=url_for("main.me"),
    )
    return page, status


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_upload():
    """Show the upload form; a posted list is stored and previewed (imported in a savepoint, undone)."""
    require(current_user, "signals.import")
    if request.method == "GET":
        return _upload_form()
    kind = request.form.get("kind")
    if kind not in lists.KINDS:
        return _upload_form("请选择名单的种类", 400)
    file = request.files.get("file")
    if file is not None and not file.filename:  # a form sent with no file chosen has an empty part
        file = None
    name = display_name(file.filename) if file else ""
    folder = upload_folder()
    try:
        stored = uploads.receive(file.stream if file else None, name, folder)
    except Invalid as error:
        return _upload_form(str(error), 400, kind)
    session = get_session()
    try:
        preview = uploads.preview(session, actor(), kind, current_user.area_code, folder / stored, name)
    except (Invalid, Conflict) as error:
        discard(folder, stored)
        return _upload_form(str(error), 400, kind)
    earlier = cookie.pop(PENDING, None)
    if earlier:  # an upload previewed before and never confirmed
        discard(folder, earlier.get("file", ""))
    if preview.importable:
        cookie[PENDING] = {
            "file": stored,
            "name": name,
            "kind": kind,
            "user": current_user.id,
            "county": current_user.area_code,
        }
    else:
        discard(folder, stored)  # nothing to confirm: the file is not kept
    return render_template(
        "signals/preview.html",
        preview=preview,
        kinds=lists.KINDS,
        stored=stored,
        personal_data=True,
        back_url=url_for("signals.import_upload"),
    )


@bp.route("/import/confirm", methods=["POST"])
@login_required
def import_confirm():
    """Import the previewed list in one transaction, raising its alerts and candidates."""
    require(current_user, "signals.import")
    pending = cookie.get(PENDING) or {}
    if (
        pending.get("user") != current_user.id
        or pending.get("county") != current_user.area_code
        or request.form.get("upload") != pending.get("file")
        or pending.get("kind") not in lists.KINDS
    ):
        return _upload_form(uploads.EXPIRED, 400)
    session = get_session()
    try:
        outcome = uploads.import_upload(
            session, actor(), pending["kind"], current_user.area_code, upload_folder(), pending["file"], pending["name"]
        )
    except (Invalid, Conflict) as error:
        session.rollback()
        return _upload_form(str(error), 400)
    session.commit()
    cookie.pop(PENDING, None)
    flash(
        f"已导入 {outcome.created} 条：新增预警 {outcome.alerts} 条，待核实对象 {outcome.candidates} 人"
        + (f"，{len(outcome.errors)} 行有错未导入" if outcome.errors else ""),
        "success",
    )
    return redirect(url_for("signals.import_upload"))
