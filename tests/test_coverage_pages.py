"""Coverage pages: drill-down, the missing list, campaign creation, the home-page reminder."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from models import AuditEvent, Campaign
from services.api.schemas import VisitIn
from services.audit import Actor
from services.clock import CHINA
from services.visits.visits import record_visit
from tests.conftest import COUNTY, OTHER_VILLAGE, TOWNSHIP, VILLAGE_A, VILLAGE_B, add_household, login, page_text


@pytest.fixture
def running(session, world):
    """A campaign whose window holds today, with household_a visited and two households still to go."""
    today = datetime.now(CHINA).date()
    campaign = Campaign(
        name="冬季排查回访",
        start_date=today - timedelta(days=3),
        end_date=today + timedelta(days=3),
        created_by_id=world.city.id,
    )
    session.add(campaign)
    add_household(session, VILLAGE_A, "0002", "罕春")
    session.commit()
    payload = VisitIn(
        uuid=uuid.uuid4(),
        household_id=world.household_a.id,
        kind="survey",
        visited_at=datetime.now(UTC) - timedelta(hours=1),
    )
    record_visit(session, Actor(world.assistant_a, "127.0.0.1"), payload)
    session.commit()
    return campaign


def test_township_sees_its_villages_with_rates_and_drills_down(as_user, running):
    client = as_user("township")
    page = page_text(client.get("/coverage/"))
    assert "冬季排查回访" in page and "已排查 1 / 3 户" in page
    assert "碗窑村" in page and "勐准村" in page and "还差 2 户" in page
    assert f'href="/coverage/?campaign={running.id}&amp;area={VILLAGE_A}"' in page
    village = page_text(client.get("/coverage/", query_string={"campaign": running.id, "area": VILLAGE_A}))
    assert "已排查 1 / 2 户" in village and "还差 1 户" in village


def test_city_rows_are_counties(as_user, running):
    page = page_text(as_user("city").get("/coverage/"))
    assert "临翔区" in page and "凤庆县" in page and "已排查 1 / 4 户" in page


def test_missing_list_shows_the_households_not_yet_visited(as_user, running, world):
    client = as_user("assistant_a")
    page = page_text(client.get("/coverage/missing", query_string={"campaign": running.id}))
    assert "罕春" in page and "张明华" not in page and "杨梅国" not in page
    partial = client.get("/coverage/missing", query_string={"campaign": running.id}, headers={"HX-Request": "true"})
    assert "<html" not in page_text(partial) and "罕春" in page_text(partial)


def test_the_assistants_home_says_how_many_are_left(as_user, running):
    page = page_text(as_user("assistant_a").get("/"))
    assert "冬季排查回访" in page and "还差 1 户" in page


@pytest.mark.parametrize("path", ["/coverage/", "/coverage/missing", "/coverage/campaigns/new"])
def test_coverage_pages_require_login(client, path):
    assert client.get(path).status_code == 302


def test_an_area_outside_scope_is_404(as_user, running):
    client = as_user("assistant_a")
    assert client.get("/coverage/", query_string={"area": TOWNSHIP}).status_code == 404
    assert client.get("/coverage/missing", query_string={"campaign": running.id, "area": VILLAGE_B}).status_code == 404
    client.post("/logout")


def test_other_county_officer_cannot_open_this_county(client, world, running):
    login(client, world.other_county)
    assert client.get("/coverage/", query_string={"area": COUNTY}).status_code == 404
    page = page_text(client.get("/coverage/", query_string={"area": OTHER_VILLAGE[:9] + "000"}))
    assert "已排查 0 / 1 户" in page


def test_without_campaigns_the_page_says_so(as_user, world):
    assert "还没有排查专项" in page_text(as_user("township").get("/coverage/"))


def test_city_creates_a_campaign_and_it_is_audited(as_user, session):
    client = as_user("city")
    form = {"name": "2026年2月排查回访", "start_date": "2026-02-25", "end_date": "2026-02-29"}
    response = client.post("/coverage/campaigns/new", data=form)
    assert "格式不对" in page_text(response, 400)  # 2026 has no 29 February
    form["end_date"] = "2026-02-28"
    response = client.post("/coverage/campaigns/new", data=form)
    assert response.status_code == 302
    campaign = session.exec(select(Campaign)).one()
    assert campaign.name == "2026年2月排查回访"
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "campaign.created")).one()


def test_campaign_window_must_not_run_backwards(as_user, session):
    form = {"name": "倒着的专项", "start_date": "2026-03-01", "end_date": "2026-02-25"}
    response = as_user("city").post("/coverage/campaigns/new", data=form)
    assert "结束日期不能早于开始日期" in page_text(response, 400)
    assert session.exec(select(Campaign)).all() == []


def test_only_the_city_creates_campaigns(as_user):
    assert as_user("county").get("/coverage/campaigns/new").status_code == 403


def test_coverage_api_answers_the_same_numbers_as_the_page(as_user, running):
    client = as_user("township")
    answer = client.get("/api/v1/coverage").json
    assert answer["campaign_id"] == running.id and answer["area"]["code"] == TOWNSHIP
    assert (answer["households_due"], answer["households_visited"]) == (3, 1)
    assert {row["area"]["name"]: row["households_visited"] for row in answer["children"]} == {"碗窑村": 1, "勐准村": 0}
    assert "已排查 1 / 3 户" in page_text(client.get("/coverage/"))


def test_coverage_api_keeps_to_scope(as_user, running):
    client = as_user("assistant_a")
    assert client.get("/api/v1/coverage", query_string={"area": TOWNSHIP}).status_code == 404
    assert client.get("/api/v1/coverage").json["households_due"] == 2


def test_coverage_api_requires_login(client, running):
    response = client.get("/api/v1/coverage", query_string={"campaign": running.id})
    assert response.status_code == 401 and "Location" not in response.headers
    assert response.get_json() == {"error": "login_required", "message": "请先登录"}


def test_an_officers_home_leads_to_the_drill_down_and_an_assistants_to_the_list(as_user, running):
    township = as_user("township")
    assert f'href="/coverage/?campaign={running.id}"' in page_text(township.get("/"))
    township.post("/logout")
    assert f'href="/coverage/missing?campaign={running.id}"' in page_text(as_user("assistant_a").get("/"))


def test_county_and_city_reach_coverage_and_reports_from_home(as_user, running):
    county = page_text(as_user("county").get("/"))
    assert 'href="/coverage/"' in county and 'href="/reports/work"' in county and "工作报告" in county
    page = page_text(as_user("county").get("/coverage/"))
    assert f'href="/reports/work?campaign={running.id}"' in page and "下载统计表" in page
    assert "县区报送情况" in page_text(as_user("city").get("/"))
    assert "/reports/work" not in page_text(as_user("township").get("/"))
