"""Blueprints, one per product area, and the small helpers every view shares.

Blueprints never import each other: what two of them need lives here, or in services/.
"""

from pathlib import Path
from urllib.parse import quote

from flask import abort, current_app, make_response, render_template, request, send_file
from flask import session as cookie
from flask_login import current_user

from db import get_session
from services.audit import Actor

# names, not modules: a module imported here would shadow the blueprint module of the same name
from services.campaigns.campaigns import get_campaign
from services.campaigns.coverage import check_area
from services.inputs import small_int
from services.visits.photos import path_for

LAST_SCAN_KEY = "last_scan"  # signed-cookie key: [household id, CardScan id] of the last card this user scanned


def actor() -> Actor:
    """Return who is acting in this request, and from which address, for the audit trail."""
    user = current_user._get_current_object() if current_user.is_authenticated else None
    return Actor(user=user, ip=request.remote_addr)


def is_htmx() -> bool:
    """Tell whether htmx asked for a partial (a history restore wants the whole page)."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")


def render_page_or_partial(template: str, partial: str, **context):
    """Render the whole page, or only the partial for htmx; one URL serves both."""
    response = make_response(render_template(partial if is_htmx() else template, **context))
    response.headers["Vary"] = "HX-Request"
    return response


def page_number(default: int = 1) -> int:
    """Return the ?page= number, at least 1 (and small enough to stay a sane offset); anything else is page 1."""
    value = small_int(request.args.get("page"))
    return default if value is None else min(max(value, 1), 1_000_000)


def form_number(name: str, default: int = -1) -> int:
    """Return a whole number from the posted form (ASCII digits, at most MAX_ID), else default."""
    value = small_int(request.form.get(name))
    return default if value is None else value


def photo_folder() -> Path:
    """Return where photos are stored (PHOTO_FOLDER, else instance/photos)."""
    return Path(current_app.config.get("PHOTO_FOLDER") or Path(current_app.instance_path) / "photos")


def send_stored_photo(photo, thumb: bool):
    """Send a stored photo (any table of services/visits/photos.PHOTO_MODELS) the caller has checked access to."""
    path = path_for(photo_folder(), photo.sha256, thumb=thumb)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=0, conditional=True, etag=photo.sha256)
    response.headers["Cache-Control"] = "private, max-age=86400"  # the phone may keep it; no proxy may
    return response


def attachment(ascii_name: str, chinese_name: str) -> str:
    """Return a Content-Disposition naming the file in ASCII first (kept by every browser), Chinese second."""
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(chinese_name)}"


def upload_folder() -> Path:
    """Return where uploads wait for their 确认导入 (UPLOAD_FOLDER, else instance/imports); cleanup-files empties it."""
    return Path(current_app.config.get("UPLOAD_FOLDER") or Path(current_app.instance_path) / "imports")


def payouts_folder() -> Path:
    """Return where imported result files are kept, one folder per county (PAYOUTS_FOLDER, else instance/payouts)."""
    return Path(current_app.config.get("PAYOUTS_FOLDER") or Path(current_app.instance_path) / "payouts")


def campaign_from_request():
    """Return the campaign named in ?campaign=, else the one running today, else 404."""
    return get_campaign(get_session(), request.args.get("campaign"))


def area_from_request():
    """Return the area named in ?area= (else the user's own) if the user may see it; otherwise 404."""
    return check_area(get_session(), current_user, request.args.get("area") or current_user.area_code)


def remember_scan(household_id: int, scan_id: int) -> None:
    """Keep the card scan that led to a household, so its visit form can cite it as evidence."""
    cookie[LAST_SCAN_KEY] = [household_id, scan_id]


def scan_id_for(household_id: int) -> int | None:
    """Return the id of the card scan that led here, if the last card scanned was this household's."""
    last = cookie.get(LAST_SCAN_KEY)
    if isinstance(last, list) and len(last) == 2 and last[0] == household_id:
        return last[1]
    return None
