"""Demo visits: the same seed gives the same visits, a share of households is left unsurveyed, coverage adds up."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import delete, func, select

from models import Area, Campaign, Household, Person, User, Visit
from services.audit import Actor
from services.campaigns.campaigns import window
from services.campaigns.coverage import coverage
from services.clock import CHINA
from services.demo import seed as demo
from services.demo import visits as demo_visits
from services.errors import Invalid

CLI = Actor(user=None, ip="test")
TODAY = date(2026, 3, 10)
CITY = "530900000000"


def seeded(session, households: int = 150, visits: int = 600, seed: int = 5, campaign: bool = True):
    """Seed demo households, then visits (with the demo campaign unless told otherwise); return the campaign."""
    demo.seed_demo(session, CLI, households=households, seed=1)
    survey = demo_visits.ensure_campaign(session, CLI, today=TODAY) if campaign else None
    demo_visits.seed_visits(session, CLI, visits=visits, seed=seed, campaign=survey, today=TODAY)
    return survey


def all_visits(session) -> list[tuple]:
    query = select(Visit.household_id, Visit.kind, Visit.visited_at, Visit.risk, Visit.uuid, Visit.visitor_id)
    return list(session.exec(query.order_by(Visit.id)).all())


def surveyed_households(session, campaign) -> set[int]:
    start, end = window(campaign)
    query = select(Visit.household_id).where(Visit.kind == "survey", Visit.visited_at >= start, Visit.visited_at < end)
    return set(session.exec(query).all())


def test_same_seed_gives_the_same_visits(session):
    seeded(session, households=60, visits=200)
    first = all_visits(session)
    assert len(first) == 200
    session.exec(delete(Visit))
    session.commit()
    campaign = session.exec(select(Campaign)).one()
    demo_visits.seed_visits(session, CLI, visits=200, seed=5, campaign=campaign, today=TODAY)
    assert all_visits(session) == first


def test_another_seed_gives_other_visits(session):
    seeded(session, households=60, visits=100, seed=5)
    campaign = session.exec(select(Campaign)).one()
    demo_visits.seed_visits(session, CLI, visits=100, seed=6, campaign=campaign, today=TODAY)
    rows = all_visits(session)
    assert {row.uuid for row in rows[:100]}.isdisjoint(row.uuid for row in rows[100:])
    assert [row.household_id for row in rows[:100]] != [row.household_id for row in rows[100:]]


def test_visits_spread_over_the_households_in_their_own_village(session):
    seeded(session)
    households = {h.id: h for h in session.exec(select(Household))}
    visits = list(session.exec(select(Visit)))
    per_household = {}
    for visit in visits:
        per_household[visit.household_id] = per_household.get(visit.household_id, 0) + 1
        household = households[visit.household_id]
        assert visit.area_code == household.area_code
        if household.assistant_id is not None:
            assert visit.visitor_id == household.assistant_id
        assert len(visit.content_hash) == 64 and visit.checklist == "{}" and visit.changes == "[]"
    assert len(per_household) >= 0.9 * len(households)
    assert max(per_household.values()) <= 15
    assert sum(v.risk == "normal" for v in visits) > 0.8 * len(visits)


def test_a_share_of_households_has_no_survey_visit_in_the_window(session):
    campaign = seeded(session)
    start, end = window(campaign)
    surveys = list(session.exec(select(Visit).where(Visit.kind == "survey")))
    assert len(surveys) == 200  # a third of 600
    assert all(start <= v.visited_at < end for v in surveys)
    active = session.exec(select(func.count()).select_from(Household).where(Household.status == "active")).one()
    assert 0.8 * active <= len(surveyed_households(session, campaign)) <= 0.9 * active


def test_no_visit_lies_in_the_future_and_routine_ones_span_the_year(session):
    seeded(session)
    midnight = datetime.combine(TODAY, datetime.min.time(), CHINA)
    routine = [v.visited_at for v in session.exec(select(Visit).where(Visit.kind != "survey"))]
    everything = session.exec(select(Visit.visited_at)).all()
    assert max(everything) < midnight
    assert min(routine) < midnight - timedelta(days=300)
    assert all(v.tzinfo is not None for v in routine)


def test_demo_campaign_covers_the_last_ten_days_and_is_reused(session):
    campaign = seeded(session, households=20, visits=30)
    assert (campaign.name, campaign.start_date, campaign.end_date) == (
        demo_visits.CAMPAIGN_NAME,
        date(2026, 3, 1),
        TODAY,
    )
    again = demo_visits.ensure_campaign(session, CLI, today=TODAY + timedelta(days=3))
    assert again.id == campaign.id and again.end_date == TODAY + timedelta(days=3)
    assert session.exec(select(func.count()).select_from(Campaign)).one() == 1


def test_last_visit_at_is_each_households_latest_visit(session):
    seeded(session)
    latest = {}
    for household_id, visited_at, risk, visit_id in session.exec(
        select(Visit.household_id, Visit.visited_at, Visit.risk, Visit.id)
    ):
        if household_id not in latest or (visited_at, visit_id) > latest[household_id][:2]:
            latest[household_id] = (visited_at, visit_id, risk)
    for household in session.exec(select(Household)):
        if household.id in latest:
            visited_at, _id, risk = latest[household.id]
            assert (household.last_visit_at, household.last_risk) == (visited_at, risk)
        else:
            assert household.last_visit_at is None


def test_city_coverage_equals_counts_taken_directly(session):
    campaign = seeded(session, households=200, visits=600)
    city_user = session.exec(select(User).where(User.username == "demo-city")).one()
    result = coverage(session, city_user, campaign, session.get(Area, CITY))
    active = select(Household.id).where(Household.status == "active")
    due = set(session.exec(active).all())
    visited = surveyed_households(session, campaign) & due
    persons = select(Person.household_id).where(Person.household_id.in_(active))
    members = list(session.exec(persons).all())
    total = result.total
    assert (total.households_due, total.households_visited) == (len(due), len(visited))
    assert (total.persons_due, total.persons_visited) == (len(members), sum(h in visited for h in members))
    assert 0 < total.households_missing < 0.2 * len(due)
    assert sum(child.households_visited for child in result.children) == len(visited)


def test_without_a_campaign_there_are_no_survey_visits(session):
    seeded(session, households=30, visits=90, campaign=False)
    kinds = set(session.exec(select(Visit.kind)).all())
    assert kinds == {"routine", "adhoc"}
    assert session.exec(select(Campaign)).first() is None


def test_seeding_visits_without_households_says_what_to_do_first(session):
    with pytest.raises(Invalid, match="请先"):
        demo_visits.seed_visits(session, CLI, visits=10, seed=1, campaign=None)


def test_seed_demo_command_adds_visits_of_the_demo_campaign(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--households", "40", "--visits", "120", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "已生成 120 次走访，其中「2026年困难群众排查回访」排查回访 40 次" in result.output
    campaign = session.exec(select(Campaign)).one()
    assert campaign.end_date == datetime.now(CHINA).date()
    assert len(surveyed_households(session, campaign)) > 0
    assert all(v < datetime.now(UTC) for v in session.exec(select(Visit.visited_at)))
    assert session.exec(select(func.count()).select_from(Household).where(Household.last_visit_at.is_not(None))).one()


def test_seed_demo_command_without_campaign_makes_none(app, session):
    args = ["seed-demo", "--households", "20", "--visits", "30", "--no-campaign"]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "已生成 30 次走访（" in result.output
    assert session.exec(select(Campaign)).first() is None
    assert session.exec(select(func.count()).select_from(Visit).where(Visit.kind == "survey")).one() == 0
