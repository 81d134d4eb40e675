"""Reports for a campaign: the statistics table (附表, .xlsx) and the counties' four-part work reports."""

from urllib.parse import quote

from flask import Blueprint, Response, request
from flask_login import current_user, login_required

from blueprints import actor
from blueprints.coverage import campaign_from_request
from db import get_session
from services import audit, campaign_stats, coverage, statistics_xlsx

bp = Blueprint("reports", __name__, url_prefix="/reports")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(ascii_name: str, chinese_name: str) -> str:
    """Return a Content-Disposition naming the file in ASCII first (kept by every browser), Chinese second."""
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(chinese_name)}"


@bp.route("/statistics.xlsx")
@login_required
def statistics_table():
    """Send the campaign's statistics table for an area: one row per child area and a 合计 row."""
    session = get_session()
    campaign = campaign_from_request()
    area = coverage.check_area(session, current_user, request.args.get("area") or current_user.area_code)
    stats = campaign_stats.statistics(session, current_user, campaign, area)
    body = statistics_xlsx.build(stats)
    audit.record(session, actor(), "report.statistics_downloaded", None, campaign=campaign.id, area=area.code)
    session.commit()
    response = Response(body, mimetype=XLSX)
    response.headers["Content-Disposition"] = attachment(
        f"statistics-{campaign.id}-{area.code}.xlsx", f"statistics-{campaign.id}-{area.name}统计表.xlsx"
    )
    return response
