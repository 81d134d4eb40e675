"""Reports for a campaign: the statistics table (附表, .xlsx) and the counties' four-part work reports."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from blueprints import actor, area_from_request, attachment, campaign_from_request, form_number
from db import get_session
from models import Campaign
from services import audit
from services.campaigns import campaigns, statistics_xlsx, work_report
from services.campaigns import stats as campaign_stats
from services.campaigns.work_report import PARTS, TIMING
from services.campaigns.work_report_draft import draft_basic_situation, draft_measures
from services.clock import today_in_china
from services.errors import Conflict, Invalid, Stale
from services.names import user_names
from services.permissions import can, require

bp = Blueprint("reports", __name__, url_prefix="/reports")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/statistics.xlsx")
@login_required
def statistics_table():
    """Send the campaign's statistics table for an area: one row per child area and a 合计 row."""
    require(current_user, "statistics.download")
    session, campaign, area = get_session(), campaign_from_request(), area_from_request()
    stats = campaign_stats.statistics(session, current_user, campaign, area)
    audit.record(session, actor(), "report.statistics_downloaded", None, campaign=campaign.id, area=area.code)
    names = f"statistics-{campaign.id}-{area.code}.xlsx", f"statistics-{campaign.id}-{area.name}统计表.xlsx"
    return download(session, statistics_xlsx.build(stats), XLSX, *names)


def download(session, body: bytes, mimetype: str, ascii_name: str, chinese_name: str) -> Response:
    """Commit the download's audit event and send the file under its two names."""
    session.commit()
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = attachment(ascii_name, chinese_name)
    return response


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DONE = {
    "save": "草稿已保存",
    "send_statistics": "统计表已报送市民政局",
    "submit": "工作报告已提交市民政局",
}


@bp.route("/work")
@login_required
def work_reports():
    """List every county's report for a campaign (city, admin); a county officer goes straight to their own."""
    require(current_user, "work_report.read")
    session = get_session()
    listed = campaigns.all_campaigns(session)
    if not listed:
        return render_template("reports/work_list.html", campaign=None, campaigns=[], back_url=url_for("main.home"))
    campaign = campaign_from_request() if request.args.get("campaign") else campaigns.current_or_latest(session, listed)
    if can(current_user, "work_report.write"):  # a county officer has one report: their own
        return redirect(url_for("reports.work_report", campaign_id=campaign.id, area_code=current_user.area_code))
    rows = work_report.county_rows(session, current_user, campaign)
    return render_template(
        "reports/work_list.html",
        campaign=campaign,
        campaigns=listed,
        rows=rows,
        counts=work_report.summary(rows),
        timing=TIMING,
        back_url=url_for("main.home"),
    )


@bp.route("/work/<int:campaign_id>/<area_code>", methods=["GET", "POST"], endpoint="work_report")
@login_required
def report_page(campaign_id: int, area_code: str):
    """Show a county's report; its county officer writes, saves, sends the table and submits it here."""
    session, area, campaign = _county_and_campaign(campaign_id, area_code)
    if request.method == "GET":
        return _render_report(campaign, area)
    require(current_user, "work_report.write")
    action = request.form.get("action", "")
    parts = work_report.clean_parts(request.form)
    version = form_number("version")
    if action == "regenerate":  # a new draft in the form only: nothing is saved until the officer saves
        stats = campaign_stats.statistics(session, current_user, campaign, area)
        parts["basic_situation"] = draft_basic_situation(stats)
        notice = "已按最新数据重新生成“对象基本情况”，核对后请保存"
        if not parts["measures"].strip() and draft_measures(stats):  # never over what the officer wrote
            parts["measures"] = draft_measures(stats)
            notice = "已按最新数据重新生成“对象基本情况”并起草“解决措施”，核对后请保存"
        return _render_report(campaign, area, values=parts, notice=notice)
    if action not in DONE:
        abort(400)
    try:
        if action == "save":
            work_report.save(session, actor(), campaign, area, parts, version)
        elif action == "send_statistics":
            work_report.send_statistics(session, actor(), campaign, area, parts, version)
        else:
            work_report.submit(session, actor(), campaign, area, parts, version)
    except Invalid as problem:
        return _render_report(campaign, area, values=parts, errors=problem.errors), 400
    except (Stale, Conflict) as problem:  # stale, or already submitted: show what is saved now, keep what was typed
        session.rollback()  # the page below must show the report as saved, not as this request left it
        return _render_report(campaign, area, error=str(problem), unsaved=parts), 409
    session.commit()
    flash(DONE[action], "success")
    return redirect(url_for("reports.work_report", campaign_id=campaign.id, area_code=area.code))


