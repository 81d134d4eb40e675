"""Photos, served only after the scope check, never cached by shared caches."""

from flask import Blueprint
from flask_login import current_user, login_required

from blueprints import send_stored_photo
from db import get_session
from services.candidates import photos as candidate_photos
from services.relief import evidence
from services.visits import photos

bp = Blueprint("photos", __name__, url_prefix="/photos")


def _send(photo_id: int, thumb: bool):
    return send_stored_photo(photos.get_photo_for(get_session(), current_user, photo_id), thumb)


@bp.route("/<int:photo_id>.jpg")
@login_required
def show(photo_id: int):
    """Send a photo (1600 px) to staff whose scope holds its household."""
    return _send(photo_id, thumb=False)


@bp.route("/<int:photo_id>_t.jpg")
@login_required
def thumb(photo_id: int):
    """Send a photo's thumbnail (320 px)."""
    return _send(photo_id, thumb=True)


@bp.route("/relief/<int:photo_id>.jpg")
@login_required
def relief_show(photo_id: int):
    """Send a relief evidence photo to staff whose scope holds the application's household."""
    return send_stored_photo(evidence.get_relief_photo_for(get_session(), current_user, photo_id), thumb=False)


@bp.route("/relief/<int:photo_id>_t.jpg")
@login_required
def relief_thumb(photo_id: int):
    """Send a relief evidence photo's thumbnail."""
    return send_stored_photo(evidence.get_relief_photo_for(get_session(), current_user, photo_id), thumb=True)


@bp.route("/candidates/<int:photo_id>.jpg")
@login_required
def candidate_show(photo_id: int):
    """Send a field report's photo to staff whose scope holds the candidate."""
    return send_stored_photo(
        candidate_photos.get_candidate_photo_for(get_session(), current_user, photo_id), thumb=False
    )


@bp.route("/candidates/<int:photo_id>_t.jpg")
@login_required
def candidate_thumb(photo_id: int):
    """Send a field report's photo as a thumbnail."""
    return send_stored_photo(
        candidate_photos.get_candidate_photo_for(get_session(), current_user, photo_id), thumb=True
    )
