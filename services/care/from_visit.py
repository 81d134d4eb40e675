"""What a saved visit tells the care records: self-care levels, a wish to move into an institution, and a carer who
does not keep the duties (the alert care_duties_not_kept, raised at once rather than at the night's run)."""

from datetime import timedelta

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from models import Alert, Household, Person, PersonCategory, Visit
from services import audit
from services.alerts.care_rules import DUTIES_CHECK, duties_hit
from services.api.schemas import VisitIn
from services.audit import Actor
from services.care import institution, self_care
from services.clock import aware

WISH_CHECK = "wants_institutional_care"  # services/visits/rules.py SELF_CHECKS
DUTIES_RULE = "care_duties_not_kept"


def note_visit(session: Session, actor: Actor, visit: Visit, household: Household, payload: VisitIn) -> None:
    """Apply a just-saved visit's care answers; raise Invalid (the caller undoes the visit) for a stranger's level."""
    self_care.save_levels(session, actor, household, payload.self_care, visit_id=visit.id)
    if payload.self_checks.get(WISH_CHECK) is True and household.status == "active":
        for person in _wishing(session, household):
            institution.raise_request(
                session, actor, household, person, note="走访时本人表示有集中供养意愿", visit_id=visit.id
            )
    latest = household.last_visit_at is None or aware(visit.visited_at) >= aware(household.last_visit_at)
    if payload.self_checks.get(DUTIES_CHECK) is False and latest:  # the rule reads the latest visit only
        _raise_duties_alert(session, actor, household, visit)


def _wishing(session: Session, household: Household) -> list[Person]:
    """The members the wish is about: the 分散供养特困 ones (the self-check is theirs), else the head."""
    members = list(session.exec(select(Person).where(Person.household_id == household.id).order_by(Person.id)))
    ids = [p.id for p in members]
    tekun = set(
        session.exec(
            select(PersonCategory.person_id).where(
                PersonCategory.person_id.in_(ids), PersonCategory.category == "tekun_dispersed"
            )
        )
    )
    chosen = [p for p in members if p.id in tekun] or [p for p in members if p.is_head]
    return chosen[:1] if not tekun else chosen


def _raise_duties_alert(session: Session, actor: Actor, household: Household, visit: Visit) -> None:
    """Insert the one alert for this household, unless the city switched the rule off or one is open already.

    One row keyed as the engine keys it, not a whole-city run: a visit save must stay cheap.
    """
    # here, not at the top: the rules table reads the visit schedule, which reads services/visits/visits.py
    from services.alerts import engine
    from services.alerts.rules import RULES

    setting = engine.settings(session)[DUTIES_RULE]
    if not setting.enabled:
        return
    hit = duties_hit(household.area_code, household.id, visit.visited_at)
    now = visit.created_at
    row = {
        "open_key": engine.open_key(DUTIES_RULE, hit),
        "rule": DUTIES_RULE,
        "grade": RULES[DUTIES_RULE].grade,
        "area_code": hit.area_code,
        "household_id": hit.household_id,
        "person_id": None,
        "candidate_id": None,
        "reason": hit.reason[:300],
        "state": "open",
        "level": "village",
        "raised_at": now,
        "due_at": now + timedelta(days=setting.days),
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(Alert.__table__).values(**row).on_conflict_do_nothing(index_elements=["open_key"])
    if session.execute(statement).rowcount:  # 0: the household's alert is open already
        audit.record(
            session, actor, "alert.raised", None, rule=DUTIES_RULE, household_id=household.id, visit_id=visit.id
        )
