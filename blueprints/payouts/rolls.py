"""应发名册: a county officer chooses a program and period, sees who is on the roll, and downloads it for the bank."""

from flask import Response, render_template, request
from flask_login import current_user, login_required

from blueprints import actor, attachment
from blueprints.payouts import bp
from db import get_session
from services.clock import today_in_china
from services.payouts import rolls
from services.permissions import require
from services.registry.idnumber import mask

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _roll():
    """Return the roll asked for (query or the download form): always the user's own county."""
    require(current_user, "payouts.rolls")
    session = get_session()
    county = rolls.own_county(session, current_user, request.values.get("county"))
    program, period = rolls.parse_choice(
        session, request.values.get("program"), request.values.get("period"), today_in_china()
    )
    return session, rolls.build(session, county, program, period)


@bp.route("/rolls")
@login_required
def roll_page():
    """Show the roll of a program and period: how many persons, how much, who cannot go on it and why."""
    session, roll = _roll()
    response = Response(
        render_template(
            "payouts/rolls.html",
            roll=roll,
            programs=rolls.roll_programs(session),
            periods=rolls.period_choices(roll.program, today_in_china(), roll.period),
            villages=rolls.area_names(session, (r.area_code for r in roll.left_out)),
            mask=mask,
            personal_data=True,
        )
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/rolls/download", methods=["POST"])
@login_required
def roll_download():
    """Send the roll as .xlsx (whole ID numbers: the bank needs them), audited; a POST, as printing cards is."""
    session, roll = _roll()
    body = rolls.workbook(roll)
    rolls.record_export(session, actor(), roll)
    session.commit()
    ascii_name, chinese_name = rolls.file_names(roll)
    response = Response(body, mimetype=XLSX)
    response.headers["Content-Disposition"] = attachment(ascii_name, chinese_name)
    response.headers["Cache-Control"] = "private, no-store"
    return response
