"""JSON API for the offline client: /api/v1/… (session cookie, X-CSRFToken on writes).

Every route comes from the registry in services/openapi.py, which also describes it in /api/v1/openapi.json.
"""

from functools import wraps
from pathlib import Path

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from blueprints import actor, page_number
from db import get_session
from services.accounts.users import ROLES
from services.api import openapi
from services.api.schemas import (
    ErrorOut,
    HouseholdItemOut,
    HouseholdListOut,
    HouseholdOut,
    InvalidOut,
    MemberOut,
    MeOut,
    PhotoIn,
    PhotoOut,
    VisitIn,
    VisitOut,
    VisitSummaryOut,
    validation_messages,
)
from services.cards import cards
from services.registry import areas, households
from services.registry.categories import CATEGORIES, label
from services.registry.idnumber import mask
from services.scope import scope_prefix
from services.visits import photos, visits

bp = Blueprint("api", __name__, url_prefix=openapi.PREFIX)

PAGE_SIZE = 50
RECENT_VISITS = 5

MESSAGES = {
    400: ("bad_request", "请求有误"),
    401: ("login_required", "请先登录"),
    403: ("forbidden", "您没有权限做这件事"),
    404: ("not_found", "没有找到，或不在您的辖区内"),
    405: ("method_not_allowed", "不支持这种请求方式"),
    409: ("conflict", "与已保存的内容冲突"),
    413: ("too_large", "上传的文件太大，请重新拍一张或选小一些的照片"),
    429: ("too_many_requests", "操作太频繁，请稍后再试"),
    500: ("server_error", "系统出了点问题，请稍后再试"),
}


def error(status: int, code: str | None = None, message: str | None = None, fields: list | None = None):
    """Return a JSON error body {"error", "message"} (and "fields" for a refused submission) with the status."""
    default_code, default_message = MESSAGES.get(status, ("error", "出错了"))
    values = {"error": code or default_code, "message": message or default_message}
    body = ErrorOut(**values) if fields is None else InvalidOut(**values, fields=fields)
    return jsonify(body.model_dump(mode="json")), status


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    """Answer every HTTP error under /api/v1 in JSON, never with an HTML page."""
    return error(exc.code or 500)


@bp.errorhandler(CSRFError)
def csrf_error(_exc):
    """Explain a missing X-CSRFToken header."""
    return error(400, "csrf", "缺少或无效的 X-CSRFToken 请求头，请刷新页面后重试")


