"""JSON API for the offline client: /api/v1/… (session cookie, X-CSRFToken on writes)."""

from functools import wraps
from pathlib import Path

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from blueprints import actor
from db import get_session
from services import photos, visits
from services.schemas import VisitIn, VisitOut, validation_messages

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MESSAGES = {
    400: ("bad_request", "请求有误"),
    401: ("login_required", "请先登录"),
    403: ("forbidden", "您没有权限做这件事"),
    404: ("not_found", "没有找到，或不在您的辖区内"),
    405: ("method_not_allowed", "不支持这种请求方式"),
    409: ("conflict", "与已保存的内容冲突"),
    413: ("too_large", "上传的文件太大"),
    429: ("too_many_requests", "操作太频繁，请稍后再试"),
    500: ("server_error", "系统出了点问题，请稍后再试"),
}


def error(status: int, code: str | None = None, message: str | None = None, **extra):
    """Return a JSON error body {"error", "message"} with the status."""
    default_code, default_message = MESSAGES.get(status, ("error", "出错了"))
    return jsonify(error=code or default_code, message=message or default_message, **extra), status


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


def photo_out(photo) -> dict:
    """Serialise a photo with its access-checked URLs."""
    return {
        "uuid": photo.uuid,
        "caption": photo.caption,
        "width": photo.width,
        "height": photo.height,
        "size_bytes": photo.size_bytes,
        "url": url_for("photos.show", photo_id=photo.id),
        "thumb_url": url_for("photos.thumb", photo_id=photo.id),
    }


@bp.post("/visits")
@api_login_required
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


@bp.post("/visits/<uuid>/photos")
@api_login_required
def add_photo(uuid: str):
    """Add one photo (multipart: file, uuid, caption) to a visit; a replayed photo UUID answers 200."""
    session = get_session()
    visit = visits.get_visit_by_uuid_for(session, current_user, uuid)
    upload = request.files.get("file")
    photo_uuid = (request.form.get("uuid") or "").strip()
    if upload is None or not visits.looks_like_uuid(photo_uuid):
        return error(400, "invalid", "请同时提交照片文件（file）和照片编号（uuid）")
    caption = (request.form.get("caption") or "").strip()[:32] or None
    folder = photo_folder()
    try:
        photo, created = photos.add_photo(
            session, actor(), visit, uuid=photo_uuid, caption=caption, data=upload.read(), folder=folder
        )
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
    return jsonify(photo_out(photo)), (201 if created else 200)
