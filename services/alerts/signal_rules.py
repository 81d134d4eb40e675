"""主动发现 rules over the department lists (services/signals): a registered person the 医保, 残联, 卫健/公安 or 人社
list names.

A listed row is an event, not a state: it raises one alert, once. A rule therefore skips a record that an alert of
the same rule about the same person already answered (raised after the record was stored), whether that alert is
still open or closed — re-importing a list, or running the rules again, raises nothing.
"""

from collections.abc import Iterable

from sqlalchemy import exists, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from models import Alert, Household, Person, PersonCategory, SignalRecord
from services.alerts.base import Context, Hit
from services.money import yuan

UNREGISTERED_MEDICAL = "signal_medical_unregistered"
RULES_OF_KIND = {
    "medical": ("signal_medical",),
    "disability": ("signal_disability",),
    "death": ("signal_death",),
    "unemployment": ("signal_unemployment",),
}
MARGINAL = "dibao_marginal"  # 低保边缘 (services/registry/categories.py)


def _listed(code: str, kind: str, *extra):
    """(record, person's name, household id, village) of the kind's records of registered people no alert answered."""
    # the rule's latest alert per person, grouped once and joined: a correlated NOT EXISTS scanned the whole alert
    # table (no index on rule, person) for every record on SQLite — 40 s for 20,000 医保 rows (benchmarks/alerts_run.py)
    answered = (
        select(Alert.person_id, func.max(Alert.raised_at).label("last"))
        .where(Alert.rule == code, Alert.person_id.is_not(None))
        .group_by(Alert.person_id)
        .subquery()
    )
    return (
        select(SignalRecord, Person.name, Household.id, Household.area_code)
        .join(Person, Person.id == SignalRecord.person_id)
        .join(Household, Household.id == Person.household_id)
        .outerjoin(answered, answered.c.person_id == SignalRecord.person_id)
        .where(SignalRecord.kind == kind, or_(answered.c.last.is_(None), answered.c.last < SignalRecord.created_at))
        .where(*extra)
        .order_by(SignalRecord.id)
    )


def signal_medical(session: Session, ctx: Context) -> Iterable[Hit]:
    """A registered person whose hospital stay left them more to pay themselves than the threshold (元)."""
    query = _listed(
        "signal_medical", "medical", SignalRecord.self_paid_fen > ctx.threshold * 100, Household.status == "active"
    )
    for record, name, household_id, area_code in session.exec(query):
        where = f"在{record.detail}" if record.detail else ""
        reason = (
            f"医保名单：{name} {record.event_on} {where}住院，个人自付 {yuan(record.self_paid_fen)} 元"
            f"（超过 {ctx.threshold} 元），看看是否需要临时救助或纳入低保"
        )
        yield Hit(area_code, reason, household_id=household_id, person_id=record.person_id)


def signal_medical_unregistered(session: Session, ctx: Context) -> Iterable[Hit]:
    """Raise nothing: the threshold is read by the import, which makes an unregistered person above it a candidate.

    Kept as a rule so that the city sets the 10,000 元 for anyone where it sets the 6,000 元 for registered people
    (the rules' settings page and AlertRule); the candidate itself is what the township checks, not an alert.
    """
    return ()


def signal_disability(session: Session, ctx: Context) -> Iterable[Hit]:
    """A registered person the 残联 list names as newly severely disabled (grade 1–2, not so before the list)."""
    newly = (SignalRecord.previous_grade.is_(None)) | (SignalRecord.previous_grade > 2)
    query = _listed("signal_disability", "disability", SignalRecord.grade.in_((1, 2)), newly)
    for record, name, household_id, area_code in session.exec(query):
        what = record.detail or ""
        reason = f"残联名单：{name} 新评为{what}{record.grade}级残疾，看看护理补贴、照料和是否纳入保障"
        yield Hit(area_code, reason, household_id=household_id, person_id=record.person_id)


def signal_death(session: Session, ctx: Context) -> Iterable[Hit]:
    """A registered person the 卫健/公安 list says died: marked dead and payments stopped; the township confirms."""
    for record, name, household_id, area_code in session.exec(_listed("signal_death", "death")):
        reason = f"死亡名单：{name} 于 {record.event_on} 去世，已标记去世并停发补贴，请核实并处理户内其他成员的保障"
        yield Hit(area_code, reason, household_id=household_id, person_id=record.person_id)


def signal_unemployment(session: Session, ctx: Context) -> Iterable[Hit]:
    """A registered person of a 低保边缘 household the 人社 list names as registered unemployed."""
    member = aliased(Person)
    marginal = exists().where(
        member.household_id == Household.id, PersonCategory.person_id == member.id, PersonCategory.category == MARGINAL
    )
    query = _listed("signal_unemployment", "unemployment", marginal, Household.status == "active")
    for record, name, household_id, area_code in session.exec(query):
        reason = f"人社名单：低保边缘家庭的 {name} 于 {record.event_on} 登记失业，看看家庭收入是否已符合低保"
        yield Hit(area_code, reason, household_id=household_id, person_id=record.person_id)
