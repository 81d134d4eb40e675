"""钱到没到 for one household: each member's programs and their last 12 periods, 已到账, 发放失败 or 未发放.

A period is 已到账 when the bank paid it, 发放失败（原因） when it only failed. It is 未发放 only when we can know: the
registry says the member (or, for 低保, the household) was due, and the county has imported that program's file for
the period (some payment of the program and period exists in the county), yet this member or household has none.
Anything else shows no state: no file yet, or not due. Four queries a household, whatever its size.
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, exists, literal, union_all
from sqlmodel import Session, select

from models import Household, Payment, Person, PriceSubsidyPeriod
from services.clock import today_in_china
from services.payouts import due as dues
from services.payouts.programs import Period, all_programs
from services.scope import where_under

PERIODS = 12
EXISTS_PER_QUERY = 400  # SQLite allows 500 SELECTs in one compound statement
PROGRAM_ORDER = ("dibao", *dues.PERSON_PROGRAMS)
STATES = {"paid": "已到账", "failed": "发放失败", "missing": "未发放"}


@dataclass
class Cell:
    """One period of one program: paid, failed (with the bank's reason), missing, or nothing known (None)."""

    period: Period
    state: str | None = None
    reason: str | None = None
    paid_fen: int | None = None

    @property
    def text(self) -> str:
        if self.state == "failed":
            return f"发放失败（{self.reason or '银行未说明原因'}）"
        return STATES.get(self.state, "无记录")

    @property
    def short(self) -> str:
        """The period in a tiny cell: 3 (月), Q1, 26 (年)."""
        if self.period.month:
            return str(self.period.month)
        if self.period.quarter:
            return f"Q{self.period.quarter}"
        return str(self.period.year)[-2:]


@dataclass
class ProgramRow:
    """One program of one member (低保: of the household, shown with its head), its periods oldest first."""

    code: str
    name: str
    household_wide: bool
    cells: list[Cell]

    @property
    def span(self) -> str:
        return f"{self.cells[0].period.label}至{self.cells[-1].period.label}"

    @property
    def failed(self) -> list[Cell]:
        """The failed periods, newest first (the page spells each out with its reason)."""
        return [c for c in reversed(self.cells) if c.state == "failed"]

    @property
    def missing(self) -> list[Cell]:
        """The missing periods, newest first (the page lists them on one line)."""
        return [c for c in reversed(self.cells) if c.state == "missing"]

    @property
    def paid_count(self) -> int:
        return sum(1 for c in self.cells if c.state == "paid")


@dataclass
class MemberStatus:
    person: Person
    rows: list[ProgramRow] = field(default_factory=list)


def current_period(cadence: str, today: date) -> Period:
    """Return the period of a cadence that holds today."""
    if cadence == "monthly":
        return Period(today.year, today.month)
    if cadence == "quarterly":
        return Period(today.year, quarter=(today.month - 1) // 3 + 1)
    return Period(today.year)


def previous(period: Period) -> Period:
    """Return the period before this one, of the same cadence."""
    if period.month:
        return Period(period.year - (period.month == 1), (period.month - 2) % 12 + 1)
    if period.quarter:
        return Period(period.year - (period.quarter == 1), quarter=(period.quarter - 2) % 4 + 1)
    return Period(period.year - 1)


def recent_periods(cadence: str, today: date, count: int = PERIODS) -> list[Period]:
    """Return the last `count` periods of a cadence up to the one holding today, oldest first."""
    found = [current_period(cadence, today)]
    while len(found) < count:
        found.append(previous(found[-1]))
    return found[::-1]


def household_status(
    session: Session,
    household: Household,
    members: list[tuple[Person, list[str]]],
    today: date | None = None,
) -> list[MemberStatus]:
    """Return each member's programs with their last 12 periods: the programs the registry puts them on in any of
    those periods, and any other program they were paid or failed in (members on nothing and paid nothing are left out).

    `members` is the household page's list of (person, categories), head first, so no member is read twice.
    """
    today = today or today_in_china()
    programs = all_programs(session)
    periods = {cadence: recent_periods(cadence, today) for cadence in ("monthly", "quarterly", "yearly")}
    codes = {p.code for group in periods.values() for p in group}
    payments = _payments(session, household, codes)
    price_periods = _price_periods(session, periods["monthly"]) if _anyone_in_a_group(members) else []
    context = _Context(household, any("dibao" in cats for _person, cats in members), price_periods)
    holder = _dibao_holder(members, payments)

    wanted: dict[tuple[int, str], list[Cell]] = {}  # (person id, program) -> cells
    unknown: set[tuple[str, str]] = set()  # (program, period) whose 未发放 depends on the county's file
    for person, cats in members:
        for code in PROGRAM_ORDER:
            program = programs.get(code)
            if program is None or (code == "dibao" and person.id != holder):
                continue
            cells = []
            for period in periods[program.cadence]:
                cell = _from_payments(payments.get(_key(code, person, period.code)), period)
                if cell.state is None and _due(context, code, person, cats, period):
                    cell.state = "due"
                    unknown.add((code, period.code))
                cells.append(cell)
            if any(c.state for c in cells):
                wanted[(person.id, code)] = cells
    county = household.area_code[:6].ljust(12, "0")
    done = {
        (program, period) for _c, program, period in imported(session, [(county, *pair) for pair in sorted(unknown)])
    }
    people = {person.id: person for person, _cats in members}
    found: dict[int, MemberStatus] = {}  # in the members' order, programs in PROGRAM_ORDER: as `wanted` was filled
    for (person_id, code), cells in wanted.items():
        for cell in cells:
            if cell.state == "due":
                cell.state = "missing" if (code, cell.period.code) in done else None
        row = ProgramRow(code, programs[code].name, code == "dibao", cells)
        found.setdefault(person_id, MemberStatus(people[person_id])).rows.append(row)
    return list(found.values())


def _key(code: str, person: Person, period: str) -> tuple:
    if code == "dibao":
        return ("dibao", period, None)
    return (code, period, person.id)


def _payments(session: Session, household: Household, codes: set[str]) -> dict[tuple, list[Payment]]:
    """Return the household's payments of these periods by (program, period, person id; None for 低保)."""
    found: dict[tuple, list[Payment]] = {}
    query = select(Payment).where(Payment.household_id == household.id, Payment.period.in_(sorted(codes)))
    for payment in session.exec(query.order_by(Payment.id)):
        person = None if payment.program_code == "dibao" else payment.person_id
        found.setdefault((payment.program_code, payment.period, person), []).append(payment)
    return found


def _from_payments(payments: list[Payment] | None, period: Period) -> Cell:
    if not payments:
        return Cell(period)
    paid = [p for p in payments if p.status == "paid"]
    if paid:
        return Cell(period, "paid", paid_fen=sum(p.paid_fen for p in paid))
    return Cell(period, "failed", reason=payments[-1].failure_reason)


def _dibao_holder(members, payments) -> int | None:
    """Return whom the household's 低保 is shown with: the person it was paid to, else the head, else a member."""
    paid_to = [p.person_id for key, group in payments.items() if key[0] == "dibao" for p in group if p.person_id]
    ids = {person.id for person, _cats in members}
    if paid_to and paid_to[-1] in ids:
        return paid_to[-1]
    heads = [person.id for person, _cats in members if person.is_head]
    dibao = [person.id for person, cats in members if "dibao" in cats]
    return (heads or dibao or [None])[0]


@dataclass
class _Context:
    household: Household
    dibao_household: bool
    price_periods: list[PriceSubsidyPeriod]


def _due(context: _Context, code: str, person: Person, cats, period: Period) -> bool:
    """Tell whether the registry says this person (低保: the household) was due the program for the period."""
    if code == "dibao":
        return context.dibao_household and dues.on_roll(context.household, period)
    price = dues.price_period_in(context.price_periods, period) if code == "price_subsidy" else None
    if code == "price_subsidy" and price is None:
        return False
    return code in dues.programs_on(person, context.household, cats, period, context.dibao_household, price)


def _anyone_in_a_group(members) -> bool:
    return any(cats for _person, cats in members)


def _price_periods(session: Session, months: list[Period]) -> list[PriceSubsidyPeriod]:
    """Return the 价格临时补贴 periods the city opened that overlap these months (a small table)."""
    first, last = months[0].code, months[-1].code
    overlapping = (PriceSubsidyPeriod.start_month <= last, PriceSubsidyPeriod.end_month >= first)
    return list(session.exec(select(PriceSubsidyPeriod).where(*overlapping)))


def imported(session: Session, triples: list[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """Return which (county, program, period) have any payment imported: one EXISTS each, 400 to a query."""
    found = set()
    for start in range(0, len(triples), EXISTS_PER_QUERY):
        selects = [
            select(
                literal(county).label("county"), literal(program).label("program"), literal(period).label("period")
            ).where(exists().where(and_(Payment.program_code == program, Payment.period == period, _in(county))))
            for county, program, period in triples[start : start + EXISTS_PER_QUERY]
        ]
        query = selects[0] if len(selects) == 1 else union_all(*selects)
        found.update(tuple(row) for row in session.execute(query))
    return found


def _in(county: str):
    # the payment's area: the household's village, or the county itself for a row not in the registry
    return where_under(county, Payment.area_code)
