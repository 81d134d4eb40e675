"""钱到没到 in numbers: per program and period, how many were paid, failed, missing and still to correct, in scope;
the scoped list of payments each number opens; and the counties late with a program's results (city and county).

Counts come from two GROUP BY queries (payments, 整改 items) over a window of recent periods; a township never counts
a county's 不在册 rows (their area is the county). The late list looks at the last three monthly periods only.
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, select

from models import Area, Correction, Payment, PriceSubsidyPeriod, Program, User
from services.clock import today_in_china
from services.errors import Invalid, NotFound
from services.paging import page_of
from services.payouts import due as dues
from services.payouts.programs import Period, all_programs, parse_period
from services.payouts.status import PROGRAM_ORDER, imported, recent_periods
from services.registry import idnumber
from services.registry.areas import area_names
from services.scope import is_in_scope, where_in_scope, where_under

PERIODS_SHOWN = 12  # the latest periods with data, per program
WINDOW = {"monthly": 36, "quarterly": 12, "yearly": 12}  # how far back the counts look for them
LATE_PERIODS = 3  # the late list looks at this many periods past their due day, per monthly program
PAYMENT_STATUSES = {"paid": "已到账", "failed": "发放失败"}


@dataclass
class Counts:
    paid: int = 0
    failed: int = 0
    missing: int = 0  # 应发未发 整改 items, open or closed: the file left them out
    open: int = 0  # 整改 items of any kind not yet closed


@dataclass
class PeriodRow:
    period: Period
    counts: Counts


@dataclass
class ProgramBlock:
    code: str
    name: str
    rows: list[PeriodRow]


@dataclass
class Late:
    """A county that has not imported a program's results for a period past the day they were due."""

    county_code: str
    county_name: str
    program_code: str
    program_name: str
    period: Period
    due_by: date


@dataclass
class Overview:
    area: Area
    program: str
    period: Period | None
    blocks: list[ProgramBlock] = field(default_factory=list)
    late: list[Late] | None = None  # None where the area is a township (townships do not import)
    late_periods: int = LATE_PERIODS


@dataclass
class PaymentRow:
    payment: Payment
    masked_id: str
    village: str
    program_name: str
    period_label: str


def resolve_area(session: Session, user: User, code: str | None) -> Area:
    """Return the area asked for (city, county or township in the user's scope), else the user's own; else 404."""
    code = (code or "").strip() or user.area_code
    area = session.get(Area, code) if code.isdigit() and len(code) == 12 else None
    if area is None or area.level not in (1, 2, 3) or not is_in_scope(user, code):
        raise NotFound()
    return area


def parse_filters(session: Session, program: str | None, period: str | None) -> tuple[str, Period | None]:
    """Return the program filter ('' for every program) and the period filter (None for the latest 12)."""
    program = (program or "").strip()
    if program and program not in all_programs(session):
        raise Invalid("没有这个补贴项目")
    period = (period or "").strip()
    return program, parse_period(period) if period else None


def overview(
    session: Session,
    user: User,
    area: Area,
    program: str = "",
    period: Period | None = None,
    today: date | None = None,
) -> Overview:
    """Return the counts per program and period under the area, and (city and county) the late imports."""
    today = today or today_in_china()
    programs = all_programs(session)
    chosen = [programs[c] for c in PROGRAM_ORDER if c in programs and (not program or c == program)]
    codes = _window(chosen, period, today)
    counts: dict[tuple[str, str], Counts] = {}
    payment_counts = (
        select(Payment.program_code, Payment.period, Payment.status, func.count())
        .where(*_in(user, area, Payment), Payment.period.in_(codes), Payment.program_code.in_([p.code for p in chosen]))
        .group_by(Payment.program_code, Payment.period, Payment.status)
    )
    for code, period_code, status, number in session.exec(payment_counts):
        if status in PAYMENT_STATUSES:
            setattr(counts.setdefault((code, period_code), Counts()), status, number)
    correction_counts = (
        select(Correction.program_code, Correction.period, Correction.kind, Correction.status, func.count())
        .where(
            *_in(user, area, Correction),
            Correction.period.in_(codes),
            Correction.program_code.in_([p.code for p in chosen]),
        )
        .group_by(Correction.program_code, Correction.period, Correction.kind, Correction.status)
    )
    for code, period_code, kind, status, number in session.exec(correction_counts):
        found = counts.setdefault((code, period_code), Counts())
        found.missing += number if kind == "missing" else 0
        found.open += number if status == "open" else 0
    view = Overview(area=area, program=program, period=period)
    for p in chosen:
        rows = [PeriodRow(parse_period(pc), c) for (code, pc), c in counts.items() if code == p.code]
        rows.sort(key=lambda r: r.period.first_day, reverse=True)
        if rows:
            view.blocks.append(ProgramBlock(p.code, p.name, rows[:PERIODS_SHOWN]))
    if area.level <= 2:
        view.late = late_imports(session, user, area, today, [p for p in chosen if p.cadence == "monthly"])
    return view


