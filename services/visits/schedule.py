"""Routine visits: how often each household is due, who is overdue, and the city's frequency settings.

An assistant's due list is read in two queries (households, then their categories); the date
arithmetic runs in Python, because SQLite and PostgreSQL disagree on date functions. Officers see
counts per assistant, which services/visits/schedule_counts.py works out in SQL by the same rule.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_
from sqlmodel import Session, select

from models import Area, Household, Person, PersonCategory, User, Visit, VisitFrequency
from services import audit
from services.audit import Actor
from services.clock import today_in_china
from services.errors import Invalid
from services.inputs import small_int
from services.names import household_names, user_names
from services.paging import page_of
from services.registry.categories import CATEGORIES
from services.scope import where_in_scope
from services.visits.visits import recent_visits

WEEK = 7
# Categories visited monthly unless the city says otherwise (issue 4: 分散供养特困, 孤寡老人, children, 重病重残).
MONTHLY_CATEGORIES = (
    "tekun_dispersed",
    "lonely_elderly",
    "orphan",
    "de_facto_orphan",
    "child_in_difficulty",
    "left_behind_child",
    "serious_illness",
    "severe_disability",
)
DEFAULT_DAYS = {"urgent": 7, "default": 90, **dict.fromkeys(MONTHLY_CATEGORIES, 30)}
MIN_DAYS, MAX_DAYS = 1, 365


# ---- frequencies ---------------------------------------------------------------------------


def stored_frequencies(session: Session) -> dict[str, int]:
    """Return the city's own settings: {key: days} for the keys it changed."""
    return {row.key: row.days for row in session.exec(select(VisitFrequency))}


def frequencies(session: Session) -> dict[str, int]:
    """Return the days between visits for 'urgent', 'default' and every category.

    A category the city did not set keeps its built-in interval, or follows 'default' if it has none.
    """
    stored = stored_frequencies(session)
    days = {**DEFAULT_DAYS, **stored}
    for category in CATEGORIES:
        days.setdefault(category, days["default"])
    return days


def interval_days(days: dict[str, int], categories, last_risk: str | None) -> int:
    """Return how many days may pass between visits to a household with these categories and risk."""
    interval = min((days.get(c, days["default"]) for c in categories), default=days["default"])
    if last_risk == "urgent":
        interval = min(interval, days["urgent"])
    return interval


def parse_frequency_form(form) -> dict[str, int | None]:
    """Read the settings form: days for each key; None for a category left empty (it follows 其他)."""
    errors, values = {}, {}
    for key in ("urgent", "default", *CATEGORIES):
        text = str(form.get(key, "")).strip()
        if not text and key not in DEFAULT_DAYS:
            values[key] = None
            continue
        days = small_int(text)
        if days is None or not MIN_DAYS <= days <= MAX_DAYS:
            errors[key] = f"请填写 {MIN_DAYS} 到 {MAX_DAYS} 之间的天数"
            continue
        values[key] = days
    if errors:
        raise Invalid(errors)
    return values


def save_frequencies(session: Session, actor: Actor, values: dict[str, int | None]) -> dict[str, list]:
    """Store the settings that differ from the built-in ones; audit what changed; return the changes."""
    stored = stored_frequencies(session)
    changes = {}
    for key, days in values.items():
        keep = days is not None and days != DEFAULT_DAYS.get(key)
        row = session.get(VisitFrequency, key)
        if keep and row is None:
            session.add(VisitFrequency(key=key, days=days))
        elif keep and row.days != days:
            row.days = days
            session.add(row)
        elif not keep and row is not None:
            session.delete(row)
        before = stored.get(key, DEFAULT_DAYS.get(key))
        if before != days:
            changes[key] = [before, days]
    if changes:
        audit.record(session, actor, "visit_frequency.changed", None, changes=changes)
    return changes


# ---- who is due ----------------------------------------------------------------------------


@dataclass
class DueItem:
    """A household with when its next routine visit is due."""

    household_id: int
    household_no: str
    area_code: str
    village: str
    head_name: str
    assistant_id: int | None
    last_visit_at: datetime | None
    last_risk: str | None
    interval: int = 0
    due: date | None = None  # None: never visited, due now
    days_overdue: int = 0

    @property
    def never_visited(self) -> bool:
        return self.last_visit_at is None


@dataclass
class Due:
    """A scope's due visits in three lists: overdue, due today (and never visited), due this week."""

    overdue: list[DueItem] = field(default_factory=list)
    today: list[DueItem] = field(default_factory=list)
    week: list[DueItem] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {"overdue": len(self.overdue), "today": len(self.today), "week": len(self.week)}

    def section(self, name: str) -> list[DueItem]:
        return getattr(self, name) if name in SECTIONS else []


