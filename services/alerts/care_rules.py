"""主动发现 rules over care: agreements missing or about to run out, carers not keeping their duties, wishes waiting.

They read the records of services/care (CareAgreement, InstitutionRequest) and the visits' self-checks.
"""

from collections.abc import Iterable
from datetime import timedelta

from sqlmodel import Session, select

from models import CareAgreement, Household, InstitutionRequest, Person, Visit
from services.alerts.base import CARE_CATEGORIES, Context, Hit, _day, _people_in
from services.care.agreements import KIND_FOR_CATEGORY, KINDS, refresh_flags, valid_clause
from services.care.institution import OPEN as OPEN_REQUESTS
from services.registry.categories import label

DUTIES_CHECK = "caregiver_present"  # services/visits/rules.py SELF_CHECKS: 平日有人照应、生病有人看护
# how json.dumps (visits.py) writes a "no" to it: a LIKE on the stored text finds the candidates set-based
DUTIES_NO = f'"{DUTIES_CHECK}": false'


def _valid_people(session: Session, ctx: Context) -> dict[int, object]:
    """{person id: the latest valid-until date of their agreements in force} (read once per run)."""
    if "care_valid" not in ctx.cache:
        found = {}
        query = select(CareAgreement.person_id, CareAgreement.valid_until).where(valid_clause(ctx.today))
        for person_id, until in session.exec(query):
            found[person_id] = max(until, found.get(person_id, until))
        ctx.cache["care_valid"] = found
    return ctx.cache["care_valid"]


def care_agreement_missing(session: Session, ctx: Context) -> Iterable[Hit]:
    """A 分散供养特困 person or 留守儿童 with no agreement in force (active, signed, valid until today or later)."""
    refresh_flags(session, ctx.today)  # the household flag follows the records: one that ran out yesterday clears
    valid = _valid_people(session, ctx)
    seen = set()
    for person_id, household_id, area_code, category in _people_in(session, CARE_CATEGORIES):
        if person_id in seen or person_id in valid:
            continue
        seen.add(person_id)
        paper = KINDS[KIND_FOR_CATEGORY[category]]
        yield Hit(area_code, f"{label(category)}，没有有效的{paper}", household_id=household_id, person_id=person_id)


def care_agreement_expiring(session: Session, ctx: Context) -> Iterable[Hit]:
    """An agreement in force that runs out within the threshold's days, with no later one for the same person."""
    last = ctx.today + timedelta(days=ctx.threshold)
    ending = {pid: until for pid, until in _valid_people(session, ctx).items() if until <= last}
    if not ending:
        return
    query = (
        select(Person.id, Person.household_id, Household.area_code)
        .join(Household, Household.id == Person.household_id)
        .where(Person.id.in_(list(ending)), Household.status == "active")
    )
    for person_id, household_id, area_code in session.exec(query):
        days = (ending[person_id] - ctx.today).days
        reason = f"照料协议 {ending[person_id].isoformat()} 到期（还有 {days} 天），请及时续签"
        yield Hit(area_code, reason, household_id=household_id, person_id=person_id)


def duties_hit(area_code: str, household_id: int, visited_at) -> Hit:
    """The hit of care_duties_not_kept for a household's visit (also raised at once when the visit is saved)."""
    reason = f"{_day(visited_at)} 走访时照料人未尽责（平日有人照应、生病有人看护）"
    return Hit(area_code, reason, household_id=household_id)


def care_duties_not_kept(session: Session, ctx: Context) -> Iterable[Hit]:
    """The household's latest visit answered "no" to the carer keeping the duties."""
    query = (
        select(Visit.household_id, Household.area_code, Visit.visited_at)
        .join(Household, Household.id == Visit.household_id)
        .where(
            Household.status == "active",
            Visit.visited_at == Household.last_visit_at,  # the latest visit only: a later "yes" settles it
            Visit.self_checks.contains(DUTIES_NO),
        )
    )
    for household_id, area_code, visited_at in session.exec(query):
        yield duties_hit(area_code, household_id, visited_at)


def institution_wish_waiting(session: Session, ctx: Context) -> Iterable[Hit]:
    """A request to move into an institution still open (not placed or declined) after the threshold's days."""
    query = (
        select(InstitutionRequest.person_id, Person.household_id, InstitutionRequest.area_code)
        .add_columns(InstitutionRequest.requested_at, InstitutionRequest.status)
        .join(Person, Person.id == InstitutionRequest.person_id)
        .where(
            InstitutionRequest.status.in_(OPEN_REQUESTS),
            InstitutionRequest.requested_at < ctx.ago(ctx.threshold),
        )
    )
    for person_id, household_id, area_code, requested_at, status in session.exec(query):
        waiting = "待乡镇确认" if status == "requested" else "待县（区）安置"
        reason = f"{_day(requested_at)} 提出集中供养申请，{ctx.threshold} 天以上仍{waiting}"
        yield Hit(area_code, reason, household_id=household_id, person_id=person_id)
