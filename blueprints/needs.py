"""Needs raised in visits, followed until resolved (to be filled in)."""

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("needs", __name__, url_prefix="/needs")


@bp.route("/")
@login_required
def index():
    """List needs in scope."""
    return "", 204