SECTIONS = {"overdue": "逾期", "today": "今天", "week": "本周"}


def _households(user: User):
    """Return a select() of the active households in scope, with village and head names."""
    head = and_(Person.household_id == Household.id, Person.is_head)
    return (
        select(
            Household.id,
            Household.household_no,
            Household.area_code,
            Area.name,
            Person.name,
            Household.assistant_id,
            Household.last_visit_at,
            Household.last_risk,
        )
        .join(Area, Area.code == Household.area_code)
        .outerjoin(Person, head)
        .where(where_in_scope(user, Household.area_code), Household.status == "active")
    )


def _categories(user: User):
    """Return a select() of (household id, category) for the active households in scope."""
    return (
        select(Person.household_id, PersonCategory.category)
        .distinct()
        .join(PersonCategory, PersonCategory.person_id == Person.id)
        .join(Household, Household.id == Person.household_id)
        .where(where_in_scope(user, Household.area_code), Household.status == "active")
    )


def due_visits(session: Session, user: User, now: datetime | None = None) -> Due:
    """Sort the user's households into overdue, due today and due within the week, most urgent first."""
    days = frequencies(session)
    categories = defaultdict(list)
    for household_id, category in session.exec(_categories(user)):
        categories[household_id].append(category)
    today = today_in_china(now)
    due, seen = Due(), set()
    for row in session.exec(_households(user)):
        if row[0] in seen:  # a household wrongly holding two heads must not be counted twice
            continue
        seen.add(row[0])
        item = DueItem(*row[:4], row[4] or "（未登记户主）", *row[5:])
        _place(due, item, interval_days(days, categories[item.household_id], item.last_risk), today)
    for items in (due.overdue, due.today, due.week):
        items.sort(key=lambda i: (i.due or date.min, i.village, i.household_no))
    return due


def _place(due: Due, item: DueItem, interval: int, today: date) -> None:
    item.interval = interval
    if item.last_visit_at is None:
        due.today.append(item)
        return
    item.due = today_in_china(item.last_visit_at + timedelta(days=interval))
    if item.due < today:
        item.days_overdue = (today - item.due).days
        due.overdue.append(item)
    elif item.due == today:
        due.today.append(item)
    elif item.due <= today + timedelta(days=WEEK):
        due.week.append(item)


@dataclass
class AssistantLoad:
    """One assistant's (or nobody's) households that are due."""

    user_id: int | None
    name: str
    village: str
    overdue: int = 0
    today: int = 0
    week: int = 0


def load_per_assistant(session: Session, user: User, counts: dict[tuple[int | None, str], int]) -> list[AssistantLoad]:
    """Give each assistant in scope (and nobody) their due counts, most overdue first.

    `counts` maps (assistant id, section) to households: services/schedule_counts.due_counts makes it.
    """
    ids = {assistant_id for assistant_id, _section in counts if assistant_id}
    wanted = and_(User.role == "assistant", User.active, where_in_scope(user, User.area_code))
    if ids:  # a departed assistant still holds households until they are handed over
        wanted = or_(wanted, User.id.in_(ids))
    query = select(User.id, User.display_name, Area.name).join(Area, Area.code == User.area_code).where(wanted)
    loads = {uid: AssistantLoad(uid, name, village) for uid, name, village in session.exec(query)}
    loads[None] = AssistantLoad(None, "未指定协理员", "")
    for (assistant_id, section), count in counts.items():
        load = loads.get(assistant_id, loads[None])
        setattr(load, section, getattr(load, section) + count)
    if not any((loads[None].overdue, loads[None].today, loads[None].week)):
        del loads[None]
    return sorted(loads.values(), key=lambda a: (-a.overdue, -a.today, -a.week, a.village, a.name))


# ---- recent visits -------------------------------------------------------------------------


@dataclass
class RecentRow:
    """A recent visit with the names the 走访 tab shows."""

    visit: Visit
    visitor: str
    head_name: str
    village: str
    household_no: str


def recent_rows(session: Session, user: User, *, offset: int, limit: int) -> tuple[list[RecentRow], bool]:
    """Return one page of the newest visits in scope, with visitor, head and village names, in three queries."""
    visits, has_more = page_of(session, recent_visits(user), offset=offset, limit=limit)
    if not visits:
        return [], False
    visitors = user_names(session, {v.visitor_id for v in visits})
    households = household_names(session, {v.household_id for v in visits})
    rows = []
    for visit in visits:
        no, village, name = households[visit.household_id]
        rows.append(RecentRow(visit, visitors.get(visit.visitor_id, ""), name, village, no))
    return rows, has_more
