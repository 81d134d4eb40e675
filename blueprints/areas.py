"""Township and county hotlines (to be filled in)."""

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("areas", __name__, url_prefix="/areas")


@bp.route("/hotlines")
@login_required
def hotlines():
    """List the hotlines in scope."""
    return "", 204
