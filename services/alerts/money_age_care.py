"""主动发现 rules over money and age: 整改 items left open, birthdays that change support (care: care_rules.py)."""

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import and_
from sqlmodel import Session, select

from models import Correction, Household, Payment, Person, PersonCategory
from services.alerts.base import (
    ORPHAN_CATEGORIES,
    Context,
    Hit,
    _county,
    _years_before,
)


def _corrections(session: Session, *conditions):
    """Open 整改 items of registered households, oldest first, one per subject (person, else household)."""
    query = (
        select(Correction)
        .where(Correction.status == "open", Correction.household_id.is_not(None), *conditions)
        .order_by(Correction.created_at, Correction.id)
    )
    return session.exec(query)


def _money_hit(correction: Correction, reason: str) -> Hit:
    return Hit(
        correction.area_code,
        reason[:300],
        household_id=correction.household_id,
        person_id=correction.person_id,
    )


def failed_not_reissued(session: Session, ctx: Context) -> Iterable[Hit]:
    """A failed payment (整改 item of kind failed) still open the threshold's days after it was found."""
    for c in _corrections(session, Correction.kind == "failed", Correction.created_at < ctx.ago(ctx.threshold)):
        yield _money_hit(c, f"{c.period} 发放失败，{ctx.threshold} 天仍未补发：{c.reason}")


def paid_after_exit(session: Session, ctx: Context) -> Iterable[Hit]:
    """An open 整改 item of kind after_exit: paid after the household exited (or the person died)."""
    for c in _corrections(session, Correction.kind == "after_exit"):
        yield _money_hit(c, f"{c.period} 退出后仍发放：{c.reason}")


def correction_overdue(session: Session, ctx: Context) -> Iterable[Hit]:
    """An open 整改 item past its deadline."""
    for c in _corrections(session, Correction.deadline < ctx.today):
        yield _money_hit(c, f"整改期限 {c.deadline.isoformat()} 已过仍未办结：{c.reason}")


def family_says_unpaid(session: Session, ctx: Context) -> Iterable[Hit]:
    """An open 整改 item of kind disputed: the bank says paid, the family said not at a visit."""
    for c in _corrections(session, Correction.kind == "disputed"):
        yield _money_hit(c, f"{c.period} 银行显示已发放，家人说没有收到：{c.reason}")


# ---- birthdays and age ---------------------------------------------------------------------


def orphan_turning_18(session: Session, ctx: Context) -> Iterable[Hit]:
    """A 孤儿 or 事实无人抚养 child whose 18th birthday falls today or within the threshold's days."""
    first = _years_before(ctx.today, 18)
    last = _years_before(ctx.today + timedelta(days=ctx.threshold), 18)
    query = (
        select(Person.id, Person.household_id, Household.area_code, Person.birth_date)
        .distinct()
        .join(PersonCategory, PersonCategory.person_id == Person.id)
        .join(Household, Household.id == Person.household_id)
        .where(
            PersonCategory.category.in_(ORPHAN_CATEGORIES),
            Household.status == "active",
            Person.died_on.is_(None),  # a death list said so (services/signals)
            Person.birth_date >= first,
            Person.birth_date <= last,
        )
    )
    for person_id, household_id, area_code, born in session.exec(query):
        birthday = born.replace(year=born.year + 18) if not (born.month == 2 and born.day == 29) else None
        when = birthday.isoformat() if birthday else f"{born.year + 18}-03-01"
        yield Hit(area_code, f"{when} 年满 18 岁，保障将变化", household_id=household_id, person_id=person_id)


def elderly_without_allowance(session: Session, ctx: Context) -> Iterable[Hit]:
    """A person 80 or older with no paid 高龄补贴 this year, in a county that imported 高龄补贴 results this year."""
    year = str(ctx.today.year)
    this_year = and_(Payment.program_code == "elderly", Payment.period.startswith(year))
    counties = set(session.exec(select(Payment.county_code).distinct().where(this_year)))
    if not counties:
        return
    paid = set(session.exec(select(Payment.person_id).distinct().where(this_year, Payment.status == "paid")))
    born_by = _years_before(ctx.today, 80)
    query = (
        select(Person.id, Person.household_id, Household.area_code, Person.birth_date)
        .join(Household, Household.id == Person.household_id)
        .where(Household.status == "active", Person.died_on.is_(None), Person.birth_date <= born_by)
    )
    for person_id, household_id, area_code, born in session.exec(query):
        if person_id in paid or _county(area_code) not in counties:
            continue
        age = ctx.today.year - born.year - ((ctx.today.month, ctx.today.day) < (born.month, born.day))
        reason = f"{age} 岁，{year} 年县里导入的高龄补贴发放结果中没有已发放记录"
        yield Hit(area_code, reason, household_id=household_id, person_id=person_id)


def _recent_periods(today: date, months: int = 3) -> set[str]:
    """Period codes of this month and the `months` before it: YYYY-MM and their quarters YYYY-Qn."""
    codes, year, month = set(), today.year, today.month
    for _ in range(months + 1):
        codes.update({f"{year}-{month:02d}", f"{year}-Q{(month - 1) // 3 + 1}"})
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return codes


def severe_disability_without_care(session: Session, ctx: Context) -> Iterable[Hit]:
    """Disability grade 1–2 with no paid 护理补贴 in the last 3 months, where the county imported those results."""
    window = and_(Payment.program_code == "disability_care", Payment.period.in_(_recent_periods(ctx.today)))
    counties = set(session.exec(select(Payment.county_code).distinct().where(window)))
    if not counties:
        return
    paid = set(session.exec(select(Payment.person_id).distinct().where(window, Payment.status == "paid")))
    query = (
        select(Person.id, Person.household_id, Household.area_code, Person.disability_grade)
        .join(Household, Household.id == Person.household_id)
        .where(Household.status == "active", Person.died_on.is_(None), Person.disability_grade.in_((1, 2)))
    )
    for person_id, household_id, area_code, grade in session.exec(query):
        if person_id in paid or _county(area_code) not in counties:
            continue
        reason = f"{grade} 级残疾，近 3 个月县里导入的护理补贴发放结果中没有已发放记录"
        yield Hit(area_code, reason, household_id=household_id, person_id=person_id)


# ---- the table -----------------------------------------------------------------------------
