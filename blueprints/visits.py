"""The visit form and a visit's page (to be filled in)."""

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("visits", __name__)


@bp.route("/households/<int:household_id>/visits/new")
@login_required
def new(household_id: int):
    """Show the visit form."""
    return "", 204


@bp.route("/visits/<int:visit_id>")
@login_required
def show(visit_id: int):
    """Show one visit."""
    return "", 204
