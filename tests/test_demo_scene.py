"""The demo at work after seed-demo with 300 households: a campaign two thirds done, relief waiting at each level,
every state shown, reserves set, real photos, needs handled, and the county's report in draft.

One seeding per module on SQLite (each test gets a copy of the file and the photos); PostgreSQL seeds per test.
"""

import io
import itertools
import shutil

import pytest
from PIL import Image
from sqlmodel import func, select

from app import create_app
from models import (
    Alert,
    Area,
    Candidate,
    Household,
    Need,
    Photo,
    ReliefApplication,
    ReliefPhoto,
    TownshipFund,
    Visit,
    WorkReport,
)
from services.campaigns.campaigns import active_campaign
from services.campaigns.coverage import coverage
from services.campaigns.stats import statistics
from services.clock import today_in_china
from services.demo.visits import CAMPAIGN_NAME
from services.relief.funds import drawn_in_year
from services.relief.machine import history
from services.relief.queue import list_query, waiting_count
from services.relief.rules import STATES
from services.visits.rules import NEED_STATUSES
from tests.conftest import CITY, COUNTY, POSTGRES_URL, TOWNSHIP, VILLAGE_A, VILLAGE_B, login, page_text
from tests.test_demo import user

HOUSEHOLDS = 300


def seed_into(url: str, photos) -> None:
    """Run seed-demo with 300 households on a database, photos into a folder, as a user would."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": "test-secret",
            "RATELIMIT_STORAGE_URI": "memory://",
            "PHOTO_FOLDER": str(photos),
        }
    )
    result = app.test_cli_runner().invoke(args=["seed-demo", "--households", str(HOUSEHOLDS), "--seed", "1"])
    app.extensions["doudi_engine"].dispose()
    assert result.exit_code == 0, result.output + repr(result.exception)


@pytest.fixture(scope="module")
def seeded_sqlite(sqlite_template, tmp_path_factory):
    """Seed the demo once into a copy of the SQLite template; None on PostgreSQL."""
    if POSTGRES_URL:
        return None
    folder = tmp_path_factory.mktemp("demo-scene")
    shutil.copy(sqlite_template, folder / "doudi.sqlite3")
    seed_into(f"sqlite:///{folder / 'doudi.sqlite3'}", folder / "photos")
    return folder


@pytest.fixture
def database_url(database_url, seeded_sqlite, tmp_path):
    """This module's database: the demo seeded with 300 households, and its photos in the test's photo folder."""
    if seeded_sqlite is None:
        seed_into(database_url, tmp_path / "photos")
        return database_url
    for file in seeded_sqlite.glob("doudi.sqlite3*"):  # with any WAL left beside it
        shutil.copy(file, tmp_path / file.name)
    shutil.copytree(seeded_sqlite / "photos", tmp_path / "photos")
    return database_url


def count(session, query) -> int:
    return session.exec(select(func.count()).select_from(query.subquery())).one()


def test_a_campaign_is_under_way_and_about_two_thirds_of_the_city_is_surveyed(session):
    campaign = active_campaign(session, today_in_china())
    assert campaign is not None and campaign.name == CAMPAIGN_NAME
    assert campaign.start_date < today_in_china() <= campaign.end_date
    city = coverage(session, user(session, "demo-city"), campaign, session.get(Area, CITY)).total
    assert city.households_due == HOUSEHOLDS
    assert 0.55 <= city.rate <= 0.80, city.rate


def test_the_coverage_page_shows_the_campaign_instead_of_saying_there_is_none(client, session):
    login(client, user(session, "demo-township"))
    body = page_text(client.get("/coverage/"))
    assert CAMPAIGN_NAME in body and "还没有排查专项" not in body
    assert "碗窑村" in body and "勐准村" in body


def test_applications_wait_for_the_demo_township_and_for_the_demo_county(session):
    assert waiting_count(session, user(session, "demo-township")) >= 3
    assert waiting_count(session, user(session, "demo-county")) >= 1


def test_every_application_state_appears_and_an_urgent_grant_awaits_its_paperwork(session):
    states = set(session.exec(select(ReliefApplication.state).distinct()).all())
    assert states == set(STATES)
    pending = select(ReliefApplication).where(
        ReliefApplication.urgent,
        ReliefApplication.state == "approved",
        ReliefApplication.decided_level == "township",
        ReliefApplication.paperwork_due_at.is_not(None),
        ReliefApplication.paperwork_done_at.is_(None),
    )
    assert count(session, pending) >= 1


def test_each_application_has_the_history_its_state_needs(session):
    for application in session.exec(select(ReliefApplication)):
        steps = history(session, application)
        if application.state == "draft":
            assert steps == []
            continue
        assert steps[0].action == "submit" and steps[-1].to_state == application.state
        assert all(a.to_state == b.from_state for a, b in itertools.pairwise(steps))


def test_every_township_with_demo_households_has_a_reserve_that_agrees_with_its_approvals(session):
    townships = {code[:9] + "000" for code in session.exec(select(Household.area_code).distinct())}
    funds = {fund.area_code: fund for fund in session.exec(select(TownshipFund))}
    assert townships <= set(funds)
    for code in townships:
        fund = funds[code]
        assert fund.reserve_fen > 0 and fund.approval_limit_fen > 0
        assert fund.balance_fen == fund.reserve_fen - drawn_in_year(session, code, fund.year)
    assert funds[TOWNSHIP].balance_fen < funds[TOWNSHIP].reserve_fen  # the demo township has granted some


def test_the_demo_township_approves_the_first_waiting_application_on_its_page(client, session):
    township = user(session, "demo-township")
    first = session.exec(list_query(township, "submitted")).first()
    login(client, township)
    tab = page_text(client.get("/relief/"))
    assert "待我审批" in tab and f"/relief/{first.id}" in tab
    response = client.post(f"/relief/{first.id}/decisions", data={"action": "approve", "version": first.version})
    assert response.status_code == 302, page_text(response, 302)
    assert "已批准" in page_text(client.get(response.headers["Location"]))
    session.refresh(first)
    assert (first.state, first.decided_level) == ("approved", "township")


def test_the_demo_county_has_a_draft_report_drafted_from_the_data(client, session):
    report = session.exec(select(WorkReport)).one()
    assert report.area_code == COUNTY and report.report_submitted_at is None
    assert "共有在册困难群众" in report.basic_situation and "户排查率" in report.basic_situation
    assert report.measures.strip() and not report.difficulties and not report.suggestions
    login(client, user(session, "demo-county"))
    page = page_text(client.get(f"/reports/work/{report.campaign_id}/{COUNTY}"))
    assert "户排查率" in page


def test_the_demo_villages_had_routine_visits_with_photos_and_needs_lately(session):
    in_demo_villages = Visit.area_code.in_((VILLAGE_A, VILLAGE_B))
    routine = select(Visit).where(in_demo_villages, Visit.kind.in_(("routine", "adhoc")))
    assert count(session, routine) >= 20
    photos = count(session, select(Photo)) + count(session, select(ReliefPhoto))
    assert 20 <= photos <= 40
    needs = session.exec(select(Need.type, Need.status)).all()
    assert len({need_type for need_type, _status in needs}) >= 8
    assert {status for _type, status in needs} == set(NEED_STATUSES)
    assert count(session, select(ReliefApplication).where(ReliefApplication.need_id.is_not(None))) >= 1


def test_photos_reach_the_demo_assistant_as_real_jpegs_and_stay_in_the_village(client, session):
    own = session.exec(select(Photo).join(Household, Household.id == Photo.household_id).where(
        Household.area_code == VILLAGE_A)).all()  # fmt: skip
    other = session.exec(select(Photo).join(Household, Household.id == Photo.household_id).where(
        Household.area_code == VILLAGE_B)).first()  # fmt: skip
    assert own and other is not None
    login(client, user(session, "demo-assistant"))
    for photo in own:
        for url in (f"/photos/{photo.id}.jpg", f"/photos/{photo.id}_t.jpg"):
            response = client.get(url)
            assert response.status_code == 200 and response.mimetype == "image/jpeg"
            image = Image.open(io.BytesIO(response.data))
            assert image.format == "JPEG" and min(image.size) > 100
    assert client.get(f"/photos/{other.id}.jpg").status_code == 404


def test_the_demo_shows_the_discovery_loop_tasks_a_check_brought_into_dibao_and_a_candidate(client, session):
    assistant = user(session, "demo-assistant")
    checked = session.exec(select(Alert).where(Alert.state == "closed", Alert.outcome == "dibao")).one()
    assert checked.visit_id is not None and checked.area_code == assistant.area_code
    candidate = session.exec(select(Candidate)).one()
    assert (candidate.source, candidate.status, candidate.area_code) == ("field_report", "open", VILLAGE_A)
    tasks = session.exec(select(Alert).where(Alert.assigned_to_id == assistant.id, Alert.state == "assigned")).all()
    assert tasks
    login(client, assistant)
    home = page_text(client.get("/"))
    assert "待核实预警" in home and f"/visits/new?alert={tasks[0].id}" in home
    login(client, user(session, "demo-township"))
    assert "待核实对象" in page_text(client.get("/"))
    campaign = active_campaign(session, today_in_china())
    area = session.get(Area, TOWNSHIP)
    assert statistics(session, user(session, "demo-township"), campaign, area).total.outcomes.get("dibao") == 1
