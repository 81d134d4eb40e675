"""A county's four-part work report for a campaign: drafts, sending the statistics table, submission, return.

A county officer writes; the city (and admin) read, see who is late, and may send a report back.
Every write names the version it saw: a stale one is refused and changes nothing.
"""

import json
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models import Area, Campaign, User, WorkReport, utcnow
from services import audit
from services.audit import Actor
from services.campaigns import report_docx
from services.campaigns.coverage import Tally
from services.campaigns.stats import AreaStats, Statistics, statistics
from services.campaigns.work_report_draft import chinese_date, draft_basic_situation, draft_measures
from services.clock import CHINA, china_date, china_time, today_in_china
from services.errors import Conflict, Invalid, NotAllowed, NotFound, Stale
from services.permissions import can, require
from services.scope import is_in_scope, where_in_scope

PARTS = {
    "basic_situation": "对象基本情况",
    "measures": "解决措施",
    "difficulties": "存在困难",
    "suggestions": "下步工作建议",
}
MAX_PART = 20_000  # characters per part: a long report is a few thousand
STALE = "已被他人修改，请刷新后再改"
TIMING = {"on_time": "按时", "late": "逾期", "overdue": "逾期未报", "pending": "未报送"}


def check_county(session: Session, user: User, area_code: str) -> Area:
    """Return the county if the user may read its report: 403 for villages and townships, 404 out of scope."""
    if not can(user, "work_report.read"):
        raise NotAllowed()
    area = session.get(Area, area_code)
    if area is None or area.level != 2 or not is_in_scope(user, area_code):
        raise NotFound()
    return area


def find(session: Session, campaign: Campaign, area: Area) -> WorkReport | None:
    """Return the county's report for the campaign, if anyone has saved one."""
    query = select(WorkReport).where(WorkReport.campaign_id == campaign.id, WorkReport.area_code == area.code)
    return session.exec(query.execution_options(populate_existing=True)).first()


def can_edit(user: User, report: WorkReport | None) -> bool:
    """Tell whether the user may change the four parts now (a county officer, until the report is submitted)."""
    return can(user, "work_report.write") and (report is None or report.report_submitted_at is None)


def can_return(user: User, report: WorkReport | None) -> bool:
    """Tell whether the user may send the report (or the table alone) back to the county."""
    sent = report is not None and (report.report_submitted_at is not None or report.statistics_submitted_at is not None)
    return can(user, "work_report.return") and sent


def check_parts(parts: dict[str, str], required: bool) -> dict[str, str]:
    """Return a message per part that is too long, or (when submitting) empty."""
    errors = {}
    for key, label in PARTS.items():
        text = parts.get(key, "")
        if len(text) > MAX_PART:
            errors[key] = f"“{label}”不能超过 {MAX_PART} 字，现在有 {len(text)} 字"
        elif required and not text.strip():
            errors[key] = f"请填写“{label}”"
    return errors


def clean_parts(form) -> dict[str, str]:
    """Read the four parts from a form: Windows line ends made plain, trailing blanks dropped."""
    return {key: (form.get(key) or "").replace("\r\n", "\n").rstrip() for key in PARTS}


def save(session: Session, actor: Actor, campaign: Campaign, area: Area, parts: dict, version: int) -> WorkReport:
    """Save the four parts as a draft (the caller commits, or rolls back on an error)."""
    errors = check_parts(parts, required=False)
    if errors:
        raise Invalid(errors)
    report = _write(session, actor, campaign, area, version, dict(parts))
    audit.record(session, actor, "work_report.saved", report, campaign=campaign.id, area=area.code)
    return report


def send_statistics(
    session: Session, actor: Actor, campaign: Campaign, area: Area, parts: dict, version: int
) -> WorkReport:
    """Send the statistics table (附表), keeping its rows as they are now; save the parts as typed too."""
    errors = check_parts(parts, required=False)
    if errors:
        raise Invalid(errors)
    report = find(session, campaign, area)
    if report is not None and report.statistics_submitted_at is not None and report.version == version:
        raise Conflict("统计表已报送，不能重复报送")
    values = {**parts, **_statistics_values(session, actor.user, campaign, area)}
    report = _write(session, actor, campaign, area, version, values)
    audit.record(session, actor, "work_report.statistics_sent", report, campaign=campaign.id, area=area.code)
    return report


