"""Campaigns (排查专项): create one, list them, find today's, and a campaign's window in UTC."""

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session, select

from models import Campaign, Household, Visit
from services import audit
from services.audit import Actor
from services.clock import CHINA, today_in_china
from services.errors import Invalid, NotFound
from services.inputs import is_row_id, small_int
from services.permissions import require

DATES = (  # (field, label, required)
    ("start_date", "开始日期", True),
    ("end_date", "结束日期", True),
    ("statistics_due", "统计表截止日期", False),
    ("report_due", "报告截止日期", False),
)


def window(campaign: Campaign) -> tuple[datetime, datetime]:
    """Return the campaign's window in UTC: from its first day 00:00 to after its last day, China time."""
    start = datetime.combine(campaign.start_date, time(), CHINA)
    end = datetime.combine(campaign.end_date + timedelta(days=1), time(), CHINA)
    return start.astimezone(UTC), end.astimezone(UTC)


def active_campaign(session: Session, today: date | None = None) -> Campaign | None:
    """Return the campaign whose window holds today (China time), if any."""
    today = today or today_in_china()
    query = select(Campaign).where(Campaign.start_date <= today, Campaign.end_date >= today)
    return session.exec(query.order_by(Campaign.start_date.desc())).first()


def all_campaigns(session: Session) -> list[Campaign]:
    """Return every campaign, the latest first."""
    return list(session.exec(select(Campaign).order_by(Campaign.start_date.desc(), Campaign.id.desc())))


def current_or_latest(session: Session, campaigns: list[Campaign]) -> Campaign | None:
    """Return today's campaign, else the latest one (reports are written after the window closes)."""
    return active_campaign(session) or (campaigns[0] if campaigns else None)


def find_campaign(session: Session, raw_id: str | None) -> Campaign | None:
    """Return the campaign whose id is typed in raw_id, if it is a sane id and exists."""
    campaign_id = small_int(raw_id)
    return session.get(Campaign, campaign_id) if is_row_id(campaign_id) else None


def get_campaign(session: Session, raw_id: str | None) -> Campaign:
    """Return the campaign with this id, or with none given the one running today; otherwise 404."""
    campaign = find_campaign(session, raw_id) if (raw_id or "").strip() else active_campaign(session)
    if campaign is None:
        raise NotFound()
    return campaign


def parse_campaign_form(form: Mapping) -> dict:
    """Check the campaign form: a name and a window, with optional deadlines; raise Invalid naming each mistake."""
    errors, values = {}, {}
    name = str(form.get("name", "")).strip()
    if not name or len(name) > 100:
        errors["name"] = "请填写专项名称（100 字以内）"
    for key, label, required in DATES:
        raw = str(form.get(key, "")).strip()
        try:
            values[key] = date.fromisoformat(raw) if raw else None
        except ValueError:
            errors[key] = f"{label}格式不对"
            continue
        if required and values[key] is None:
            errors[key] = f"请填写{label}"
    if not errors and values["end_date"] < values["start_date"]:
        errors["end_date"] = "结束日期不能早于开始日期"
    if errors:
        raise Invalid(errors)
    return {"name": name, **values}


def create_campaign(session: Session, actor: Actor, values: dict) -> Campaign:
    """Create a campaign (city officers) from checked values, and audit it."""
    require(actor.user, "campaign.create")
    campaign = Campaign(created_by_id=actor.user.id, **values)
    session.add(campaign)
    session.flush()
    audit.record(session, actor, "campaign.created", campaign, name=campaign.name)
    return campaign


def visit_kind_for(session: Session, household: Household) -> str:
    """Return the kind a new visit opens as: 排查回访 while a campaign runs and the household has none in it yet.

    So a visit an assistant saves from the 还差 list counts for the campaign; once the household has its
    survey visit, later visits are routine again.
    """
    campaign = active_campaign(session)
    if campaign is None or household.status != "active":
        return "routine"
    start, end = window(campaign)
    surveyed = select(Visit.id).where(
        Visit.household_id == household.id, Visit.kind == "survey", Visit.visited_at >= start, Visit.visited_at < end
    )
    return "routine" if session.exec(surveyed.limit(1)).first() is not None else "survey"
