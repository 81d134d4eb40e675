"""A campaign's full statistics per child area: coverage, categories, problems found, what was done, 主动发现.

The coverage page, the statistics table (.xlsx) and the work report all read these numbers, so they agree.
Every figure comes from a GROUP BY on the area-code prefix; nothing loops over households.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from models import Area, Campaign, Household, Need, Person, PersonCategory, ReliefApplication, User, utcnow
from services.campaigns import discovery_stats
from services.campaigns.campaigns import window
from services.campaigns.coverage import Tally, child_prefix, coverage, household_filter, visited_case
from services.registry.areas import area_names
from services.registry.categories import CATEGORIES
from services.scope import where_in_scope, where_under
from services.visits.rules import NEED_TYPES

# The categories the statistics table has a column for (临时救助 is counted as relief granted instead).
# 低保边缘 (a household watched by 主动发现, not assisted) is not a column of the statistics table
TABLE_CATEGORIES = [code for code in CATEGORIES if code not in ("temporary_relief", "dibao_marginal")]
NEED_COLUMNS = list(NEED_TYPES)  # 发现问题 columns, by type
GRANTED = ("approved", "paid")  # relief decided in favour: approved (awaiting payment) or paid
LOWER = {1: "县（区）", 2: "乡镇", 3: "村"}  # what a city's, county's, township's child rows are


@dataclass
class AreaStats:
    """One area's row: coverage plus categories, problems found and their outcomes."""

    tally: Tally
    persons_by_category: dict[str, int] = field(default_factory=dict)
    visited_by_category: dict[str, int] = field(default_factory=dict)
    needs_by_type: dict[str, int] = field(default_factory=dict)  # problems found in the window
    resolved_by_type: dict[str, int] = field(default_factory=dict)  # of those, resolved by now
    needs_resolved: int = 0
    dibao_included: int = 0  # 纳入低保 needs found in the window and resolved
    moved_to_institution: int = 0  # 集中供养 needs found in the window and resolved (转集中供养)
    relief_count: int = 0  # temporary relief granted in the window (人次)
    relief_fen: int = 0
    # 主动发现 (services/campaigns/discovery_stats.py)
    alerts_raised: int = 0  # alerts raised in the window
    alerts_waiting: int = 0  # of those, not yet checked
    alerts_overdue: int = 0  # of those, past their due time
    alerts_checked: int = 0  # alerts checked in the window (an outcome recorded), whenever raised
    outcomes: dict[str, int] = field(default_factory=dict)  # of those, by outcome code
    candidates_found: int = 0  # candidates (待核实对象) found in the window
    candidates_waiting: int = 0  # of those, not yet checked

    @property
    def code(self) -> str:
        return self.tally.code

    @property
    def name(self) -> str:
        return self.tally.name

    @property
    def needs_found(self) -> int:
        return sum(self.needs_by_type.values())

    def add(self, other: "AreaStats") -> None:
        """Add another area's figures to these (for the 合计 row)."""
        self.tally.add(other.tally)
        for mine, theirs in (
            (self.persons_by_category, other.persons_by_category),
            (self.visited_by_category, other.visited_by_category),
            (self.needs_by_type, other.needs_by_type),
            (self.resolved_by_type, other.resolved_by_type),
            (self.outcomes, other.outcomes),
        ):
            for key, value in theirs.items():
                mine[key] = mine.get(key, 0) + value
        for name in SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))


SUMMED = (
    "needs_resolved",
    "dibao_included",
    "moved_to_institution",
    "relief_count",
    "relief_fen",
    "alerts_raised",
    "alerts_waiting",
    "alerts_overdue",
    "alerts_checked",
    "candidates_found",
    "candidates_waiting",
)


@dataclass
class Statistics:
    """An area's 合计 row and one row per child area (none for a village)."""

    campaign: Campaign
    area: Area
    total: AreaStats
    children: list[AreaStats]


