"""发放结果导入: a county uploads the bank's result file, sees what importing it would do, confirms; the county's
past imports with their files (for its officers and the city only)."""

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask import session as cookie
from flask_login import current_user, login_required

from blueprints import actor, page_number, payouts_folder, render_page_or_partial, upload_folder
from blueprints.payouts import bp
from db import get_session
from services.errors import Conflict, Invalid
from services.payouts import importing
from services.permissions import can, require
from services.roster.file import discard, display_name

PENDING = "payout_upload"  # signed-cookie key: the stored upload this user may confirm
PAGE_SIZE = 20
RECENT = 5
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.url_value_preprocessor
def allow_result_files(endpoint, _values) -> None:
    """Let a result file be as large as the reader takes (MAX_UPLOAD_MB is for photos and rosters)."""
    if endpoint == "payouts.import_upload":
        limit = importing.max_file_bytes() + 1024 * 1024  # the file and the multipart wrapping around it
        request.max_content_length = max(limit, current_app.config.get("MAX_CONTENT_LENGTH") or 0)


def _upload_form(error: str | None = None, status: int = 200):
    session = get_session()
    query = importing.imports_in_scope(current_user)
    recent, more = importing.list_rows(session, query, payouts_folder(), offset=0, limit=RECENT)
    page = render_template(
        "payouts/import.html",
        error=error,
        recent=recent,
        more=more,
        megabytes=max(importing.max_file_bytes() // (1024 * 1024), 1),
        back_url=url_for("main.me"),
    )
    return page, status


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_upload():
    """Show the upload form; a posted result file is stored and previewed (imported in a savepoint, undone)."""
    require(current_user, "payouts.import")
    if request.method == "GET":
        return _upload_form()
    file = request.files.get("file")
    if file is not None and not file.filename:  # a form sent with no file chosen has an empty part
        file = None
    name = display_name(file.filename) if file else ""
    folder = upload_folder()
    try:
        stored = importing.receive(file.stream if file else None, name, folder)
    except Invalid as error:
        return _upload_form(str(error), 400)
    session = get_session()
    try:
        preview = importing.preview(session, actor(), current_user.area_code, folder / stored, name)
    except (Invalid, Conflict) as error:
        discard(folder, stored)
        return _upload_form(str(error), 400)
    earlier = cookie.pop(PENDING, None)
    if earlier:  # an upload previewed before and never confirmed
        discard(folder, earlier.get("file", ""))
    if preview.importable:
        cookie[PENDING] = {"file": stored, "name": name, "user": current_user.id, "county": current_user.area_code}
    else:
        discard(folder, stored)  # nothing to confirm: the file is not kept
    programs, period_label = importing.labels(session)
    page = render_template(
        "payouts/import_preview.html",
        preview=preview,
        stored=stored,
        programs=programs,
        period_label=period_label,
        kind_labels=importing.KIND_LABELS,
        personal_data=True,
        back_url=url_for("payouts.import_upload"),
    )
    return page, 400 if preview.outcome.errors else 200


@bp.route("/import/confirm", methods=["POST"])
@login_required
def import_confirm():
    """Import the previewed file in one transaction and show what it found."""
    require(current_user, "payouts.import")
    pending = cookie.get(PENDING) or {}
    if (
        pending.get("user") != current_user.id
        or pending.get("county") != current_user.area_code
        or request.form.get("upload") != pending.get("file")
    ):
        return _upload_form(importing.EXPIRED, 400)
    session = get_session()
    try:
        outcome = importing.import_upload(
            session,
            actor(),
            current_user.area_code,
            upload_folder(),
            pending["file"],
            pending["name"],
            payouts_folder(),
        )
    except (Invalid, Conflict) as error:
        session.rollback()
        return _upload_form(str(error), 400)
    session.commit()
    cookie.pop(PENDING, None)
    if outcome.again:
        flash(importing.AGAIN, "info")
    else:
        flash(f"已导入 {outcome.created} 条发放记录", "success")
    return redirect(url_for("payouts.import_show", import_id=outcome.import_id))


@bp.route("/imports")
@login_required
def import_list():
    """List the result files imported in the user's scope (a county's own; the city's every county)."""
    require(current_user, "payouts.view")
    session = get_session()
    page = page_number()
    query = importing.imports_in_scope(current_user)
    rows, has_more = importing.list_rows(
        session, query, payouts_folder(), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    return render_page_or_partial(
        "payouts/imports.html",
        "payouts/_import_rows.html",
        rows=rows,
        has_more=has_more,
        page=page,
        back_url=url_for("payouts.import_upload") if can(current_user, "payouts.import") else url_for("main.me"),
    )


@bp.route("/imports/<int:import_id>")
@login_required
def import_show(import_id: int):
    """Show one import: its counts, and each kind of problem linked to the 整改 list."""
    session = get_session()
    batch = importing.get_import_for(session, current_user, import_id)
    programs, period_label = importing.labels(session)
    return render_template(
        "payouts/import_show.html",
        row=importing.import_row(session, payouts_folder(), batch),
        summary=importing.summary(session, batch),
        programs=programs,
        period_label=period_label,
        back_url=url_for("payouts.import_list"),
    )


@bp.route("/imports/<int:import_id>/file")
@login_required
def import_file(import_id: int):
    """Send the result file as the county imported it (its officers and the city only), audited."""
    session = get_session()
    batch = importing.get_import_for(session, current_user, import_id)
    path = importing.stored_file(payouts_folder(), batch)
    if path is None:
        abort(404)
    importing.record_download(session, actor(), batch)
    session.commit()
    mimetype = XLSX if path.suffix == ".xlsx" else "text/csv"
    response = send_file(path, mimetype=mimetype, as_attachment=True, download_name=batch.file_name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
