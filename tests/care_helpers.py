"""Care records for tests: an agreement as the form would record it, and the planted cases of the care rules."""

from datetime import timedelta

from models import CareAgreement, InstitutionRequest, Person
from services.care.agreements import default_duties
from tests.conftest import TOWNSHIP, add_household


def add_agreement(session, household, person, *, by, kind="tekun", signed_on=None, valid_until=None, status="active"):
    """Add an agreement for a person of a household (signed and valid-until dates as given)."""
    agreement = CareAgreement(
        household_id=household.id,
        person_id=person.id,
        kind=kind,
        area_code=TOWNSHIP,
        carer_name="杨照料",
        carer_phone="13700000009",
        carer_relation="子女",
        duties=default_duties(kind),
        signed_on=signed_on,
        valid_until=valid_until,
        status=status,
        created_by_id=by.id,
    )
    session.add(agreement)
    session.flush()
    return agreement


def plant_care(planter, session, world, today, days_ago) -> None:
    """One case for each care rule and a near miss beside each (tests/test_alert_rules.py plant())."""
    from tests.payouts_helpers import head_of

    by = world.assistant_a
    # care_agreement_missing: the world's 杨梅国 has none (planted there); an expired one counts as none
    expired = planter.household(("left_behind_child",), members=2)
    add_agreement(
        session,
        expired,
        head_of(session, expired),
        by=by,
        kind="child",
        signed_on=today - timedelta(400),
        valid_until=today - timedelta(1),
    )
    planter.expect("care_agreement_missing", person=head_of(session, expired))
    kept = planter.household(("left_behind_child",), members=2)  # near miss: valid for half a year more
    add_agreement(
        session,
        kept,
        head_of(session, kept),
        by=by,
        kind="child",
        signed_on=today - timedelta(100),
        valid_until=today + timedelta(180),
    )

    ending = planter.household(("tekun_dispersed",), members=2)
    planter.visit(ending, days_ago(5))
    add_agreement(
        session,
        ending,
        head_of(session, ending),
        by=by,
        signed_on=today - timedelta(350),
        valid_until=today + timedelta(10),
    )
    planter.expect("care_agreement_expiring", person=head_of(session, ending))
    renewed = planter.household(("tekun_dispersed",), members=2)  # near miss: renewed already
    planter.visit(renewed, days_ago(5))
    for until in (10, 375):
        add_agreement(
            session,
            renewed,
            head_of(session, renewed),
            by=by,
            signed_on=today - timedelta(1),
            valid_until=today + timedelta(until),
        )

    neglected = planter.household(members=2)
    planter.visit(neglected, days_ago(3), self_checks={"caregiver_present": False})
    planter.expect("care_duties_not_kept", neglected)
    mended = planter.household(members=2)  # near miss: the later visit found the carer back
    planter.visit(mended, days_ago(10), self_checks={"caregiver_present": False})
    planter.visit(mended, days_ago(2), self_checks={"caregiver_present": True})

    waiting = planter.household(members=2)
    _request(session, waiting, head_of(session, waiting), by, days_ago(31))
    planter.expect("institution_wish_waiting", person=head_of(session, waiting))
    recent = planter.household(members=2)  # near misses: asked 20 days ago; placed after 40
    _request(session, recent, head_of(session, recent), by, days_ago(20))
    placed = planter.household(members=2)
    _request(session, placed, head_of(session, placed), by, days_ago(40), status="placed")


def _request(session, household, person: Person, by, when, status="requested") -> InstitutionRequest:
    request = InstitutionRequest(
        open_person_id=person.id if status in ("requested", "confirmed") else None,
        person_id=person.id,
        household_id=household.id,
        area_code=household.area_code,
        status=status,
        requested_at=when,
        requested_by_id=by.id,
    )
    session.add(request)
    session.flush()
    return request


__all__ = ["add_agreement", "add_household", "plant_care"]
