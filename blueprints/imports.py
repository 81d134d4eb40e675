"""Roster import pages (to be filled in)."""

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("imports", __name__, url_prefix="/imports")


@bp.route("/")
@login_required
def upload():
    """Show the upload form."""
    return "", 204
