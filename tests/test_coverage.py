"""Campaign coverage counts, per area level, from set-based SQL."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from models import Area, Campaign, Person
from services.api.schemas import VisitIn
from services.audit import Actor
from services.campaigns import campaigns, coverage
from services.errors import NotFound
from services.visits.visits import record_visit
from tests.conftest import COUNTY, OTHER_VILLAGE, TOWNSHIP, VILLAGE_A, VILLAGE_B, add_household

START, END = date(2026, 2, 25), date(2026, 2, 28)


@pytest.fixture
def campaign(session, world):
    campaign = Campaign(name="2026年2月排查回访", start_date=START, end_date=END, created_by_id=world.city.id)
    session.add(campaign)
    session.commit()
    return campaign


def visit(session, user, household, kind="survey", at=None):
    payload = VisitIn(
        uuid=uuid.uuid4(),
        household_id=household.id,
        kind=kind,
        visited_at=at or datetime(2026, 2, 26, 3, 0, tzinfo=UTC),
    )
    # made online in the window: it arrived when it was made
    record_visit(session, Actor(user=user, ip="127.0.0.1"), payload, received_at=payload.visited_at)
    session.commit()


def area(session, code):
    return session.get(Area, code)


def test_window_runs_from_the_first_day_to_the_end_of_the_last_in_china_time(campaign):
    start, end = campaigns.window(campaign)
    assert start == datetime(2026, 2, 24, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 2, 28, 16, 0, tzinfo=UTC)


def test_only_survey_visits_inside_the_window_count(session, world, campaign):
    visit(session, world.assistant_a, world.household_a)  # counts
    visit(session, world.assistant_b, world.household_b, kind="routine")  # not a survey
    visit(session, world.assistant_b, world.household_b, at=datetime(2026, 2, 28, 16, 30, tzinfo=UTC))  # 3 月 1 日
    result = coverage.coverage(session, world.township, campaign, area(session, TOWNSHIP))
    assert (result.total.households_due, result.total.households_visited) == (2, 1)
    by_village = {row.code: row for row in result.children}
    assert by_village[VILLAGE_A].households_visited == 1 and by_village[VILLAGE_A].rate == 1.0
    assert by_village[VILLAGE_B].households_visited == 0 and by_village[VILLAGE_B].households_missing == 1


def test_persons_are_counted_with_their_household(session, world, campaign):
    session.add(Person(household_id=world.household_a.id, name="张小花", relation="孙女"))
    session.commit()
    visit(session, world.assistant_a, world.household_a)
    result = coverage.coverage(session, world.county, campaign, area(session, COUNTY))
    assert (result.total.persons_due, result.total.persons_visited) == (3, 2)


def test_city_rows_are_counties_and_county_rows_are_townships(session, world, campaign):
    city = coverage.coverage(session, world.city, campaign, area(session, "530900000000"))
    assert {row.name for row in city.children} == {"临翔区", "凤庆县"}
    assert city.total.households_due == 3
    county = coverage.coverage(session, world.county, campaign, area(session, COUNTY))
    assert [row.name for row in county.children] == ["博尚镇"]


def test_exited_households_are_not_due(session, world, campaign):
    world.household_b.status = "exited"
    session.add(world.household_b)
    session.commit()
    result = coverage.coverage(session, world.township, campaign, area(session, TOWNSHIP))
    assert result.total.households_due == 1


def test_missing_list_names_the_households_not_yet_visited(session, world, campaign):
    add_household(session, VILLAGE_A, "0002", "罕春")
    session.commit()
    visit(session, world.assistant_a, world.household_a)
    missing = session.exec(coverage.missing_households(world.assistant_a, campaign, area(session, VILLAGE_A))).all()
    assert [h.household_no for h in missing] == ["0002"]


def test_an_area_outside_scope_is_404(session, world, campaign):
    with pytest.raises(NotFound):
        coverage.check_area(session, world.assistant_a, TOWNSHIP)
    with pytest.raises(NotFound):
        coverage.check_area(session, world.county, OTHER_VILLAGE)
    assert coverage.check_area(session, world.assistant_a, VILLAGE_A).name == "碗窑村"


def test_the_campaign_of_today_is_found(session, campaign):
    assert campaigns.active_campaign(session, date(2026, 2, 27)).id == campaign.id
    assert campaigns.active_campaign(session, date(2026, 3, 1)) is None
    assert campaigns.active_campaign(session, START + timedelta(days=0)).id == campaign.id


def test_coverage_is_two_queries_whatever_the_size(app, session, world, campaign):
    from sqlalchemy import event

    for number in range(2, 40):
        add_household(session, VILLAGE_A if number % 2 else VILLAGE_B, f"{number:04d}", f"户主{number}")
    session.commit()
    statements = []
    engine = app.extensions["doudi_engine"]
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        from sqlmodel import Session

        with Session(engine) as fresh:
            township = fresh.get(Area, TOWNSHIP)
            statements.clear()
            coverage.coverage(fresh, world.township, campaign, township)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 3


def test_institution_residents_are_due_like_anyone_and_counted_apart(session, world, campaign):
    home = add_household(session, VILLAGE_B, "0002", "临翔区福利院", kind="institution")
    session.add(Person(household_id=home.id, name="院民甲", relation="供养对象"))
    world.household_a.care_agreement_signed = True
    world.household_b.wants_institutional_care = True
    session.add_all([world.household_a, world.household_b])
    session.commit()
    visit(session, world.assistant_b, home)
    result = coverage.coverage(session, world.township, campaign, area(session, TOWNSHIP))
    assert (result.total.households_due, result.total.households_visited) == (3, 1)
    assert (result.total.institution_persons, result.total.institution_visited) == (2, 2)
    assert (result.total.care_agreements, result.total.wants_institutional_care) == (1, 1)


def test_a_small_area_counts_the_same_as_its_row_one_level_up(session, world, campaign):
    """Townships and villages count through each household's visits, counties through one set: they must agree."""
    add_household(session, VILLAGE_A, "0002", "罕春", categories=("orphan",))
    session.commit()
    visit(session, world.assistant_a, world.household_a)
    visit(session, world.assistant_b, world.household_b, kind="routine")
    county = coverage.coverage(session, world.county, campaign, area(session, COUNTY))
    township = coverage.coverage(session, world.township, campaign, area(session, TOWNSHIP))
    assert county.children[0] == township.total
    village = coverage.coverage(session, world.township, campaign, area(session, VILLAGE_A))
    assert {row.code: row for row in township.children}[VILLAGE_A] == village.total
