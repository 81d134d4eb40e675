"""Relief overview per township and month, overdue paperwork, township funds (to be filled in)."""

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("relief_overview", __name__, url_prefix="/relief/overview")


@bp.route("/")
@login_required
def index():
    """Show the overview."""
    return "", 204
