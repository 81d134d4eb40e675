"""What the household page shows of care: its agreements, its institution requests, its members' self-care."""

from dataclasses import dataclass, field

from sqlmodel import Session, select

from models import Household, InstitutionRequest, Person
from services.care import agreements, institution
from services.care.self_care import LEVELS, is_asked


@dataclass
class CareSummary:
    """The household page's 照料安排 section."""

    agreements: list[agreements.AgreementRow]
    requests: list[InstitutionRequest]
    open_request_people: set[int]
    self_care: list[tuple[Person, str | None]] = field(default_factory=list)  # (member, level label)
    may_ask: list[Person] = field(default_factory=list)  # members a request may be raised for now
    names: dict[int, str] = field(default_factory=dict)  # of the requests' people (some may have moved)
    kinds = agreements.KINDS
    request_statuses = institution.STATUSES


def summary(session: Session, household: Household, members: list[tuple[Person, list[str]]]) -> CareSummary:
    """Return the section's content, given the members and their categories the page has already read."""
    requests = institution.for_household(session, household)
    shown = [(person, LEVELS.get(person.self_care)) for person, cats in members if is_asked(cats) or person.self_care]
    people = {r.person_id for r in requests}
    waiting = {r.person_id for r in requests if r.status in institution.OPEN}
    # 特困, 孤寡老人, 重病重残 members (the ones asked about self-care) of a family still on the register
    may_ask = [person for person, cats in members if is_asked(cats) and person.id not in waiting]
    if household.kind != "family" or household.status != "active":
        may_ask = []
    return CareSummary(
        agreements=agreements.for_household(session, household),
        requests=requests,
        open_request_people=waiting,
        self_care=shown,
        may_ask=may_ask,
        names=dict(session.exec(select(Person.id, Person.name).where(Person.id.in_(people))).all()) if people else {},
    )
