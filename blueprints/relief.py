"""Temporary relief pages: apply, the approver's one screen, decisions, the 审批 tab (to be filled in)."""

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("relief", __name__, url_prefix="/relief")


@bp.route("/")
@login_required
def index():
    """List applications waiting for this user (the 审批 tab)."""
    return "", 204