def api_login_required(view):
    """Answer 401 in JSON instead of redirecting to the login page."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return error(401)
        if current_user.must_change_password:
            return error(403, "password_change_required", "请先修改初始密码")
        return view(*args, **kwargs)

    return wrapped


def route(operation: openapi.Operation):
    """Serve an operation of the registry: its rule and method, behind the login check unless public."""

    def decorator(view):
        guarded = view if operation.public else api_login_required(view)
        bp.add_url_rule(operation.rule, operation.endpoint, guarded, methods=[operation.method])
        return view

    return decorator


def photo_folder() -> Path:
    """Return where photos are stored (PHOTO_FOLDER, else instance/photos)."""
    return Path(current_app.config.get("PHOTO_FOLDER") or Path(current_app.instance_path) / "photos")


def visit_out(visit) -> dict:
    """Serialise a visit with its needs and photos for the API."""
    session = get_session()
    entry = next(e for e in visits.timeline_for_visits(session, [visit]))
    data = VisitOut(
        id=visit.id,
        uuid=visit.uuid,
        household_id=visit.household_id,
        kind=visit.kind,
        visited_at=visit.visited_at,
        risk=visit.risk,
        needs=[{"id": n.id, "type": n.type, "description": n.description, "status": n.status} for n in entry.needs],
        photos=[photo_out(p) for p in entry.photos],
    )
    return data.model_dump(mode="json")


def photo_out(photo, views: tuple[str, str] = ("photos.show", "photos.thumb")) -> dict:
    """Serialise a photo with its access-checked URLs (the views that serve it whole and as a thumbnail)."""
    show, thumb = views
    return PhotoOut(
        uuid=photo.uuid,
        caption=photo.caption,
        width=photo.width,
        height=photo.height,
        size_bytes=photo.size_bytes,
        url=url_for(show, photo_id=photo.id),
        thumb_url=url_for(thumb, photo_id=photo.id),
    ).model_dump(mode="json")


# ---- reading ---------------------------------------------------------------------------------


@route(openapi.ME)
def me():
    """Tell the client who is signed in and what they may see."""
    area = areas.get_area(get_session(), current_user.area_code)
    return MeOut(
        username=current_user.username,
        display_name=current_user.display_name,
        role=current_user.role,
        role_label=ROLES.get(current_user.role, current_user.role),
        area_code=current_user.area_code,
        area_name=area.name if area else current_user.area_code,
        scope_prefix=scope_prefix(current_user),
    ).model_dump(mode="json")


@route(openapi.HOUSEHOLDS)
def household_list():
    """List one page of active households in scope, searched by ?q=."""
    page = page_number()
    query = households.search_households(current_user, q=request.args.get("q", ""))
    rows, has_more = households.list_rows(get_session(), query, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    items = [_household_item(row) for row in rows]
    return HouseholdListOut(items=items, page=page, has_more=has_more).model_dump(mode="json")


def _household_item(row: households.HouseholdRow) -> HouseholdItemOut:
    household = row.household
    return HouseholdItemOut(
        id=household.id,
        household_no=household.household_no,
        area_code=household.area_code,
        village=row.village,
        head_name=row.head_name,
        members=row.members,
        categories=row.categories,
        category_labels=[label(c) for c in row.categories],
        status=household.status,
        last_visit_at=household.last_visit_at,
        last_risk=household.last_risk,
    )


@route(openapi.HOUSEHOLD)
def household_detail(household_id: int):
    """Show one household in scope: members with masked ID numbers, card, recent visits."""
    session = get_session()
    household = households.get_household_for(session, current_user, household_id)
    members = households.members_with_categories(session, household)
    area = areas.get_area(session, household.area_code)
    card = cards.live_card(session, household.id)
    categories = sorted({c for _, cs in members for c in cs}, key=list(CATEGORIES).index)
    return HouseholdOut(
        **household.model_dump(
            include={"id", "household_no", "area_code", "address", "phone", "kind", "status", "exit_reason"}
            | {"care_agreement_signed", "guardian", "wants_institutional_care", "last_visit_at", "last_risk"}
        ),
        village=area.name if area else household.area_code,
        categories=categories,
        category_labels=[label(c) for c in categories],
        card_delivered=card is not None and card.delivered_at is not None,
        members=[_member(person, person_categories) for person, person_categories in members],
        visits=[_visit_summary(entry) for entry in visits.timeline(session, household, limit=RECENT_VISITS)],
    ).model_dump(mode="json")


def _member(person, categories: list[str]) -> MemberOut:
    return MemberOut(
        id=person.id,
        name=person.name,
        relation=person.relation,
        is_head=person.is_head,
        sex=person.sex,
        birth_date=person.birth_date,
        id_number_masked=mask(person.id_number),  # the full number never leaves through the API
        phone=person.phone,
        disability_grade=person.disability_grade,
        categories=categories,
    )


def _visit_summary(entry: visits.TimelineEntry) -> VisitSummaryOut:
    visit = entry.visit
    return VisitSummaryOut(
        id=visit.id,
        uuid=visit.uuid,
        kind=visit.kind,
        visited_at=visit.visited_at,
        risk=visit.risk,
        visitor=entry.visitor,
        photos=len(entry.photos),
        needs=len(entry.needs),
        from_scan=entry.from_scan,
    )


@route(openapi.OPENAPI)
def openapi_document():
    """Describe this API in OpenAPI 3.1, generated from the registry and the pydantic schemas."""
    return openapi.document(cookie_name=current_app.config.get("SESSION_COOKIE_NAME", "session"))


# ---- writing ---------------------------------------------------------------------------------


@route(openapi.CREATE_VISIT)
def create_visit():
    """Record a visit once: 201 created, 200 the same visit again, 409 the UUID with other content."""
    try:
        payload = VisitIn.model_validate(request.get_json(silent=True) or {})
    except ValidationError as problem:
        return error(422, "invalid", "提交的内容有误，请检查标红的项目", fields=validation_messages(problem))
    session = get_session()
    try:
        visit, created = visits.record_visit(session, actor(), payload)
    except visits.VisitConflict as problem:
        return error(409, "visit_conflict", str(problem))
    except visits.VisitError as problem:
        return error(400, "visit_refused", str(problem))
    session.commit()
    return jsonify(visit_out(visit)), (201 if created else 200)


@route(openapi.ADD_PHOTO)
def add_photo(uuid: str):
    """Add one photo (multipart: file, uuid, caption) to a visit; a replayed photo UUID answers 200."""
    session = get_session()
    visit = visits.get_visit_by_uuid_for(session, current_user, uuid)
    return photo_upload(session, lambda **fields: photos.add_photo(session, actor(), visit, **fields), photo_out)


def photo_upload(session, store, serialise):
    """Check a multipart photo upload, store it through `store`, commit, and answer 201, or 200 for a replay.

    Shared by visit photos and relief evidence; `store(uuid=, caption=, data=, folder=)` returns (photo, created).
    """
    upload = request.files.get("file")
    photo_uuid = (request.form.get("uuid") or "").strip()
    if upload is None or not visits.looks_like_uuid(photo_uuid):
        return error(400, "invalid", "请同时提交照片文件（file）和照片编号（uuid）")
    caption = (request.form.get("caption") or "").strip()[:32] or None
    try:
        form = PhotoIn(file=upload.read(), uuid=photo_uuid, caption=caption)
    except ValidationError as problem:
        return error(400, "invalid", "；".join(m["message"] for m in validation_messages(problem)))
    folder = photo_folder()
    try:
        photo, created = store(uuid=photo_uuid, caption=form.caption, data=form.file, folder=folder)
    except photos.PhotoError as problem:
        return error(400, "photo_refused", str(problem))
    except photos.PhotoConflict as problem:
        return error(409, "photo_conflict", str(problem))
    try:
        session.commit()
    except Exception:
        session.rollback()
        photos.discard_unreferenced(session, folder, photo.sha256)  # no row, no file
        raise
    return jsonify(serialise(photo)), (201 if created else 200)


from blueprints import api_coverage, api_relief  # noqa: E402, F401  (their routes register on this blueprint)