def submit(session: Session, actor: Actor, campaign: Campaign, area: Area, parts: dict, version: int) -> WorkReport:
    """Submit the report with all four parts; send the statistics table too if it has not been sent."""
    errors = check_parts(parts, required=True)
    if errors:
        raise Invalid(errors)
    report = find(session, campaign, area)
    values = {**parts, "report_submitted_at": utcnow(), "report_submitted_by_id": actor.user.id}
    if report is None or report.statistics_submitted_at is None:
        values.update(_statistics_values(session, actor.user, campaign, area))
    report = _write(session, actor, campaign, area, version, values)
    audit.record(session, actor, "work_report.submitted", report, campaign=campaign.id, area=area.code)
    return report


def return_report(session: Session, actor: Actor, report: WorkReport, version: int, reason: str, table: bool):
    """Send a submitted report back to the county with a reason; with `table`, the statistics table too."""
    require(actor.user, "work_report.return")
    reason = (reason or "").strip()
    if report.version != version:
        raise Stale(STALE)
    if report.report_submitted_at is None and not (table and report.statistics_submitted_at):
        raise Conflict("报告尚未提交，不能退回")
    if not reason or len(reason) > 500:
        raise Invalid({"reason": "请写明退回的原因（500 字以内）"})
    values = {"report_submitted_at": None, "report_submitted_by_id": None}
    if table:
        values.update(statistics_submitted_at=None, statistics_submitted_by_id=None, statistics_snapshot=None)
    values.update(returned_at=utcnow(), returned_by_id=actor.user.id, returned_reason=reason)
    _update(session, actor.user, report, version, values)
    audit.record(session, actor, "work_report.returned", report, reason=reason, statistics=table)
    return report


def _statistics_values(session: Session, user: User, campaign: Campaign, area: Area) -> dict:
    stats = statistics(session, user, campaign, area)
    return {
        "statistics_snapshot": snapshot_json(stats),
        "statistics_submitted_at": utcnow(),
        "statistics_submitted_by_id": user.id,
    }


def _write(session: Session, actor: Actor, campaign: Campaign, area: Area, version: int, values: dict) -> WorkReport:
    """Create the report (version 0 means the writer saw none) or change it if still at `version`."""
    if not can(actor.user, "work_report.write") or not is_in_scope(actor.user, area.code):
        raise NotAllowed()
    report = find(session, campaign, area)
    if report is None:
        if version != 0:
            raise Stale(STALE)
        user_id = actor.user.id
        report = WorkReport(
            campaign_id=campaign.id, area_code=area.code, created_by_id=user_id, updated_by_id=user_id, **values
        )
        try:
            with session.begin_nested():  # undoes only this insert
                session.add(report)
        except IntegrityError:  # another officer of the county saved the first draft at the same moment: theirs stands
            raise Stale(STALE) from None
        return report
    if report.version == version and report.report_submitted_at is not None:
        raise Conflict("报告已提交，不能再修改；如需修改，请联系市民政局退回")
    _update(session, actor.user, report, version, values)
    return report


def _update(session: Session, user: User, report: WorkReport, version: int, values: dict) -> None:
    """Apply the changes only if nobody changed the report since `version` (optimistic locking)."""
    result = session.execute(
        update(WorkReport)
        .where(WorkReport.id == report.id, WorkReport.version == version)
        .values(**values, version=version + 1, updated_at=utcnow(), updated_by_id=user.id)
    )
    if result.rowcount != 1:
        raise Stale(STALE)
    session.refresh(report)


def snapshot_json(stats: Statistics) -> str:
    """Return the statistics table's rows as JSON, to keep as sent."""
    rows = {"format": 1, "total": asdict(stats.total), "children": [asdict(row) for row in stats.children]}
    return json.dumps(rows, ensure_ascii=False)


