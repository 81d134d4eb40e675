"""The in-app scanner: camera, photo or household number, each leading to a household in scope."""

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from db import get_session
from services.registry import households

bp = Blueprint("scan", __name__, url_prefix="/scan")

MAX_CHOICES = 50  # a city officer's "0001" is in every village: show the first ones, ask to narrow down
MAX_NUMBER_LENGTH = 16  # as long as a household number can be


def _scan_page(number: str = "", not_found: bool = False):
    return render_template(
        "scan/index.html",
        deliver=request.args.get("mode") == "deliver",
        decoder="qr-scanner" if request.args.get("decoder") == "qr-scanner" else "auto",
        number=number,
        not_found=not_found,
    )


@bp.route("/")
@login_required
def index():
    """Show the scanner: camera, photo, and household-number entry."""
    return _scan_page()


@bp.route("/lookup")
@login_required
def lookup():
    """Open the household with this number in the user's scope, or let the user choose between several."""
    number = request.args.get("no", "").strip()[:MAX_NUMBER_LENGTH]
    if not number:
        return _scan_page(not_found=False)
    session = get_session()
    query = households.households_by_number(current_user, number)
    rows, has_more = households.list_rows(session, query, offset=0, limit=MAX_CHOICES)
    if not rows:
        return _scan_page(number=number, not_found=True)
    if len(rows) == 1 and not has_more:
        return redirect(url_for("households.show", household_id=rows[0].household.id))
    return render_template(
        "scan/choose.html",
        number=number,
        rows=rows,
        has_more=has_more,
        personal_data=True,
        back_url=url_for("scan.index"),
    )
