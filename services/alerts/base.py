"""What every 主动发现 rule shares: the Hit it reports, the Context it runs in, the Rule entry, small helpers."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session, func, select

from models import Household, Person, PersonCategory
from services.clock import china_date

UNRESOLVED_NEEDS = ("open", "in_progress")
RELIEF_NEED_TYPE = "temporary_relief"  # 临时救助 (services/visits/rules.py NEED_TYPES)
RELIEF_NEED_DAYS = 7
# 八必访: visited as a rule; 分散供养特困 only when living alone
MUST_VISIT_CATEGORIES = (
    "lonely_elderly",
    "serious_illness",
    "severe_disability",
    "orphan",
    "de_facto_orphan",
    "child_in_difficulty",
)
ALONE_MUST_VISIT = "tekun_dispersed"
ORPHAN_CATEGORIES = ("orphan", "de_facto_orphan")
CARE_CATEGORIES = ("tekun_dispersed", "left_behind_child")


@dataclass(frozen=True)
class Hit:
    """One subject a rule found: a household, a person (with their household) or a candidate."""

    area_code: str
    reason: str
    household_id: int | None = None
    person_id: int | None = None
    candidate_id: int | None = None

    @property
    def subject(self) -> str:
        """The subject's part of the alert's open_key: c<id>, p<id> or h<id>."""
        if self.candidate_id is not None:
            return f"c{self.candidate_id}"
        if self.person_id is not None:
            return f"p{self.person_id}"
        return f"h{self.household_id}"


@dataclass
class Context:
    """What a rule is run with: the moment, China's date, the rule's threshold, and a cache shared by the rules."""

    now: datetime
    today: date
    threshold: int | None = None
    cache: dict = field(default_factory=dict)

    def ago(self, days: int) -> datetime:
        return self.now - timedelta(days=days)


@dataclass(frozen=True)
class Rule:
    """A rule's defaults and its function; `days` is how long the township has to check an alert."""

    code: str
    grade: str  # red | orange | yellow
    days: int
    threshold: int | None
    label: str
    explanation: str
    check: Callable[[Session, Context], Iterable[Hit]]
    unit: str = "天"  # what the threshold counts: 天, or 元 for the 医保 lists' self-paid costs


# ---- helpers -------------------------------------------------------------------------------


def _day(moment: datetime | None) -> str:
    return china_date(moment).isoformat() if moment else ""  # stored times are UTC, zone or not


def _years_before(day: date, years: int) -> date:
    """The same date `years` earlier (28 February for a 29 February that year lacks)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _alone(session: Session, ctx: Context) -> set[int]:
    """Ids of the households with exactly one living member (read once per run): a widow is alone from the death on."""
    if "alone" not in ctx.cache:
        living = select(Person.household_id).where(Person.died_on.is_(None))
        query = living.group_by(Person.household_id).having(func.count() == 1)
        ctx.cache["alone"] = set(session.exec(query))
    return ctx.cache["alone"]


def _county(area_code: str) -> str:
    return area_code[:6] + "000000"


def _people_in(session: Session, categories, *extra):
    """(person id, household id, village, category) of the living people of active households in these categories."""
    query = (
        select(Person.id, Person.household_id, Household.area_code, PersonCategory.category)
        .join(PersonCategory, PersonCategory.person_id == Person.id)
        .join(Household, Household.id == Person.household_id)
        .where(PersonCategory.category.in_(categories), Household.status == "active", Person.died_on.is_(None), *extra)
    )
    return session.exec(query)


# ---- after a visit -------------------------------------------------------------------------