def statistics(session: Session, user: User, campaign: Campaign, area: Area, now: datetime | None = None) -> Statistics:
    """Gather every figure of the statistics table for an area, one row per child area, in seven GROUP BY queries.

    `now` decides which alerts not yet checked are overdue (default: this moment).
    """
    covered = coverage(session, user, campaign, area)
    tallies = covered.children if area.level < 4 else [covered.total]  # a village is its own only row
    rows = {tally.code: AreaStats(tally) for tally in tallies}

    def row(prefix: str) -> AreaStats:
        code = prefix.ljust(12, "0")
        if code not in rows:  # an area with needs or relief but no active household left
            rows[code] = AreaStats(Tally(code, code))
        return rows[code]

    for prefix, category, persons, visited in session.exec(_categories(user, campaign, area)).all():
        row(prefix).persons_by_category[category] = persons
        row(prefix).visited_by_category[category] = visited
    for prefix, need_type, status, count in session.exec(_needs(user, campaign, area)).all():
        target = row(prefix)
        target.needs_by_type[need_type] = target.needs_by_type.get(need_type, 0) + count
        if status == "resolved":
            target.resolved_by_type[need_type] = count
            target.needs_resolved += count
            target.dibao_included += count if need_type == "dibao" else 0
            target.moved_to_institution += count if need_type == "institutional_care" else 0
    for prefix, count, fen in session.exec(_relief(user, campaign, area)).all():
        row(prefix).relief_count, row(prefix).relief_fen = count, int(fen or 0)
    discovery_stats.gather(session, user, campaign, area, row, now or utcnow())
    _name_unnamed(session, rows, area)
    total = AreaStats(Tally(area.code, area.name))
    children = sorted(rows.values(), key=lambda r: r.code)
    for child in children:
        total.add(child)
    return Statistics(campaign, area, total, children if area.level < 4 else [])


def _categories(user: User, campaign: Campaign, area: Area):
    """Persons due and visited per child area and category."""
    child = child_prefix(area)
    return (
        select(child, PersonCategory.category, func.count(), func.count(visited_case(campaign, area)))
        .select_from(PersonCategory)
        .join(Person, Person.id == PersonCategory.person_id)
        .join(Household, Household.id == Person.household_id)
        .where(*household_filter(user, area))
        .group_by(child, PersonCategory.category)
    )


def _in_area(user: User, area: Area) -> tuple:
    """WHERE clauses for rows whose household lies under the area and in scope, whatever its status."""
    return where_in_scope(user, Household.area_code), where_under(area.code, Household.area_code)


def _needs(user: User, campaign: Campaign, area: Area):
    """Needs raised inside the campaign window per child area, type and present status."""
    start, end = window(campaign)
    child = child_prefix(area)
    return (
        select(child, Need.type, Need.status, func.count())
        .select_from(Need)
        .join(Household, Household.id == Need.household_id)
        .where(*_in_area(user, area), Need.created_at >= start, Need.created_at < end)
        .group_by(child, Need.type, Need.status)
    )


def _granted_in(user: User, campaign: Campaign, area: Area) -> tuple:
    """WHERE clauses for relief granted inside the campaign window under an area (join Household)."""
    start, end = window(campaign)
    return (
        *_in_area(user, area),
        ReliefApplication.state.in_(GRANTED),
        ReliefApplication.decided_at >= start,
        ReliefApplication.decided_at < end,
    )


def granted_relief(user: User, campaign: Campaign, area: Area):
    """Return a select() of the temporary relief granted inside the campaign window under an area, newest first."""
    return (
        select(ReliefApplication)
        .join(Household, Household.id == ReliefApplication.household_id)
        .where(*_granted_in(user, campaign, area))
        .order_by(ReliefApplication.decided_at.desc(), ReliefApplication.id.desc())
    )


def _relief(user: User, campaign: Campaign, area: Area):
    """Temporary relief granted inside the campaign window per child area: how many, how much."""
    child = child_prefix(area)
    return (
        select(child, func.count(), func.sum(ReliefApplication.amount_approved_fen))
        .select_from(ReliefApplication)
        .join(Household, Household.id == ReliefApplication.household_id)
        .where(*_granted_in(user, campaign, area))
        .group_by(child)
    )


def _name_unnamed(session: Session, rows: dict[str, AreaStats], area: Area) -> None:
    """Give rows that only needs, relief, alerts or candidates brought in their area's name.

    A candidate whose village is not known yet is filed under the township (or county): under that area
    its row is the area itself, named so that nobody takes it for the whole.
    """
    unnamed = [code for code, stats in rows.items() if stats.name == code]
    for code, name in area_names(session, unnamed).items():
        rows[code].tally.name = name
    if area.level < 4 and area.code in rows:
        rows[area.code].tally.name = f"{area.name}（未分到{LOWER[area.level]}）"
