"""Township relief funds: the approval limit, this year's reserve (备用金) and the paperwork deadline.

The county sets them for its townships, the city for all. The balance is never typed in: saving the
reserve makes balance = reserve − what the township itself approved this year (China time), so the
figure always agrees with the approvals on record; each later township approval draws it down
(services/relief/machine.py).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models import Area, ReliefApplication, TownshipFund, User
from services import audit
from services.audit import Actor
from services.clock import CHINA, china_year
from services.errors import Invalid, NotFound
from services.inputs import small_int
from services.money import fen_to_yuan, yuan, yuan_to_fen
from services.registry.areas import area_names
from services.relief.rules import GRANTED
from services.scope import is_in_scope, where_in_scope

DEFAULT_LIMIT_FEN = TownshipFund.model_fields["approval_limit_fen"].default
DEFAULT_PAPERWORK_DAYS = TownshipFund.model_fields["paperwork_days"].default
MIN_DAYS, MAX_DAYS = 1, 60


@dataclass(frozen=True)
class FundIn:
    """Checked settings for one township, in 分 and days."""

    limit_fen: int
    reserve_fen: int
    paperwork_days: int


@dataclass(frozen=True)
class FundRow:
    """A township with its fund (None when nobody set one yet)."""

    area: Area
    fund: TownshipFund | None

    @property
    def limit_fen(self) -> int:
        return self.fund.approval_limit_fen if self.fund else DEFAULT_LIMIT_FEN

    @property
    def paperwork_days(self) -> int:
        return self.fund.paperwork_days if self.fund else DEFAULT_PAPERWORK_DAYS


def year_range(year: int) -> tuple[datetime, datetime]:
    """Return the first instant of a China-time year and of the next, as aware datetimes."""
    return datetime(year, 1, 1, tzinfo=CHINA), datetime(year + 1, 1, 1, tzinfo=CHINA)


# ---- reading -------------------------------------------------------------------------------


def townships_in_scope(user: User):
    """Return a select() of the townships (level 3) in the user's scope, with their funds."""
    query = select(Area, TownshipFund).outerjoin(TownshipFund, TownshipFund.area_code == Area.code)
    return query.where(Area.level == 3, where_in_scope(user, Area.code)).order_by(Area.code)


def fund_rows(session: Session, user: User) -> list[tuple[str, list[FundRow]]]:
    """Return the townships in scope with their funds, grouped under their counties' names."""
    rows = [FundRow(area, fund) for area, fund in session.exec(townships_in_scope(user))]
    counties = area_names(session, {row.area.parent_code for row in rows if row.area.parent_code})
    groups: dict[str, list[FundRow]] = defaultdict(list)
    for row in rows:  # ordered by code, so each county's townships come together
        groups[counties.get(row.area.parent_code, "")].append(row)
    return list(groups.items())


def get_township_for(session: Session, user: User, code: str) -> FundRow:
    """Return a township in the user's scope with its fund; otherwise 404, whether it exists or not."""
    area = session.get(Area, code)
    if area is None or area.level != 3 or not is_in_scope(user, code):
        raise NotFound()
    return FundRow(area, session.get(TownshipFund, code))


def drawn_in_year(session: Session, township_code: str, year: int) -> int:
    """Return the 分 the township itself approved in the year: what its reserve has paid for."""
    start, end = year_range(year)
    query = select(func.coalesce(func.sum(ReliefApplication.amount_approved_fen), 0)).where(
        ReliefApplication.township_code == township_code,
        ReliefApplication.decided_level == "township",
        ReliefApplication.state.in_(GRANTED),
        ReliefApplication.decided_at >= start,
        ReliefApplication.decided_at < end,
    )
    return int(session.exec(query).one())


# ---- changing ------------------------------------------------------------------------------


def parse_fund_form(form) -> FundIn:
    """Check the form's limit and reserve (元) and paperwork days; raise Invalid naming each mistake."""
    errors: dict[str, str] = {}
    limit = _amount(form, "limit_yuan", "审批额度", yuan_to_fen, errors)
    reserve = _amount(form, "reserve_yuan", "备用金", _reserve_fen, errors)
    days = small_int(form.get("paperwork_days"))
    if days is None or not MIN_DAYS <= days <= MAX_DAYS:
        errors["paperwork_days"] = f"补材料期限请填 {MIN_DAYS} 到 {MAX_DAYS} 之间的整天数"
    if errors:
        raise Invalid(errors)
    return FundIn(limit_fen=limit, reserve_fen=reserve, paperwork_days=days)


def _amount(form, name: str, label: str, parse, errors: dict[str, str]) -> int:
    """Parse one amount in 元 into 分; note a plain message under `name` when it is missing or wrong."""
    value = str(form.get(name, "") or "").strip()
    if not value:
        errors[name] = f"请填写{label}" + ("，没有就填 0" if name == "reserve_yuan" else "")
        return 0
    try:
        return parse(value)
    except Invalid as problem:
        errors[name] = f"{label}：{problem}"
        return 0


def _reserve_fen(text: str) -> int:
    """Parse the reserve in 元; unlike a relief amount it may be 0 (no reserve this year)."""
    raw = text.strip().removesuffix("元").strip()
    if raw.replace(".", "", 1).isdigit() and not raw.strip("0."):
        return 0
    return yuan_to_fen(raw)


def change_fund(
    session: Session, actor: Actor, area: Area, values: FundIn, now: datetime | None = None
) -> dict[str, dict]:
    """Save a township's settings for this year and audit old and new; return {} when nothing changed.

    The fund row is locked first (PostgreSQL), so an approval drawing at the same moment is either
    counted in `drawn` or draws from the new balance after this commits; never both, never neither.
    """
    year = china_year(now)
    locked = select(TownshipFund).where(TownshipFund.area_code == area.code).with_for_update()
    # populate_existing: the row may already sit in the session, read before another officer's draw
    fund = session.exec(locked.execution_options(populate_existing=True)).first()
    old = snapshot(fund) if fund else None
    if fund is None:
        fund = TownshipFund(area_code=area.code, year=year, reserve_fen=0, balance_fen=0)
    drawn = drawn_in_year(session, area.code, year)
    if values.reserve_fen < drawn:
        raise Invalid({"reserve_yuan": f"今年乡镇已批出 {yuan(drawn)} 元，备用金不能少于这个数"})
    fund.approval_limit_fen = values.limit_fen
    fund.paperwork_days = values.paperwork_days
    fund.year = year
    fund.reserve_fen = values.reserve_fen
    fund.balance_fen = values.reserve_fen - drawn
    new = snapshot(fund)
    if new == old:
        return {}
    try:
        with session.begin_nested():  # undoes only this row
            session.add(fund)
    except IntegrityError:  # another officer created this township's fund at the same moment
        raise Invalid({"form": "刚有人同时修改了这个乡镇的设置，请刷新后再保存"}) from None
    audit.record(session, actor, "fund.changed", area, township=area.code, old=old, new=new)
    return {"old": old, "new": new}


def snapshot(fund: TownshipFund) -> dict:
    """Return a fund's settings as the audit trail shows them (元 as text, days, year)."""
    return {
        "year": fund.year,
        "limit_yuan": fen_to_yuan(fund.approval_limit_fen),
        "reserve_yuan": fen_to_yuan(fund.reserve_fen),
        "balance_yuan": fen_to_yuan(fund.balance_fen),
        "paperwork_days": fund.paperwork_days,
    }
