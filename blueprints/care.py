"""Care: a household's agreements (form, signed-paper photos, the .docx to print), and 集中供养 requests."""

import uuid as uuid_module

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from blueprints import actor, attachment, page_number, photo_folder, render_page_or_partial, send_stored_photo
from db import get_session
from models import Household, Person
from services import audit
from services.care import agreement_docx, agreements, institution
from services.clock import today_in_china
from services.errors import Invalid
from services.names import household_label
from services.permissions import can, require
from services.registry import households
from services.visits import photos as photo_pipeline
from services.visits.visits import looks_like_uuid

bp = Blueprint("care", __name__)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PAGE_SIZE = 20


def _household(household_id: int):
    return households.get_household_for(get_session(), current_user, household_id)


def _back(household) -> str:
    return url_for("households.show", household_id=household.id) + "#care"


# ---- agreements ----------------------------------------------------------------------------


@bp.route("/households/<int:household_id>/agreements/new", methods=["GET", "POST"])
@login_required
def new(household_id: int):
    """Record a care agreement: signed (with dates), or to print blank-dated and sign."""
    session = get_session()
    household = _household(household_id)
    require(current_user, "care.record")
    households.check_active(household, "登记照料协议")
    errors, form = {}, request.form
    if request.method == "POST":
        try:
            data = agreements.parse_form(session, household, form)
            agreement = agreements.add_agreement(session, actor(), household, data)
        except Invalid as problem:
            session.rollback()
            errors = problem.errors
        else:
            session.commit()
            flash("照料协议已登记", "success")
            return redirect(url_for("care.show", household_id=household.id, agreement_id=agreement.id))
    else:
        form = _new_form(session, household)
    return _form(household, None, form, errors)


def _new_form(session, household) -> dict:
    members = households.members_with_categories(session, household)
    cared = next(((p, c) for p, c in members if set(c) & set(agreements.KIND_FOR_CATEGORY)), None)
    person, cats = cared or (members[0] if members else (None, []))
    kind = next((agreements.KIND_FOR_CATEGORY[c] for c in cats if c in agreements.KIND_FOR_CATEGORY), "tekun")
    signed, until = agreements.suggested_dates()
    return {
        "person_id": str(person.id) if person else "",
        "kind": kind,
        "carer_name": household.guardian or "",
        "duties": agreements.default_duties(kind),
        "signed_on": signed.isoformat(),
        "valid_until": until.isoformat(),
    }


def _form(household, agreement, form, errors: dict):
    session = get_session()
    members = households.members_with_categories(session, household)
    back = url_for("care.show", household_id=household.id, agreement_id=agreement.id) if agreement else _back(household)
    return render_template(
        "care/form.html",
        household=household,
        agreement=agreement,
        label=household_label(session, household),
        members=members,
        form=form,
        errors=errors,
        kinds=agreements.KINDS,
        relations=agreements.RELATIONS,
        default_duties={kind: agreements.default_duties(kind) for kind in agreements.KINDS},
        personal_data=True,
        back_url=back,
    ), (400 if errors else 200)


@bp.route("/households/<int:household_id>/agreements/<int:agreement_id>")
@login_required
def show(household_id: int, agreement_id: int):
    """Show one agreement: the parties, the duties, the dates, the photos of the signed paper."""
    session = get_session()
    agreement = agreements.get_agreement_for(session, current_user, household_id, agreement_id)
    household = _household(household_id)
    person = session.get(Person, agreement.person_id)
    return render_template(
        "care/show.html",
        household=household,
        agreement=agreement,
        person=person,
        label=household_label(session, household),
        valid=agreements.is_valid(agreement, today_in_china()),
        photos=agreements.photos_of(session, agreement),
        max_photos=agreements.MAX_PHOTOS,
        photo_uuid=str(uuid_module.uuid4()),  # one per page view: a resent upload lands once
        kinds=agreements.KINDS,
        statuses=agreements.STATUSES,
        personal_data=True,
        back_url=_back(household),
    )