def _window(chosen: list[Program], period: Period | None, today: date) -> list[str]:
    if period is not None:
        return [period.code]
    cadences = {p.cadence for p in chosen}
    return sorted({p.code for cadence in cadences for p in recent_periods(cadence, today, WINDOW[cadence])})


def _in(user: User, area: Area, model) -> tuple:
    """The scope and the area, on a table's area_code."""
    return where_in_scope(user, model.area_code), where_under(area.code, model.area_code)


def period_choices(session: Session, program: str, today: date | None = None) -> list[Period]:
    """Return the periods the filter offers, newest first: 24 months, 8 quarters and 6 years (or the program's)."""
    today = today or today_in_china()
    programs = all_programs(session)
    cadences = [programs[program].cadence] if program in programs else ["monthly", "quarterly", "yearly"]
    counts = {"monthly": 24, "quarterly": 8, "yearly": 6}
    return [p for cadence in cadences for p in recent_periods(cadence, today, counts[cadence])[::-1]]


# ---- the list each number opens -------------------------------------------------------------


def search_payments(user: User, area: Area, program: str = "", period: Period | None = None, status: str = ""):
    """Return a select() of the payments in scope under the area, by program, period and status (paid | failed)."""
    query = select(Payment).where(*_in(user, area, Payment))
    if program:
        query = query.where(Payment.program_code == program)
    if period is not None:
        query = query.where(Payment.period == period.code)
    if status:
        if status not in PAYMENT_STATUSES:
            raise Invalid("发放状态只能是已到账或发放失败")
        query = query.where(Payment.status == status)
    return query


def count_payments(session: Session, query) -> int:
    """Return how many payments a search holds (the number the overview shows)."""
    return session.exec(select(func.count()).select_from(query.subquery())).one()


def payment_rows(session: Session, query, *, offset: int, limit: int) -> tuple[list[PaymentRow], bool]:
    """Return one page of payments with masked ID numbers and village names (two queries, three with programs)."""
    payments, more = page_of(session, query.order_by(Payment.area_code, Payment.id), offset=offset, limit=limit)
    names = area_names(session, {p.area_code for p in payments}) if payments else {}
    programs = all_programs(session) if payments else {}
    rows = [
        PaymentRow(
            payment=p,
            masked_id=idnumber.mask(p.id_number),
            village=names.get(p.area_code, p.area_code) if p.household_id else "不在本县（区）在册人员中",
            program_name=programs[p.program_code].name if p.program_code in programs else p.program_code,
            period_label=parse_period(p.period).label,
        )
        for p in payments
    ]
    return rows, more


# ---- the counties late with their results ---------------------------------------------------


def late_imports(
    session: Session, user: User, area: Area, today: date, monthly: list[Program] | None = None
) -> list[Late]:
    """Return each county under the area × monthly program × period (the last three past their due day) with no
    payment imported although the registry says someone in the county was due."""
    if monthly is None:
        monthly = [p for p in all_programs(session).values() if p.cadence == "monthly"]
    monthly = [p for p in monthly if p.active]
    counties = list(
        session.exec(
            select(Area).where(Area.level == 2, where_in_scope(user, Area.code), where_under(area.code, Area.code))
        )
    )
    wanted = [
        (county, program, period)
        for county in sorted(counties, key=lambda a: a.code)
        for program in monthly
        for period in _past_due(program, today)
    ]
    if not wanted:
        return []
    done = imported(session, [(c.code, p.code, period.code) for c, p, period in wanted])
    waiting = [(c, p, period) for c, p, period in wanted if (c.code, p.code, period.code) not in done]
    price_periods = list(session.exec(select(PriceSubsidyPeriod))) if waiting else []
    members: dict[str, list] = {}
    late = []
    for county, program, period in waiting:
        if county.code not in members:
            members[county.code] = dues.members(session, county.code)  # only for a county that is behind
        price = dues.price_period_in(price_periods, period) if program.code == "price_subsidy" else None
        if dues.anyone_due(members[county.code], program.code, period, price):
            late.append(
                Late(
                    county.code,
                    county.name,
                    program.code,
                    program.name,
                    period,
                    period.results_due(program.results_due_day),
                )
            )
    late.sort(key=lambda row: (row.county_code, PROGRAM_ORDER.index(row.program_code), row.period.first_day))
    return late


def _past_due(program: Program, today: date) -> list[Period]:
    """Return the program's last three months whose results were due before today."""
    periods = recent_periods("monthly", today, LATE_PERIODS + 2)
    return [p for p in periods if today > p.results_due(program.results_due_day)][-LATE_PERIODS:]
