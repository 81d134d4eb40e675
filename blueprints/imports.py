"""Imports: a county roster (花名册导入: upload, see what it would do, confirm), and an assistant's outbox file
(导入离线记录: a township officer lands the records a phone could not send)."""

from flask import Blueprint, current_app, render_template, request, url_for
from flask import session as cookie
from flask_login import current_user, login_required

from blueprints import actor, photo_folder, upload_folder
from db import get_session
from services.errors import Conflict, Invalid
from services.offline import outbox_file
from services.permissions import require
from services.roster import importer as roster
from services.roster.file import display_name

bp = Blueprint("imports", __name__, url_prefix="/imports")

PENDING = "roster_upload"  # signed-cookie key: the stored upload this user may confirm
OUTBOX_BODY_LIMIT = outbox_file.MAX_FILE_BYTES + 1024 * 1024  # the file and the multipart wrapping around it


def _upload_form(error: str | None = None, status: int = 200):
    return render_template("imports/upload.html", error=error, back_url=url_for("main.me")), status


@bp.route("/", methods=["GET", "POST"])
@login_required
def upload():
    """Show the upload form; a posted roster is stored, checked and previewed (nothing written yet)."""
    require(current_user, "imports.run")
    if request.method == "GET":
        return _upload_form()
    file = request.files.get("file")
    try:
        stored, preview = roster.receive_upload(
            get_session(), current_user, file.stream if file else None, file.filename if file else None, upload_folder()
        )
    except (Invalid, Conflict) as error:
        return _upload_form(str(error), 400)
    earlier = cookie.get(PENDING)
    if earlier:  # an upload previewed before and never confirmed
        roster.discard(upload_folder(), earlier.get("file", ""))
    cookie[PENDING] = {"file": stored, "name": preview.file_name, "user": current_user.id}
    return render_template(
        "imports/preview.html", preview=preview, stored=stored, personal_data=True, back_url=url_for("imports.upload")
    )


@bp.route("/confirm", methods=["POST"])
@login_required
def confirm():
    """Import the previewed roster in one transaction and show what was done."""
    require(current_user, "imports.run")
    pending = cookie.get(PENDING) or {}
    if pending.get("user") != current_user.id or request.form.get("upload") != pending.get("file"):
        return _upload_form("这份文件已经导入过或预览已过期，请重新上传", 400)
    session = get_session()
    try:
        preview, (households, persons) = roster.import_stored(
            session, actor(), upload_folder(), pending["file"], pending["name"]
        )
    except (Invalid, Conflict) as error:
        return _upload_form(str(error), 400)
    session.commit()
    roster.discard(upload_folder(), cookie.pop(PENDING)["file"])
    return render_template(
        "imports/result.html",
        preview=preview,
        households=households,
        persons=persons,
        personal_data=True,
        back_url=url_for("imports.upload"),
    )


@bp.url_value_preprocessor
def allow_outbox_files(endpoint, _values) -> None:
    """Let an outbox upload be as large as its file may be (MAX_UPLOAD_MB is for photos and rosters).

    A URL value preprocessor runs before every before_request function, so the form is not read before this.
    """
    if endpoint == "imports.outbox":
        request.max_content_length = max(OUTBOX_BODY_LIMIT, current_app.config.get("MAX_CONTENT_LENGTH") or 0)


def _outbox_form(error: str | None = None, status: int = 200):
    limits = {"megabytes": outbox_file.MAX_FILE_BYTES // (1024 * 1024), "items": outbox_file.MAX_ITEMS}
    return render_template("imports/outbox_upload.html", error=error, back_url=url_for("main.me"), **limits), status


@bp.route("/outbox", methods=["GET", "POST"])
@login_required
def outbox():
    """Show the form; a posted outbox file is imported item by item as the assistant it names."""
    require(current_user, "outbox.import")
    if request.method == "GET":
        return _outbox_form()
    file = request.files.get("file")
    if file is not None and not file.filename:  # a form sent with no file chosen has an empty part
        file = None
    session = get_session()
    stream, name = (file.stream, display_name(file.filename)) if file else (None, "")
    try:
        result = outbox_file.import_outbox(session, actor(), stream, name, photo_folder())
    except Invalid as error:
        return _outbox_form(str(error), 400)
    session.commit()
    return render_template(
        "imports/outbox_result.html", result=result, personal_data=True, back_url=url_for("imports.outbox")
    )