@bp.route("/households/<int:household_id>/agreements/<int:agreement_id>/edit", methods=["GET", "POST"])
@login_required
def edit(household_id: int, agreement_id: int):
    """Change an agreement: the dates once it is signed, the carer, the duties."""
    session = get_session()
    agreement = agreements.get_agreement_for(session, current_user, household_id, agreement_id)
    household = _household(household_id)
    require(current_user, "care.record")
    errors = {}
    if request.method == "POST":
        form = request.form
        try:
            data = agreements.parse_form(session, household, form)
            agreements.update_agreement(session, actor(), household, agreement, data)
        except Invalid as problem:
            session.rollback()
            errors = problem.errors
        else:
            session.commit()
            flash("已保存", "success")
            return redirect(url_for("care.show", household_id=household.id, agreement_id=agreement.id))
    else:
        fields = ("person_id", "kind", "carer_name", "carer_phone", "carer_relation", "duties")
        form = {name: str(getattr(agreement, name)) for name in fields}
        form["signed_on"] = agreement.signed_on.isoformat() if agreement.signed_on else ""
        form["valid_until"] = agreement.valid_until.isoformat() if agreement.valid_until else ""
    return _form(household, agreement, form, errors)


@bp.route("/households/<int:household_id>/agreements/<int:agreement_id>/end", methods=["POST"])
@login_required
def end(household_id: int, agreement_id: int):
    """End an agreement (the carer stopped, the person moved away or died)."""
    session = get_session()
    agreement = agreements.get_agreement_for(session, current_user, household_id, agreement_id)
    household = _household(household_id)
    agreements.end_agreement(session, actor(), household, agreement)
    session.commit()
    flash("协议已终止", "success")
    return redirect(url_for("care.show", household_id=household.id, agreement_id=agreement.id))


@bp.route("/households/<int:household_id>/agreements/<int:agreement_id>/photos", methods=["POST"])
@login_required
def add_photo(household_id: int, agreement_id: int):
    """Store a photo of the signed paper (multipart: file, uuid), then show the agreement again."""
    session = get_session()
    agreement = agreements.get_agreement_for(session, current_user, household_id, agreement_id)
    upload = request.files.get("file")
    photo_uuid = (request.form.get("uuid") or "").strip()
    target = url_for("care.show", household_id=household_id, agreement_id=agreement.id)
    if upload is None or not upload.filename or not looks_like_uuid(photo_uuid):
        flash("请选择协议的照片", "error")
        return redirect(target)
    folder = photo_folder()
    try:
        photo, created = agreements.add_photo(
            session, actor(), agreement, uuid=photo_uuid, data=upload.read(), folder=folder
        )
    except Invalid as problem:
        session.rollback()
        flash(str(problem), "error")
        return redirect(target)
    try:
        session.commit()
    except Exception:
        session.rollback()
        photo_pipeline.discard_unreferenced(session, folder, photo.sha256)  # no row, no file
        raise
    flash("照片已保存" if created else "这张照片已经保存过", "success")
    return redirect(target)


def _send_photo(agreement_photo_id: int, thumb: bool):
    return send_stored_photo(agreements.get_photo_for(get_session(), current_user, agreement_photo_id), thumb)


@bp.route("/care/photos/<int:agreement_photo_id>.jpg")
@login_required
def photo(agreement_photo_id: int):
    """Send a photo of a signed agreement to staff whose scope holds its household."""
    return _send_photo(agreement_photo_id, thumb=False)


@bp.route("/care/photos/<int:agreement_photo_id>_t.jpg")
@login_required
def photo_thumb(agreement_photo_id: int):
    """Send a signed agreement photo's thumbnail."""
    return _send_photo(agreement_photo_id, thumb=True)


@bp.route("/households/<int:household_id>/agreements/<int:agreement_id>.docx")
@login_required
def docx(household_id: int, agreement_id: int):
    """Send the agreement as a Word document filled in from the registry, to print and sign."""
    session = get_session()
    agreement = agreements.get_agreement_for(session, current_user, household_id, agreement_id)
    body = agreement_docx.build(session, agreement)
    audit.record(session, actor(), "care.agreement_downloaded", agreement, household_id=household_id)
    session.commit()
    response = Response(body, mimetype=DOCX)
    chinese = f"{agreements.KINDS[agreement.kind]}-{agreement.id}.docx"
    response.headers["Content-Disposition"] = attachment(f"care-agreement-{agreement.id}.docx", chinese)
    return response


