"""Household cards: the scan landing page, card images, print sheets, delivery and reissue."""

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from blueprints import actor, remember_scan
from db import get_session
from extensions import limiter
from models import Area, Household
from services import audit
from services.cards import cards, qr
from services.cards import image as card_image
from services.cards import pdf as card_pdf
from services.errors import Conflict, Invalid
from services.permissions import require
from services.registry import areas, households
from services.scope import is_in_scope

bp = Blueprint("cards", __name__)

SCAN_LIMIT = "30 per minute"  # tokens are 256-bit random, but nobody gets to try them by the thousand


def base_url() -> str:
    """Return the public address cards point at (PUBLIC_BASE_URL, else this request's host)."""
    return current_app.config.get("PUBLIC_BASE_URL") or request.host_url


@bp.route("/h/<token>")
@limiter.limit(SCAN_LIMIT)
def landing(token: str):
    """Open a scanned card: staff in scope go to the household, everyone else sees contacts only."""
    session = get_session()
    card = cards.card_by_token(session, token)
    if card is None:
        abort(404)
    household = session.get(Household, card.household_id)
    hotline = areas.hotline_for(session, household.area_code)
    if current_user.is_authenticated:
        scan = cards.record_scan(session, actor(), card, household)
        session.commit()
        if card.revoked_at is not None:
            return render_template("cards/revoked.html", hotline=hotline, staff=True), 410
        if not is_in_scope(current_user, household.area_code):
            return render_template("cards/out_of_scope.html"), 403
        deliver = "1" if request.args.get("deliver") == "1" else None
        remember_scan(household.id, scan.id)  # the visit form cites it as evidence
        return redirect(url_for("households.show", household_id=household.id, scan=1, deliver=deliver))
    if card.revoked_at is not None:
        return render_template("cards/revoked.html", hotline=hotline, staff=False), 410
    face = cards.card_faces(session, [household], base_url())[0][2]
    return render_template("cards/resident.html", face=face, token=token)


@bp.route("/households/<int:household_id>/card")
@login_required
def card_page(household_id: int):
    """Show the household's live card in a page, with a way back (the image alone has none)."""
    session = get_session()
    household = households.get_household_for(session, current_user, household_id)
    faces = cards.card_faces(session, [household], base_url())
    return render_template(
        "cards/card.html",
        household=household,
        face=faces[0][2] if faces else None,
        back_url=url_for("households.show", household_id=household.id),
        personal_data=True,
    )


@bp.route("/households/<int:household_id>/card.png")
@login_required
def card_png(household_id: int):
    """Draw the household's live card."""
    session = get_session()
    household = households.get_household_for(session, current_user, household_id)
    faces = cards.card_faces(session, [household], base_url())
    if not faces:
        abort(404)
    response = Response(card_image.card_png(faces[0][2]), mimetype="image/png")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/households/<int:household_id>/card/deliver", methods=["POST"])
@login_required
def deliver(household_id: int):
    """Record that the card has been handed to the household."""
    session = get_session()
    household = households.get_household_for(session, current_user, household_id)
    try:
        cards.confirm_delivery(session, actor(), household)
    except Invalid as problem:
        flash(str(problem), "error")
    else:
        session.commit()
        flash("已记录：服务卡已交到户", "success")
    return redirect(url_for("households.show", household_id=household.id))


@bp.route("/households/<int:household_id>/card/reissue", methods=["POST"])
@login_required
def reissue(household_id: int):
    """Issue a new card; the old one stops working at once (township officers and above)."""
    session = get_session()
    household = households.get_household_for(session, current_user, household_id, "card.reissue")
    try:
        cards.reissue(session, actor(), household)
    except Conflict as problem:
        flash(str(problem), "error")
    else:
        session.commit()
        flash("已补办新卡，旧卡立即作废。请打印新卡并交到户。", "success")
    return redirect(url_for("households.show", household_id=household.id))


def _print_area():
    """Return the village or township asked for in ?area=, if the user may print its cards."""
    require(current_user, "cards.print")
    area = areas.get_area(get_session(), request.values.get("area", ""))  # the query, or the print button's form
    if area is None or area.level not in (3, 4) or not is_in_scope(current_user, area.code):
        abort(404)
    return area


def _printed(area):
    session = get_session()
    query = cards.households_to_print(current_user, area.code, request.values.get("only") == "undelivered")
    return cards.card_faces(session, list(session.exec(query)), base_url())


@bp.route("/cards/")
@login_required
def index():
    """Choose a village or township whose cards to print; see recent print batches."""
    require(current_user, "cards.print")
    session = get_session()
    choices = list(session.exec(areas.areas_in_scope(current_user).where(Area.level.in_((3, 4)))))
    batches = list(session.exec(cards.recent_batches(current_user)))
    names = areas.area_names(session, [b.area_code for b in batches])
    return render_template(
        "cards/index.html",
        choices=choices,
        batches=batches,
        names=names,
        formats=cards.PRINT_FORMATS,
        back_url=url_for("main.me"),
    )


@bp.route("/cards/sheet", methods=["GET", "POST"])
@login_required
def sheet():
    """Show an A4 page of cards to print from the browser (2 × 5, cut marks, 100 %); 打印 (a POST) records it."""
    area = _print_area()
    printed = _printed(area)
    if request.method == "POST":  # the 打印 button: record the batch, then print the same page
        if printed:  # an empty page prints nothing: no batch, as for the PDF
            cards.record_print(get_session(), actor(), area.code, printed, "html")
            get_session().commit()
        only = request.values.get("only") or None
        return redirect(url_for("cards.sheet", area=area.code, only=only, print=1 if printed else None))
    drawn = [
        (household, face, card_image.card_lines(face), qr.svg_code(face.url)) for household, _card, face in printed
    ]
    pages = [drawn[i : i + 10] for i in range(0, len(drawn), 10)]
    autoprint = request.args.get("print") == "1"
    return render_template(
        "cards/sheet.html",
        area=area,
        pages=pages,
        autoprint=autoprint,
        title=card_image.TITLE,
        footer=card_image.FOOTER,
        personal_data=True,
    )


@bp.route("/cards/sheet.pdf", methods=["GET", "POST"])
@login_required
def sheet_pdf():
    """Send the same sheets as a PDF for the township office printer; the print page's button (a POST) records it."""
    area = _print_area()
    printed = _printed(area)
    if not printed:
        flash("这个地区没有要打印的户卡", "info")
        return redirect(url_for("cards.index"))
    pdf = card_pdf.sheet_pdf([face for _h, _c, face in printed])
    session = get_session()
    if request.method == "POST":
        cards.record_print(session, actor(), area.code, printed, "pdf")
    else:  # a plain download: recorded in the audit trail, and nothing marked printed
        audit.record(session, actor(), "cards.downloaded", None, area_code=area.code, households=len(printed))
    session.commit()
    response = Response(card_pdf.stream(pdf), mimetype="application/pdf")  # written out piece by piece
    response.headers["Content-Length"] = str(len(pdf))
    response.headers["Content-Disposition"] = f'attachment; filename="cards-{area.code}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
