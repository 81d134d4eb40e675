"""Temporary-relief overview: per township and month, and the urgent cases whose paperwork is overdue.

Every figure is counted in SQL, grouped by township and month; month boundaries are worked out in
Python (China time, UTC+8) and passed as parameters, so SQLite and PostgreSQL count alike. Counties
are the sum of their townships' rows (a few hundred at most), added up in Python.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, case, func, literal_column
from sqlmodel import Session, select

from models import Area, Person, ReliefApplication, User
from services.clock import CHINA
from services.errors import NotFound
from services.paging import page_of
from services.relief.rules import GRANTED
from services.scope import PREFIX_LENGTH, code_range, is_in_scope, where_in_scope

TOWNSHIP_MONTHS = 12  # a township sees its last twelve months side by side
OVERDUE_LIMIT = 200
DAY = timedelta(days=1)


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month in China time."""

    year: int
    month: int

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月"

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=CHINA)

    @property
    def end(self) -> datetime:
        return self.next().start

    def next(self) -> "Month":
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> "Month":
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)


def this_month(now: datetime | None = None) -> Month:
    """Return the current month in China."""
    local = (now or datetime.now(UTC)).astimezone(CHINA)
    return Month(local.year, local.month)


def parse_month(text: str | None, now: datetime | None = None) -> Month:
    """Read '2026-11' into a Month; anything else (or nothing) means this month."""
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", (text or "").strip())
    if match and 2000 <= int(match[1]) <= 2100 and 1 <= int(match[2]) <= 12:
        return Month(int(match[1]), int(match[2]))
    return this_month(now)


def months_ending(last: Month, count: int) -> list[Month]:
    """Return `count` months up to and including `last`, oldest first."""
    months = [last]
    while len(months) < count:
        months.append(months[-1].previous())
    return list(reversed(months))


@dataclass
class Counts:
    """One row's figures: applications raised, decisions, money paid, urgent cases, overdue paperwork."""

    applications: int = 0
    approved: int = 0
    rejected: int = 0
    paid_fen: int = 0
    urgent: int = 0
    overdue: int = 0

    def add(self, other: "Counts") -> "Counts":
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    @property
    def approval_percent(self) -> int | None:
        """Return approved as a percentage of decisions, or None when nothing was decided."""
        decided = self.approved + self.rejected
        return round(100 * self.approved / decided) if decided else None

    @property
    def bar_step(self) -> int:
        """Return the approval rate in tenths, for a bar drawn with classes (the CSP forbids inline widths)."""
        return round((self.approval_percent or 0) / 10)


@dataclass
class Row:
    """A line of the overview: an area or a month, with its figures."""

    key: str
    name: str
    counts: Counts = field(default_factory=Counts)


@dataclass
class Overview:
    """What the overview page shows: the area, the month, the rows and their total."""

    area: Area
    month: Month
    rows_are: str  # county | township | month
    rows: list[Row]
    total: Counts


# ---- counting ------------------------------------------------------------------------------


def _bucket(column, months: list[Month]):
    """Return a CASE giving the index of the month a timestamp falls in."""
    return case(
        *[(and_(column >= m.start, column < m.end), literal_column(str(i))) for i, m in enumerate(months)],
        else_=None,
    )


def _window(user: User, prefix: str, column, months: list[Month]):
    """Return the WHERE clauses: in the user's scope, under the area, in the months."""
    low, high = code_range(prefix)
    township = ReliefApplication.township_code
    return (
        where_in_scope(user, township),
        township >= low,
        township <= high,
        column >= months[0].start,
        column < months[-1].end,
    )


def monthly_counts(
    session: Session, user: User, prefix: str, months: list[Month], now: datetime | None = None
) -> dict[tuple[str, int], Counts]:
    """Return {(township code, month index): Counts} under the area prefix, in three grouped queries."""
    now = now or datetime.now(UTC)
    a = ReliefApplication
    counts: dict[tuple[str, int], Counts] = {}

    def grouped(column, columns, sums, *where):
        inner = select(a.township_code.label("township"), _bucket(column, months).label("month"), *columns)
        sub = inner.where(*_window(user, prefix, column, months), *where).subquery()
        query = select(sub.c.township, sub.c.month, *sums(sub.c)).group_by(sub.c.township, sub.c.month)
        for township, month, *values in session.exec(query):
            yield counts.setdefault((township, int(month)), Counts()), [int(value or 0) for value in values]

    for row, (applications, urgent) in grouped(a.created_at, [a.urgent], _raised, a.state != "draft"):
        row.applications, row.urgent = applications, urgent
    decided = [a.state, a.paperwork_due_at, a.paperwork_done_at]
    for row, (approved, rejected, overdue) in grouped(a.decided_at, decided, lambda c: _decided(c, now)):
        row.approved, row.rejected, row.overdue = approved, rejected, overdue
    for row, (paid_fen,) in grouped(a.paid_at, [a.amount_approved_fen], _paid, a.state == "paid"):
        row.paid_fen = paid_fen
    return counts