@bp.route("/work/<int:campaign_id>/<area_code>/return", methods=["POST"])
@login_required
def return_work_report(campaign_id: int, area_code: str):
    """Send a county's submitted report back for changes, with the reason (city, admin)."""
    session, area, campaign = _county_and_campaign(campaign_id, area_code)
    require(current_user, "work_report.return")
    report = work_report.find(session, campaign, area) or abort(404)
    reason = request.form.get("reason", "")
    version = form_number("version")
    with_table = request.form.get("statistics") == "1"
    try:
        work_report.return_report(session, actor(), report, version, reason, with_table)
    except Invalid as problem:
        return _render_report(campaign, area, return_errors=problem.errors, reason=reason), 400
    except (Stale, Conflict) as problem:
        return _render_report(campaign, area, error=str(problem)), 409
    session.commit()
    flash(f"已退回{area.name}修改", "success")
    return redirect(url_for("reports.work_reports", campaign=campaign.id))


@bp.route("/work/<int:campaign_id>/<area_code>/report.docx")
@login_required
def work_report_docx(campaign_id: int, area_code: str):
    """Send the county's report as a Word document, with the statistics table as sent (or as now, if not yet)."""
    session, area, campaign = _county_and_campaign(campaign_id, area_code)
    report, body = work_report.export_docx(session, current_user, campaign, area)
    audit.record(session, actor(), "work_report.downloaded", report, campaign=campaign.id, area=area.code)
    names = f"work-report-{campaign.id}-{area.code}.docx", f"{area.name}工作情况报告-{campaign.name}.docx"
    return download(session, body, DOCX, *names)


@bp.route("/work/<int:campaign_id>/<area_code>/statistics.xlsx")
@login_required
def work_statistics_xlsx(campaign_id: int, area_code: str):
    """Send the statistics table exactly as the county sent it."""
    session, area, campaign = _county_and_campaign(campaign_id, area_code)
    report = work_report.find(session, campaign, area)
    if report is None or not report.statistics_snapshot:
        abort(404)
    stats = work_report.snapshot_statistics(report, campaign, area)
    body = statistics_xlsx.build(stats, made_at=report.statistics_submitted_at)
    audit.record(session, actor(), "work_report.statistics_downloaded", report, campaign=campaign.id, area=area.code)
    names = f"statistics-{campaign.id}-{area.code}-sent.xlsx", f"{area.name}统计表（已报送）-{campaign.name}.xlsx"
    return download(session, body, XLSX, *names)


def _county_and_campaign(campaign_id: int, area_code: str):
    """Return the session, the county (403/404 as work_report.check_county says) and the campaign (else 404)."""
    session = get_session()
    area = work_report.check_county(session, current_user, area_code)
    return session, area, campaigns.find_campaign(session, str(campaign_id)) or abort(404)


def _render_report(campaign: Campaign, area, **context):
    """Render a county's report page: the form while its officer may edit, the text otherwise."""
    session = get_session()
    report = work_report.find(session, campaign, area)
    editable = work_report.can_edit(current_user, report)
    values = context.pop("values", None)
    if values is None:
        values = {key: getattr(report, key) for key in PARTS} if report else _first_draft(session, campaign, area)
    today = today_in_china()
    return render_template(
        "reports/work_report.html",
        campaign=campaign,
        area=area,
        report=report,
        editable=editable,
        values=values,
        version=report.version if report else 0,
        parts=PARTS,
        timing=TIMING,
        statistics_timing=work_report.timing(
            report.statistics_submitted_at if report else None, campaign.statistics_due, today
        ),
        report_timing=work_report.timing(report.report_submitted_at if report else None, campaign.report_due, today),
        names=_names(session, report),
        can_return=work_report.can_return(current_user, report),
        back_url=_back_url(campaign),
        errors=context.pop("errors", {}),
        return_errors=context.pop("return_errors", {}),
        **context,
    )


def _back_url(campaign: Campaign) -> str:
    """Lead the city back to its list of counties, a county officer back home."""
    if can(current_user, "work_report.write"):
        return url_for("main.home")
    return url_for("reports.work_reports", campaign=campaign.id)


def _first_draft(session, campaign: Campaign, area) -> dict[str, str]:
    """Return the parts of a report nobody has saved yet: 对象基本情况 and 解决措施 drafted, the rest empty."""
    stats = campaign_stats.statistics(session, current_user, campaign, area)
    drafts = {"basic_situation": draft_basic_situation(stats), "measures": draft_measures(stats)}
    return {key: drafts.get(key, "") for key in PARTS}


def _names(session, report) -> dict[int, str]:
    """Return the display names of the people who sent, submitted or returned the report."""
    if report is None:
        return {}
    senders = {report.statistics_submitted_by_id, report.report_submitted_by_id, report.returned_by_id}
    return user_names(session, senders)
