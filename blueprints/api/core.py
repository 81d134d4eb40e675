"""The api blueprint itself: its errors in JSON, its login check, its routes' registration, and photo uploads.

Every route comes from the registry in services/api/openapi.py, which also describes it in /api/v1/openapi.json.
"""

from functools import wraps

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from blueprints import photo_folder
from db import get_session
from extensions import csrf
from services.api import openapi
from services.api.schemas import ErrorOut, InvalidOut, PhotoIn, PhotoOut, validation_messages
from services.errors import DoudiError
from services.visits import photos
from services.visits.visits import looks_like_uuid

bp = Blueprint("api", __name__, url_prefix=openapi.PREFIX)
csrf.exempt(bp)  # checked in api_login_required, after the login check

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


def refusal(problem: DoudiError):
    """Answer a service's refusal in JSON: its status, its stable code, its message and any facts it carries."""
    _code, default_message = MESSAGES.get(problem.status, ("error", "出错了"))
    body = {"error": problem.code, "message": problem.message if problem.given else default_message, **problem.detail}
    return jsonify(body), problem.status


def invalid(problem: ValidationError, words: dict[str, str] | None = None):
    """Answer a body the schema refused: 422, with a Chinese message for each wrong field."""
    fields = validation_messages(problem, words)
    return error(422, "invalid", "提交的内容有误，请检查标红的项目", fields=fields)


@bp.errorhandler(DoudiError)
def refused(problem: DoudiError):
    """Undo everything the request wrote and say why (a reserve may have been drawn before a later check failed)."""
    get_session().rollback()
    return refusal(problem)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    """Answer every HTTP error under /api/v1 in JSON, never with an HTML page; a 405 names the methods it allows."""
    body, status = error(exc.code or 500)
    allowed = getattr(exc, "valid_methods", None)
    if allowed:
        body.headers["Allow"] = ", ".join(sorted(allowed))
    return body, status


@bp.errorhandler(CSRFError)
def csrf_error(_exc):
    """Explain a missing X-CSRFToken header."""
    return error(400, "csrf", "缺少或无效的 X-CSRFToken 请求头，请刷新页面后重试")


def api_login_required(view):
    """Answer 401 in JSON instead of redirecting to the login page, then check a write's X-CSRFToken.

    The blueprint is exempt from CSRFProtect's own check (csrf.exempt(bp) above), which runs before any
    view: without a session the answer must be 401, as the OpenAPI says, not a CSRF refusal.
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return error(401)
        if current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()  # raises CSRFError for a write without a valid token (csrf_error above answers)
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


@route(openapi.OPENAPI)
def openapi_document():
    """Describe this API in OpenAPI 3.1, generated from the registry and the pydantic schemas."""
    return openapi.document(cookie_name=current_app.config.get("SESSION_COOKIE_NAME", "session"))


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


def photo_upload(session, store, serialise):
    """Check a multipart photo upload, store it through `store`, commit, and answer 201, or 200 for a replay.

    Shared by visit photos and relief evidence; `store(uuid=, caption=, data=, folder=)` returns (photo, created).
    """
    upload = request.files.get("file")
    photo_uuid = (request.form.get("uuid") or "").strip()
    if upload is None or not looks_like_uuid(photo_uuid):
        return error(400, "invalid", "请同时提交照片文件（file）和照片编号（uuid）")
    caption = (request.form.get("caption") or "").strip()
    if caption == "null":  # multipart has no null: a client that serialised a missing caption sent the word
        caption = ""
    try:
        form = PhotoIn(file=upload.read(), uuid=photo_uuid, caption=caption or None)
    except ValidationError as problem:
        return error(400, "invalid", "；".join(m["message"] for m in validation_messages(problem)))
    folder = photo_folder()
    photo, created = store(uuid=photo_uuid, caption=form.caption, data=form.file, folder=folder)
    try:
        session.commit()
    except Exception:
        session.rollback()
        photos.discard_unreferenced(session, folder, photo.sha256)  # no row, no file
        raise
    return jsonify(serialise(photo)), (201 if created else 200)
