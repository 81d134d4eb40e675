"""Campaign coverage (不漏一户一人): households and persons due and visited, per child area, in set-based SQL."""

from dataclasses import dataclass, field

from sqlalchemy import case, func
from sqlmodel import Session, select

from models import Area, Campaign, Household, Person, User, Visit
from services.campaigns.campaigns import window
from services.errors import NotFound
from services.registry.areas import area_names
from services.scope import is_in_scope, where_in_scope, where_under

CHILD_PREFIX = {1: 6, 2: 9, 3: 12, 4: 12}  # city → counties, county → townships, township → villages


@dataclass
class Tally:
    """Due and visited counts for one area."""

    code: str
    name: str
    households_due: int = 0
    households_visited: int = 0
    persons_due: int = 0
    persons_visited: int = 0
    institution_persons: int = 0  # residents of care institutions (机构人员)
    institution_visited: int = 0
    care_agreements: int = 0  # households with a signed care agreement (签订照料协议)
    wants_institutional_care: int = 0  # households wishing for institutional care (集中供养意愿)

    @property
    def rate(self) -> float:
        return self.households_visited / self.households_due if self.households_due else 1.0

    @property
    def households_missing(self) -> int:
        return self.households_due - self.households_visited

    def add(self, other: "Tally") -> None:
        """Add another area's counts to these (for totals)."""
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


COUNTS = (
    "households_due",
    "households_visited",
    "persons_due",
    "persons_visited",
    "institution_persons",
    "institution_visited",
    "care_agreements",
    "wants_institutional_care",
)


@dataclass
class Coverage:
    """An area's totals and its child areas' rows."""

    total: Tally
    children: list[Tally] = field(default_factory=list)


def _visited_households(campaign: Campaign):
    """Return a select() of the households with a survey visit inside the campaign window."""
    start, end = window(campaign)
    return select(Visit.household_id).where(Visit.kind == "survey", Visit.visited_at >= start, Visit.visited_at < end)


def check_area(session: Session, user: User, area_code: str) -> Area:
    """Return the area if the user may see its coverage; otherwise 404."""
    area = session.get(Area, area_code)
    if area is None or not is_in_scope(user, area_code):
        raise NotFound()
    return area


def household_filter(user: User, area: Area) -> tuple:
    """Return the WHERE clauses for the active households under an area that the user may see."""
    return (
        where_in_scope(user, Household.area_code),
        where_under(area.code, Household.area_code),
        Household.status == "active",
    )


def child_prefix(area: Area):
    """Return the SQL expression naming a household's child area under this area (its code prefix)."""
    return func.substr(Household.area_code, 1, CHILD_PREFIX[area.level]).label("child")


def was_visited(campaign: Campaign, area: Area):
    """Return a condition true for households with a survey visit in the campaign window.

    Cities and counties test membership in one set of visited households: IN (subquery) is computed
    once by both databases (an outer join to it was rescanned per household by SQLite whenever the
    planner had no statistics). Townships and villages probe each household's own visits through the
    (household_id, visited_at) index instead, so a small area never reads the whole city's visits.
    """
    if area.level <= 2:
        return Household.id.in_(_visited_households(campaign))
    return _own_survey_visit(campaign)


def _own_survey_visit(campaign: Campaign):
    """Return EXISTS (a survey visit of this household inside the campaign window), correlated on Household."""
    start, end = window(campaign)
    own = select(Visit.id).where(Visit.household_id == Household.id, Visit.visited_at >= start, Visit.visited_at < end)
    return own.where(Visit.kind == "survey").exists()


def visited_case(campaign: Campaign, area: Area):
    """Return CASE … 1 for rows whose household had a survey visit in the campaign window (for COUNT)."""
    return case((was_visited(campaign, area), 1))


def coverage(session: Session, user: User, campaign: Campaign, area: Area) -> Coverage:
    """Count due and visited households and persons under an area, grouped by its child areas, in one query."""
    per_household = _per_household(user, campaign, area)
    h = per_household.c
    counts = session.exec(
        select(
            h.child,
            func.count(),
            func.sum(h.seen),
            func.sum(h.members),
            func.sum(h.seen * h.members),
            func.sum(h.institution * h.members),
            func.sum(h.institution * h.seen * h.members),
            func.sum(h.care),
            func.sum(h.wants),
        ).group_by(h.child)
    ).all()
    rows = {
        prefix: Tally(prefix.ljust(12, "0"), prefix, *(int(n or 0) for n in numbers)) for prefix, *numbers in counts
    }
    names = area_names(session, [row.code for row in rows.values()])
    for row in rows.values():
        row.name = names.get(row.code, row.name)
    children = sorted(rows.values(), key=lambda t: t.code)
    total = Tally(area.code, area.name)
    for row in children:
        total.add(row)
    return Coverage(total=total, children=children if area.level < 4 else [])


def _per_household(user: User, campaign: Campaign, area: Area):
    """Return a subquery with one row per due household: its child area, visited, members, kind and care flags.

    Each household's visit and its members are looked up once and the row is then summed several ways;
    counting over persons instead would test the same visit once per member. As with visits, cities
    and counties count members in one pass over persons, townships and villages per household.
    """
    flag = lambda condition: case((condition, 1), else_=0)  # noqa: E731
    query = select(
        child_prefix(area),
        flag(was_visited(campaign, area)).label("seen"),
        flag(Household.kind == "institution").label("institution"),
        flag(Household.care_agreement_signed).label("care"),
        flag(Household.wants_institutional_care).label("wants"),
    ).where(*household_filter(user, area))
    if area.level <= 2:
        per = select(Person.household_id, func.count().label("n")).group_by(Person.household_id).subquery()
        query = query.outerjoin(per, per.c.household_id == Household.id)
        query = query.add_columns(func.coalesce(per.c.n, 0).label("members"))
    else:
        own = select(func.count(Person.id)).where(Person.household_id == Household.id).scalar_subquery()
        query = query.add_columns(own.label("members"))
    # OFFSET 0 keeps SQLite from merging this into the outer query, which would recount members per sum.
    return query.offset(0).subquery()


def missing_households(user: User, campaign: Campaign, area: Area):
    """Return a select() of the active households under the area not yet visited in the campaign: 还差 N 户."""
    # Each household's own visits, probed through the index: the list is read a page at a time.
    return (
        select(Household)
        .where(*household_filter(user, area), ~_own_survey_visit(campaign))
        .order_by(Household.area_code, Household.household_no)
    )