def _raised(c) -> list:
    """Applications raised (drafts excluded) and how many of them urgent."""
    return [func.count(), func.sum(case((c.urgent.is_(True), 1), else_=0))]


def _decided(c, now: datetime) -> list:
    """Approvals, rejections, and urgent approvals whose paperwork is past its deadline today."""
    overdue = and_(c.paperwork_due_at.is_not(None), c.paperwork_due_at < now, c.paperwork_done_at.is_(None))
    return [
        func.sum(case((c.state.in_(GRANTED), 1), else_=0)),
        func.sum(case((c.state == "rejected", 1), else_=0)),
        func.sum(case((overdue, 1), else_=0)),
    ]


def _paid(c) -> list:
    """Money paid out, in 分."""
    return [func.sum(c.amount_approved_fen)]


# ---- the page ------------------------------------------------------------------------------


def resolve_area(session: Session, user: User, code: str | None) -> Area:
    """Return the area to show: the one asked for (city, county or township in scope), else the user's own."""
    code = (code or "").strip() or user.area_code
    if code.isdigit() and len(code) < 12:
        code = code.ljust(12, "0")  # ?area=530902 is as good as the full code
    area = session.get(Area, code)
    if area is None or area.level not in (1, 2, 3) or not is_in_scope(user, code):
        raise NotFound()
    return area


def overview(session: Session, user: User, area: Area, month: Month, now: datetime | None = None) -> Overview:
    """Return the overview of an area: a city by county, a county by township, a township by month."""
    prefix = area.code[: PREFIX_LENGTH[area.level]]
    if area.level == 3:
        months = months_ending(month, TOWNSHIP_MONTHS)
        counts = monthly_counts(session, user, prefix, months, now)
        rows = [Row(m.key, m.label, counts.get((area.code, i), Counts())) for i, m in enumerate(months)]
        rows.reverse()  # newest first: the month asked for on top
        return Overview(area, month, "month", rows, _total(rows))
    counts = monthly_counts(session, user, prefix, [month], now)
    children = _children(session, user, prefix, area.level + 1)
    rows = {child.code: Row(child.code, child.name) for child in children}
    for (township, _), figures in counts.items():
        row = rows.get(township if area.level == 2 else township[:6].ljust(12, "0"))
        if row is not None:
            row.counts.add(figures)
    listed = list(rows.values())
    return Overview(area, month, "township" if area.level == 2 else "county", listed, _total(listed))


def _children(session: Session, user: User, prefix: str, level: int) -> list[Area]:
    """Return the areas of one level under the prefix, in the user's scope, by code."""
    low, high = code_range(prefix)
    query = select(Area).where(Area.level == level, Area.code >= low, Area.code <= high)
    return list(session.exec(query.where(where_in_scope(user, Area.code)).order_by(Area.code)))


def _total(rows: list[Row]) -> Counts:
    total = Counts()
    for row in rows:
        total.add(row.counts)
    return total


# ---- overdue paperwork ---------------------------------------------------------------------


@dataclass(frozen=True)
class OverdueRow:
    """An urgent township approval whose paperwork is late."""

    application: ReliefApplication
    person_name: str
    village_name: str
    days_overdue: int


def overdue_query(user: User, now: datetime):
    """Return a select() of urgent township approvals in scope past their paperwork deadline, oldest first."""
    a = ReliefApplication
    return (
        select(a, Person.name, Area.name)
        .join(Person, Person.id == a.person_id)
        .join(Area, Area.code == a.area_code)
        .where(
            where_in_scope(user, a.area_code),
            a.urgent.is_(True),
            a.decided_level == "township",
            a.state.in_(GRANTED),
            a.paperwork_due_at < now,
            a.paperwork_done_at.is_(None),
        )
        .order_by(a.paperwork_due_at, a.id)
    )


def overdue_paperwork(session: Session, user: User, now: datetime | None = None) -> tuple[list[OverdueRow], bool]:
    """Return the overdue urgent cases in scope (at most OVERDUE_LIMIT) and whether there are more."""
    now = now or datetime.now(UTC)
    found, more = page_of(session, overdue_query(user, now), offset=0, limit=OVERDUE_LIMIT)
    rows = [
        OverdueRow(application, person, village, _days_late(application.paperwork_due_at, now))
        for application, person, village in found
    ]
    return rows, more


def _days_late(due: datetime, now: datetime) -> int:
    """Return the started days since the deadline: an hour late counts as one day."""
    return -((due - now) // DAY)
