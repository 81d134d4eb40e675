"""The in-app scanner (to be filled in)."""

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("scan", __name__, url_prefix="/scan")


@bp.route("/")
@login_required
def index():
    """Show the scanner."""
    return "", 204
