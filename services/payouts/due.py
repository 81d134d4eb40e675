"""Who the registry says is due what, for one program and period in one county.

低保 is paid per household (to the head's account, as the county's roll says); every other program per person.
孤儿 and 事实无人抚养 stop at 18; 高龄 follows the birthday (the band reached by the period's last day). Nothing is
due to a person for the months after their death (Person.died_on, from a death list: services/signals).
"""

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from sqlmodel import Session, select

from models import Household, Person, PersonCategory, PriceSubsidyPeriod
from services.payouts.programs import Period, elderly_band, standards
from services.scope import where_under

TEKUN = ("tekun_central", "tekun_dispersed")


@dataclass
class Due:
    """One household or person the registry says is due a payment."""

    key: str  # h<household id> for household programs, p<person id> otherwise
    household_id: int
    person_id: int | None
    area_code: str
    name: str
    id_number: str | None
    amount_fen: int | None  # the standard where the city set one, or the roll's amount; None when not known


class HouseholdFacts(NamedTuple):
    """What due.py reads of a household (plain rows, not ORM objects: a county has 100,000 of them)."""

    id: int
    area_code: str
    status: str
    exited_at: datetime | None


class PersonFacts(NamedTuple):
    """What due.py reads of a person."""

    id: int
    household_id: int
    name: str
    id_number: str | None
    is_head: bool
    birth_date: date | None
    disability_grade: int | None
    monthly_allowance_fen: int | None
    died_on: date | None = None


@dataclass
class _Member:
    person: PersonFacts
    household: HouseholdFacts
    categories: set


def age_on(birth: date | None, day: date) -> int | None:
    """Return the age in whole years on a day, or None without a birth date."""
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def on_roll(household: HouseholdFacts, period: Period) -> bool:
    """Tell whether a household was on the register for the period (it left after the period ended)."""
    if household.status == "active":
        return True
    return household.exited_at is not None and household.exited_at.date() > period.last_day


def alive_in(person, period: Period) -> bool:
    """Tell whether a person was alive for some of the period: nothing is due for the months after a death."""
    died_on = getattr(person, "died_on", None)
    return died_on is None or died_on >= period.first_day


def members(session: Session, county_code: str) -> list[_Member]:
    """Return every person of the county's households with their categories (three set-based queries)."""
    in_county = where_under(county_code, Household.area_code)
    households = {
        row[0]: HouseholdFacts(*row)
        for row in session.exec(
            select(Household.id, Household.area_code, Household.status, Household.exited_at).where(in_county)
        )
    }
    if not households:
        return []
    persons = session.exec(
        select(*(getattr(Person, name) for name in PersonFacts._fields))
        .join(Household, Person.household_id == Household.id)
        .where(in_county)
    ).all()
    categories: dict[int, set] = {}
    rows = session.exec(
        select(PersonCategory.person_id, PersonCategory.category)
        .join(Person, Person.id == PersonCategory.person_id)
        .join(Household, Person.household_id == Household.id)
        .where(in_county)
    )
    for person_id, category in rows:
        categories.setdefault(person_id, set()).add(category)
    return [_Member(PersonFacts(*p), households[p[1]], categories.get(p[0], set())) for p in persons]


def price_period_for(session: Session, period: Period) -> PriceSubsidyPeriod | None:
    """Return the 价格临时补贴 period the city opened that covers this month, if any."""
    if not period.month:
        return None
    return session.exec(
        select(PriceSubsidyPeriod)
        .where(PriceSubsidyPeriod.start_month <= period.code, PriceSubsidyPeriod.end_month >= period.code)
        .order_by(PriceSubsidyPeriod.id.desc())
    ).first()


