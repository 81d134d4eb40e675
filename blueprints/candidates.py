"""待核实对象: the list and one candidate for the officers (and the village's assistant), the township's answer
(已登记 / 排除), and the assistant's one-tap 上报疑似困难户 form (sent through the outbox when offline)."""

import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from blueprints import actor, page_number, photo_folder, render_page_or_partial
from db import get_session
from services.candidates import candidates, photos
from services.errors import Conflict, Invalid
from services.permissions import require
from services.registry import areas
from services.visits import photos as visit_photos

bp = Blueprint("candidates", __name__, url_prefix="/candidates")

PAGE_SIZE = 20
STATUS_FILTERS = {"open": "待核实", "registered": "已登记", "dismissed": "已排除", "all": "全部"}


@bp.route("/")
@login_required
def index():
    """List the candidates in scope, waiting ones first by default; htmx loads more."""
    require(current_user, "candidates.view")
    status = request.args.get("status", "open")
    if status not in STATUS_FILTERS:
        status = "open"
    session = get_session()
    page = page_number()
    query = candidates.candidates_in_scope(current_user, None if status == "all" else status)
    rows, has_more = candidates.list_rows(session, query, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render_page_or_partial(
        "candidates/index.html",
        "candidates/_rows.html",
        rows=rows,
        has_more=has_more,
        page=page,
        status=status,
        status_filters=STATUS_FILTERS,
        sources=candidates.SOURCES,
        statuses=candidates.STATUSES,
        personal_data=True,
        back_url=url_for("main.home"),
    )


@bp.route("/<int:candidate_id>")
@login_required
def show(candidate_id: int):
    """Show one candidate: who, where, what was found, the photos; and the township's answer."""
    session = get_session()
    return _render(session, candidates.get_candidate_for(session, current_user, candidate_id))


def _render(session, candidate, error: str = "", reason: str = "", status: int = 200):
    row = candidates.rows_for(session, [candidate])[0]
    page = render_template(
        "candidates/show.html",
        row=row,
        candidate=candidate,
        photos=photos.photos_of(session, candidate),
        settled_by=candidates.settled_by(session, candidate),
        sources=candidates.SOURCES,
        statuses=candidates.STATUSES,
        error=error,
        reason=reason,
        personal_data=True,
        back_url=url_for("candidates.index"),
    )
    return page, status


@bp.route("/<int:candidate_id>/id-number", methods=["POST"])
@login_required
def reveal_id_number(candidate_id: int):
    """Show a candidate's full ID number; the view is audited."""
    session = get_session()
    candidate = candidates.get_candidate_for(session, current_user, candidate_id)
    number = candidates.reveal_id_number(session, actor(), candidate)
    session.commit()
    return render_page_or_partial(
        "candidates/id_number.html",
        "candidates/_id_number.html",
        candidate=candidate,
        number=number,
        personal_data=True,
        back_url=url_for("candidates.show", candidate_id=candidate.id),
    )


@bp.route("/<int:candidate_id>/registered", methods=["POST"])
@login_required
def mark_registered(candidate_id: int):
    """Record that the candidate was registered as a household (已登记)."""
    session = get_session()
    candidate = candidates.get_candidate_for(session, current_user, candidate_id, "candidates.settle")
    try:
        candidates.mark_registered(session, actor(), candidate)
    except Conflict as problem:
        return _render(session, candidate, error=str(problem), status=409)
    session.commit()
    flash("已标记为已登记", "success")
    return redirect(url_for("candidates.show", candidate_id=candidate.id))


@bp.route("/<int:candidate_id>/dismissed", methods=["POST"])
@login_required
def dismiss(candidate_id: int):
    """Dismiss the candidate after checking, with the reason (排除)."""
    session = get_session()
    candidate = candidates.get_candidate_for(session, current_user, candidate_id, "candidates.settle")
    reason = request.form.get("reason", "")
    try:
        candidates.dismiss(session, actor(), candidate, reason)
    except Invalid as problem:  # checked before anything changed
        return _render(session, candidate, error=str(problem), reason=reason[:200], status=400)
    except Conflict as problem:
        return _render(session, candidate, error=str(problem), status=409)
    session.commit()
    flash("已排除", "success")
    return redirect(url_for("candidates.show", candidate_id=candidate.id))


# ---- 上报疑似困难户 -------------------------------------------------------------------------


def _report_form(errors: dict | None = None, form=None, status: int = 200):
    session = get_session()
    villages = list(session.exec(areas.areas_in_scope(current_user, level=4)))
    form = form or {}
    page = render_template(
        "candidates/report.html",
        villages=villages,
        chosen=form.get("area_code") or current_user.area_code,
        form=form,
        report_uuid=_uuid_or_new(form.get("uuid")),
        errors=errors or {},
        back_url=request.referrer if _same_site(request.referrer) else url_for("main.home"),
    )
    return page, status


def _uuid_or_new(text: str | None) -> str:
    """Keep the report's UUID through a refusal (a resend lands once); make one when there is none to keep."""
    try:
        return str(uuid.UUID((text or "")[:36]))
    except ValueError:
        return str(uuid.uuid4())


def _same_site(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)


@bp.route("/report", methods=["GET", "POST"])
@login_required
def report():
    """The one-tap field report; the page's script sends it through the outbox, this POST serves phones without it."""
    require(current_user, "candidates.report")
    if request.method == "GET":
        return _report_form()
    session = get_session()
    try:
        report_uuid = str(uuid.UUID(request.form.get("uuid", "")[:36]))
    except ValueError:
        return _report_form({"form": "页面已过期，请重新填写"}, request.form, 400)
    fields = candidates.FieldReport(
        uuid=report_uuid,
        name=request.form.get("name", ""),
        area_code=request.form.get("area_code", ""),
        description=request.form.get("description", ""),
    )
    upload = request.files.get("photo")
    try:
        candidate, created = candidates.report(session, actor(), fields)
        photo = None
        if created and upload is not None and upload.filename:
            photo, _new = photos.add_candidate_photo(
                session,
                actor(),
                candidate,
                uuid=str(uuid.uuid4()),
                caption=None,
                data=upload.read(),
                folder=photo_folder(),
            )
    except Invalid as problem:  # the report or its photo: nothing is kept, the form keeps what was typed
        session.rollback()
        return _report_form(problem.errors, request.form, 400)
    except Conflict as problem:
        session.rollback()
        return _report_form({"form": str(problem)}, None, 409)
    try:
        session.commit()
    except Exception:
        session.rollback()
        if photo is not None:
            visit_photos.discard_unreferenced(session, photo_folder(), photo.sha256)  # no row, no file
        raise
    flash("已上报，乡镇将核实", "success")
    return redirect(url_for("candidates.show", candidate_id=candidate.id))