def table_statistics(session: Session, user: User, campaign: Campaign, area: Area, report: WorkReport | None):
    """Return the statistics for the report's table: as sent once sent, else as they are now."""
    if report is not None and report.statistics_snapshot:
        return snapshot_statistics(report, campaign, area)
    return statistics(session, user, campaign, area)


def snapshot_statistics(report: WorkReport, campaign: Campaign, area: Area) -> Statistics:
    """Rebuild the statistics the county sent from the kept JSON."""
    data = json.loads(report.statistics_snapshot)
    return Statistics(campaign, area, _area_stats(data["total"]), [_area_stats(row) for row in data["children"]])


def _area_stats(data: dict) -> AreaStats:
    # only known fields: a snapshot kept by an older version may lack some, or hold ones since dropped
    tally_names = {f.name for f in fields(Tally)}
    tally = Tally(**{key: value for key, value in data["tally"].items() if key in tally_names})
    names = {f.name for f in fields(AreaStats)} - {"tally"}
    return AreaStats(tally, **{key: value for key, value in data.items() if key in names})


def timing(submitted_at: datetime | None, due: date | None, today: date) -> str:
    """Return on_time / late (after the due date, China time) / overdue (not sent, due date passed) / pending."""
    if submitted_at is not None:
        return "late" if due is not None and china_date(submitted_at) > due else "on_time"
    return "overdue" if due is not None and today > due else "pending"


@dataclass
class CountyRow:
    """One county on the city's list: its report (if any) and how each part stands against its deadline."""

    area: Area
    report: WorkReport | None
    statistics: str
    report_timing: str

    @property
    def returned(self) -> bool:
        report = self.report
        return report is not None and report.returned_at is not None and report.report_submitted_at is None


def county_rows(session: Session, user: User, campaign: Campaign, today: date | None = None) -> list[CountyRow]:
    """Return every county in the user's scope with its report's standing for the campaign."""
    today = today or today_in_china()
    counties = session.exec(select(Area).where(Area.level == 2, where_in_scope(user, Area.code)).order_by(Area.code))
    reports = {r.area_code: r for r in session.exec(select(WorkReport).where(WorkReport.campaign_id == campaign.id))}
    rows = []
    for county in counties:
        report = reports.get(county.code)
        stats_at = report.statistics_submitted_at if report else None
        report_at = report.report_submitted_at if report else None
        rows.append(
            CountyRow(
                county,
                report,
                timing(stats_at, campaign.statistics_due, today),
                timing(report_at, campaign.report_due, today),
            )
        )
    return rows


def summary(rows: list[CountyRow]) -> dict[str, dict[str, int]]:
    """Count the counties per standing, for the table and for the report."""
    counts = {"statistics": dict.fromkeys(TIMING, 0), "report": dict.fromkeys(TIMING, 0)}
    for row in rows:
        counts["statistics"][row.statistics] += 1
        counts["report"][row.report_timing] += 1
    return counts


def export_docx(
    session: Session, user: User, campaign: Campaign, area: Area, now: datetime | None = None
) -> tuple[WorkReport | None, bytes]:
    """Build the county's report as .docx: parts as saved (else the first draft), table as sent (else as now)."""
    report = find(session, campaign, area)
    stats = table_statistics(session, user, campaign, area, report)
    if report is not None:
        parts = {key: getattr(report, key) for key in PARTS}
    else:
        parts = {"basic_situation": draft_basic_situation(stats), "measures": draft_measures(stats)}
    now = (now or datetime.now(UTC)).astimezone(CHINA)
    submitted = report is not None and report.report_submitted_at is not None
    dated = china_date(report.report_submitted_at) if submitted else now.date()
    if report is not None and report.statistics_snapshot:
        sent = china_time(report.statistics_submitted_at)
        note = f"数据为{chinese_date(sent.date())} {sent:%H:%M} 报送时的数据"
    else:
        note = f"数据截至{chinese_date(now.date())} {now:%H:%M}（统计表尚未报送）"
    return report, report_docx.build(area, campaign, parts, stats, dated=dated, table_note=note)