# ---- institution requests ------------------------------------------------------------------


@bp.route("/households/<int:household_id>/institution-requests", methods=["POST"])
@login_required
def request_new(household_id: int):
    """Record a member's wish to move into an institution (once: an open request answers instead)."""
    session = get_session()
    household = _household(household_id)
    try:
        record, created = institution.raise_from_form(session, actor(), household, request.form)
    except Invalid as problem:
        session.rollback()
        flash(str(problem), "error")
        return redirect(_back(household))
    session.commit()
    flash("集中供养申请已登记，等乡镇确认" if created else "这位成员已有未办结的申请", "success")
    return redirect(url_for("care.request_show", request_id=record.id))


@bp.route("/care/requests")
@login_required
def requests():
    """List the 集中供养 requests in scope, the longest waiting first (the open ones unless ?status= says)."""
    require(current_user, "institution.list")
    session = get_session()
    status = request.args.get("status", "")
    status = status if status in institution.STATUSES else ""
    page = page_number()
    rows, has_more = institution.list_requests(
        session, current_user, status=status, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    return render_page_or_partial(
        "care/requests.html",
        "care/_request_rows.html",
        rows=rows,
        has_more=has_more,
        page=page,
        status=status,
        statuses=institution.STATUSES,
        personal_data=True,
    )


@bp.route("/care/requests/<int:request_id>")
@login_required
def request_show(request_id: int):
    """Show one request and what the user may do with it next."""
    session = get_session()
    record = institution.get_request_for(session, current_user, request_id)
    return _request_page(session, record, {})


def _request_page(session, record, errors: dict):
    household = session.get(Household, record.household_id)
    person = session.get(Person, record.person_id)
    placed_in = session.get(Household, record.institution_id) if record.institution_id else None
    choices = institution.institutions_for(session, record) if can(current_user, "institution.place") else []
    return render_template(
        "care/request.html",
        record=record,
        household=household,
        person=person,
        label=household_label(session, household),
        placed_in=placed_in,
        placed_label=household_label(session, placed_in) if placed_in else "",
        choices=choices,
        statuses=institution.STATUSES,
        errors=errors,
        personal_data=True,
        back_url=url_for("care.requests") if can(current_user, "institution.list") else _back(household),
    ), (400 if errors else 200)


def _act(request_id: int, act) -> Response:
    """Run one decision on a request; a refusal shows the request again with the reason."""
    session = get_session()
    record = institution.get_request_for(session, current_user, request_id)
    try:
        done = act(session, record)
    except Invalid as problem:
        session.rollback()
        record = institution.get_request_for(session, current_user, request_id)
        return _request_page(session, record, problem.errors)
    session.commit()
    flash(done, "success")
    return redirect(url_for("care.request_show", request_id=record.id))


@bp.route("/care/requests/<int:request_id>/confirm", methods=["POST"])
@login_required
def request_confirm(request_id: int):
    """The township confirms the wish."""

    def act(session, record):
        institution.confirm(session, actor(), record)
        return "已确认，等县（区）安置"

    return _act(request_id, act)


@bp.route("/care/requests/<int:request_id>/place", methods=["POST"])
@login_required
def request_place(request_id: int):
    """The county places the person in one of its institutions; the person's record moves there."""

    def act(session, record):
        place = institution.place(session, actor(), record, request.form.get("institution_id"))
        return f"已安置到{household_label(session, place)}，人员档案已转入该机构"

    return _act(request_id, act)


@bp.route("/care/requests/<int:request_id>/decline", methods=["POST"])
@login_required
def request_decline(request_id: int):
    """The township (before confirming) or the county (before placing) declines, with a reason."""

    def act(session, record):
        institution.decline(session, actor(), record, request.form.get("reason"))
        return "已作出不予安置的决定"

    return _act(request_id, act)
