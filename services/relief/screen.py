"""The approver's one screen: who, why, evidence, past relief, the township's limit and reserve, history, actions."""

from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session

from models import Area, Household, Person, ReliefApplication, ReliefEvent, ReliefPhoto, TownshipFund, User, utcnow
from services.names import user_names
from services.registry import areas, households
from services.registry.categories import CATEGORIES
from services.relief import evidence
from services.relief.machine import allowed_actions, approval_limit_fen, fund_for, has_reserve, history
from services.relief.queue import days_left, for_household
from services.relief.rules import GRANTED
from services.visits import visits

HISTORY_DAYS = 365


@dataclass
class Screen:
    """Everything the approver's one screen shows."""

    application: ReliefApplication
    household: Household
    village_path: str
    person: Person
    person_categories: list[str]
    household_categories: list[str]
    latest_visit: visits.TimelineEntry | None
    earlier: list[ReliefApplication]
    received_fen: int
    fund: TownshipFund | None
    limit_fen: int
    township_name: str
    events: list[tuple[ReliefEvent, str]]
    photos: list[ReliefPhoto]
    actions: list[str]
    creator: str
    days_left: int | None
    county_name: str = ""
    county_hotline: str | None = None
    names: dict[int, str] = field(default_factory=dict)

    @property
    def at_township(self) -> bool:
        """Tell whether the township decides now (so its limit and reserve apply)."""
        return self.application.state == "submitted"

    @property
    def has_reserve(self) -> bool:
        return has_reserve(self.fund)

    @property
    def drawn_fen(self) -> int:
        """Return what the township approved from this year's reserve so far."""
        return self.fund.reserve_fen - self.fund.balance_fen if self.has_reserve else 0

    @property
    def reserve_short(self) -> bool:
        """Tell whether the reserve cannot pay the amount asked (said before the approval dialog opens)."""
        return self.at_township and self.has_reserve and self.fund.balance_fen < self.application.amount_requested_fen


def screen(session: Session, user: User, application: ReliefApplication, household: Household) -> Screen:
    """Gather the approver's screen: person, household, latest visit, past relief, reserve, limit, history."""
    members = households.members_with_categories(session, household)
    person, person_categories = next(((p, c) for p, c in members if p.id == application.person_id), members[0])
    household_categories = sorted({c for _p, cats in members for c in cats}, key=list(CATEGORIES).index)
    timeline = visits.timeline(session, household)
    since = utcnow() - timedelta(days=HISTORY_DAYS)
    earlier = [a for a in session.exec(for_household(household, since)) if a.id != application.id]
    received = sum(a.amount_approved_fen or 0 for a in earlier if a.state in GRANTED)
    events = history(session, application)
    names = user_names(session, {e.user_id for e in events} | {application.created_by_id, application.paid_by_id})
    path = areas.area_path(session, household.area_code)
    county = session.get(Area, application.township_code[:6].ljust(12, "0"))
    return Screen(
        application=application,
        household=household,
        village_path=" · ".join(area.name for area in path[1:]),
        person=person,
        person_categories=person_categories,
        household_categories=household_categories,
        latest_visit=timeline[0] if timeline else None,
        earlier=earlier,
        received_fen=received,
        fund=fund_for(session, application.township_code),
        limit_fen=approval_limit_fen(session, application.township_code),
        township_name=next((a.name for a in path if a.code == application.township_code), ""),
        events=[(event, names.get(event.user_id, "")) for event in events],
        photos=evidence.photos_of(session, application),
        actions=allowed_actions(session, user, application),
        creator=names.get(application.created_by_id, ""),
        days_left=days_left(application),
        county_name=county.name if county else "",
        county_hotline=county.hotline if county else None,
        names=names,
    )
