"""The 走访 tab: who is due a visit, recent visits; visit frequencies (to be filled in)."""

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("schedule", __name__)


@bp.route("/visits/")
@login_required
def index():
    """List due and overdue visits and recent ones."""
    return "", 204