def due_for(session: Session, program: str, period: Period, county_code: str, everyone=None) -> dict[str, Due]:
    """Return who is due a payment of `program` for `period` in the county, by key."""
    everyone = members(session, county_code) if everyone is None else everyone
    rates = standards(session).get(program, {})
    found: dict[str, Due] = {}
    on = [m for m in everyone if on_roll(m.household, period) and alive_in(m.person, period)]
    if program == "dibao":
        heads = {m.household.id: m for m in on if m.person.is_head}
        for household_id, group in _by_household(m for m in on if "dibao" in m.categories).items():
            head = heads.get(household_id, group[0])  # the household's 低保 goes to the head's account
            amounts = [m.person.monthly_allowance_fen for m in group if m.person.monthly_allowance_fen]
            found[f"h{household_id}"] = _due(head, f"h{household_id}", sum(amounts) if amounts else None)
        return found
    price = price_period_for(session, period) if program == "price_subsidy" else None
    price_groups = set(json.loads(price.categories)) if price else set()
    dibao_households = {m.household.id for m in on if "dibao" in m.categories}
    for m in on:
        amount = _amount(program, m, period, rates, price, price_groups, dibao_households)
        if amount is not False:
            found[f"p{m.person.id}"] = _due(m, f"p{m.person.id}", amount)
    return found


def _amount(program, m: _Member, period: Period, rates, price, price_groups, dibao_households):
    """Return the amount due (None when the roll has none), or False when this person is not due."""
    grade = m.person.disability_grade
    if program == "tekun":
        return m.person.monthly_allowance_fen if m.categories & set(TEKUN) else False
    if program in ("orphan", "de_facto_orphan"):
        age = age_on(m.person.birth_date, period.first_day)
        return m.person.monthly_allowance_fen if program in m.categories and age is not None and age < 18 else False
    if program == "disability_living":
        return rates.get("") if grade is not None and m.household.id in dibao_households else False
    if program == "disability_care":
        return rates.get(str(grade)) if grade in (1, 2) else False
    if program == "elderly":
        age = age_on(m.person.birth_date, period.last_day)
        band = elderly_band(age) if age is not None else None
        return rates.get(band) if band else False
    if program == "price_subsidy":
        return price.amount_fen if price and m.categories & price_groups else False
    return False


def _due(m: _Member, key: str, amount: int | None) -> Due:
    return Due(
        key=key,
        household_id=m.household.id,
        person_id=None if key.startswith("h") else m.person.id,
        area_code=m.household.area_code,
        name=m.person.name,
        id_number=m.person.id_number,
        amount_fen=amount,
    )


def _by_household(chosen) -> dict[int, list[_Member]]:
    groups: dict[int, list[_Member]] = {}
    for m in chosen:
        groups.setdefault(m.household.id, []).append(m)
    return groups


# Programs paid per person, in the order pages list them (低保 is the household's: see due_for).
PERSON_PROGRAMS = (
    "tekun",
    "orphan",
    "de_facto_orphan",
    "disability_living",
    "disability_care",
    "elderly",
    "price_subsidy",
)


def programs_on(
    person: Person,
    household: Household,
    categories,
    period: Period,
    dibao_household: bool,
    price: PriceSubsidyPeriod | None = None,
) -> list[str]:
    """Return the per-person programs the registry puts one person on for a period, as due_for decides (no queries).

    低保 is the household's, not the person's (see due_for); `dibao_household` tells whether the household has it,
    which 困难残疾人生活补贴 needs. A household off the register for the period is on nothing.
    """
    if not on_roll(household, period) or not alive_in(person, period):
        return []
    member = _Member(person, household, set(categories))
    groups = set(json.loads(price.categories)) if price else set()
    dibao = {household.id} if dibao_household else set()
    return [p for p in PERSON_PROGRAMS if _amount(p, member, period, {}, price, groups, dibao) is not False]


def anyone_due(everyone: list[_Member], program: str, period: Period, price: PriceSubsidyPeriod | None = None) -> bool:
    """Tell whether the registry says anyone of these members is due `program` for `period` (no queries)."""
    on = [m for m in everyone if on_roll(m.household, period) and alive_in(m.person, period)]
    if program == "dibao":
        return any("dibao" in m.categories for m in on)
    groups = set(json.loads(price.categories)) if price else set()
    dibao = {m.household.id for m in on if "dibao" in m.categories}
    return any(_amount(program, m, period, {}, price, groups, dibao) is not False for m in on)


def price_period_in(price_periods: list[PriceSubsidyPeriod], period: Period) -> PriceSubsidyPeriod | None:
    """Return the 价格临时补贴 period covering a month out of a list already read (the newest wins, as above)."""
    if not period.month:
        return None
    covering = [p for p in price_periods if p.start_month <= period.code <= p.end_month]
    return max(covering, key=lambda p: p.id) if covering else None
