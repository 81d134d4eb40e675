"""Self-care ability (全自理 / 半自理 / 全护理): asked in visits for members in care-relevant categories."""

from collections.abc import Mapping

from sqlmodel import Session, select

from models import Household, Person
from services import audit
from services.audit import Actor
from services.errors import Invalid

LEVELS = {"full": "全自理", "partial": "半自理", "none": "全护理"}
# 特困, 孤寡老人, 重病, 重残: the people whose ability to look after themselves decides the care they need
ASKED_FOR = ("tekun_central", "tekun_dispersed", "lonely_elderly", "serious_illness", "severe_disability")
MAX_ANSWERS = 20  # the schema's bound: no household has more members asked about
NOT_HERE = "自理能力只能登记这户的成员"


def is_asked(categories) -> bool:
    """Tell whether a member with these categories is asked about self-care."""
    return bool(set(categories) & set(ASKED_FOR))


def check_members(session: Session, household: Household, answers: Mapping[int, str]) -> None:
    """Refuse answers about people who are not members of the household (nothing is saved)."""
    if not answers:
        return
    members = set(session.exec(select(Person.id).where(Person.household_id == household.id)))
    strangers = sorted(set(answers) - members)
    if strangers:
        raise Invalid({f"self_care.{strangers[0]}": NOT_HERE}, code="visit_refused")  # the whole visit


def save_levels(session: Session, actor: Actor, household: Household, answers: Mapping[int, str], **detail) -> None:
    """Store the answered levels on the members; audit the ones that changed."""
    if not answers:
        return
    check_members(session, household, answers)
    persons = session.exec(select(Person).where(Person.id.in_(list(answers))))
    changed = {}
    for person in persons:
        level = answers[person.id]
        if person.self_care != level:
            changed[str(person.id)] = level
            person.self_care = level
            session.add(person)
    if changed:
        audit.record(session, actor, "person.self_care", household, levels=changed, **detail)


def visit_block(members: list[tuple[Person, list[str]]]) -> dict:
    """Return what the visit form's 自理能力 block needs: the levels, who is asked (the offline form asks the pack)."""
    return {
        "levels": LEVELS,
        "asked_for": ASKED_FOR,
        "members": [(person, person.self_care) for person, cats in members if is_asked(cats)],
    }
