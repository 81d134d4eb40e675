"""Account management for county and city officers and admins (to be filled in)."""

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("users", __name__, url_prefix="/users")


@bp.route("/")
@login_required
def index():
    """List accounts in scope."""
    return "", 204
