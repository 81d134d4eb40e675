"""Due visits counted per assistant in SQL, for officers whose scope holds thousands of households.

The rule is the one `services/visits/schedule.py` applies household by household (the shortest interval of
the members' categories, at most the urgent interval after an urgent visit, due on the China date
of the last visit plus that interval). Date arithmetic stays out of SQL, where SQLite and PostgreSQL
disagree: intervals are few, so each interval's boundary instants are worked out here and compared.
"""

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import and_, bindparam, case, func
from sqlmodel import Session, select

from models import Household, Person, PersonCategory, User
from services.clock import CHINA, today_in_china
from services.registry.categories import CATEGORIES
from services.scope import where_in_scope
from services.visits.schedule import SECTIONS, WEEK, frequencies


def due_counts(session: Session, user: User, now: datetime | None = None) -> dict[tuple[int | None, str], int]:
    """Count the active households in scope that are overdue, due today or due this week, per assistant."""
    days = frequencies(session)
    in_scope = (where_in_scope(user, Household.area_code), Household.status == "active")
    category_days = case({c: days[c] for c in CATEGORIES}, value=PersonCategory.category, else_=days["default"])
    shortest = (
        select(Person.household_id, func.min(category_days).label("days"))
        .join(PersonCategory, PersonCategory.person_id == Person.id)
        .join(Household, Household.id == Person.household_id)
        .where(*in_scope)
        .group_by(Person.household_id)
        .subquery()
    )
    per_household = (
        select(
            Household.assistant_id,
            Household.last_visit_at.label("last"),
            Household.last_risk.label("risk"),
            func.coalesce(shortest.c.days, days["default"]).label("days"),
        )
        .outerjoin(shortest, shortest.c.household_id == Household.id)
        .where(*in_scope)
        .offset(0)  # one row per household: the interval is worked out once, then compared three times
        .subquery()
    )
    h = per_household.c
    urgent = days["urgent"]
    interval = case((and_(h.risk == "urgent", h.days > urgent), urgent), else_=h.days)
    start = datetime.combine(today_in_china(now), time(), CHINA).astimezone(UTC)
    intervals = sorted(set(days.values()))

    def visited_before(day: int):
        """True when the last visit plus the interval falls before the start of `day` days from today."""
        moment = Household.last_visit_at.type
        bounds = {v: bindparam(None, start + timedelta(days=day - v), type_=moment) for v in intervals}
        return h.last < case(bounds, value=interval)

    section = case(
        (h.last.is_(None), "today"),  # never visited: due now
        (visited_before(0), "overdue"),
        (visited_before(1), "today"),
        (visited_before(WEEK + 1), "week"),
        else_=None,
    ).label("section")
    sections = select(h.assistant_id, section).subquery()
    query = (
        select(sections.c.assistant_id, sections.c.section, func.count())
        .where(sections.c.section.is_not(None))
        .group_by(sections.c.assistant_id, sections.c.section)
    )
    return {(assistant_id, name): count for assistant_id, name, count in session.exec(query)}


def totals(counts: dict[tuple[int | None, str], int]) -> dict[str, int]:
    """Add up the per-assistant counts into the three sections' totals."""
    return {name: sum(n for (_assistant, section), n in counts.items() if section == name) for name in SECTIONS}
