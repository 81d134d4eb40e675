"""The coverage page's breakdown, each number a link to its list, and the done-when story."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from models import Campaign, Household
from services.api.schemas import VisitIn
from services.audit import Actor
from services.clock import CHINA
from services.visits.visits import record_visit
from tests.conftest import TOWNSHIP, VILLAGE_A, VILLAGE_B, add_household, add_need, add_relief, page_text


@pytest.fixture
def running(session, world):
    today = datetime.now(CHINA).date()
    campaign = Campaign(
        name="冬季排查回访",
        start_date=today - timedelta(days=3),
        end_date=today + timedelta(days=3),
        created_by_id=world.city.id,
    )
    session.add(campaign)
    session.commit()
    return campaign


def survey(session, user, household):
    payload = VisitIn(
        uuid=uuid.uuid4(), household_id=household.id, kind="survey", visited_at=datetime.now(UTC) - timedelta(hours=1)
    )
    record_visit(session, Actor(user, "127.0.0.1"), payload)


def need(session, world, household, need_type, status="open", created_at=None):
    add_need(session, household, need_type, by=world.assistant_a, status=status, created_at=created_at)


def granted(session, world, household, fen, state="paid", decided_at=None):
    add_relief(session, household, fen, by=world.township, state=state, decided_at=decided_at)


def test_village_at_87_percent_leads_the_township_to_the_same_6_households_the_assistant_sees(
    session, world, running, as_user
):
    extra = [
        add_household(session, VILLAGE_A, f"{n:04d}", f"村民{n}", assistant_id=world.assistant_a.id)
        for n in range(2, 47)
    ]
    session.commit()
    for household in [world.household_a, *extra[:39]]:  # 40 of 46 visited: 86.96 %
        survey(session, world.assistant_a, household)
    session.commit()
    township = as_user("township")
    page = page_text(township.get("/coverage/"))
    row = re.search(r"cov-row__name\">碗窑村.*?rate__text\">(\d+)%", page, re.S)
    assert row and row.group(1) == "87"
    village_link = f"/coverage/?campaign={running.id}&amp;area={VILLAGE_A}"  # the whole row, one level down
    assert f'class="cov-row" role="listitem" href="{village_link}"' in page
    missing_link = f"/coverage/missing?campaign={running.id}&amp;area={VILLAGE_A}"
    assert missing_link in page_text(township.get(village_link.replace("&amp;", "&")))
    township_list = page_text(township.get(missing_link.replace("&amp;", "&")))
    township_names = set(re.findall(r'hh-row__name">([^<]+)<', township_list))
    assert township_names == {f"村民{n}" for n in range(41, 47)}
    township.post("/logout")
    assistant = as_user("assistant_a")
    home = page_text(assistant.get("/"))
    assert "还差 6 户" in home
    assistant_list = page_text(assistant.get("/coverage/missing", query_string={"campaign": running.id}))
    assert set(re.findall(r'hh-row__name">([^<]+)<', assistant_list)) == township_names


def test_categories_are_counted_in_persons_and_link_to_the_households(session, world, running, as_user):
    add_household(session, VILLAGE_B, "0002", "岩保", categories=("dibao", "severe_disability"))
    session.add(Household(area_code=VILLAGE_B, household_no="0003", kind="institution"))
    session.commit()
    survey(session, world.assistant_a, world.household_a)
    session.commit()
    page = page_text(as_user("township").get("/coverage/breakdown", query_string={"campaign": running.id}))
    dibao = re.search(r'category=dibao&amp;area=530902100000">低保</a></th>\s*<td>(\d+)</td><td>(\d+)</td>', page)
    assert dibao and dibao.groups() == ("2", "1")  # 张明华 (visited) and 岩保
    assert "重残" in page and "特困（分散供养）" in page


def test_problems_found_in_the_window_are_counted_by_type_with_links_to_the_needs(session, world, running, as_user):
    need(session, world, world.household_a, "medical")
    need(session, world, world.household_a, "medical", status="resolved")
    need(session, world, world.household_b, "dibao", status="resolved")
    need(session, world, world.household_b, "housing", created_at=datetime.now(UTC) - timedelta(days=30))  # before
    need(session, world, world.household_other, "medical")  # another county
    session.commit()
    client = as_user("township")
    page = page_text(client.get("/coverage/breakdown", query_string={"campaign": running.id}))
    assert "发现问题（3 个）" in page
    medical = re.search(
        r'<th scope="row">医疗</th>\s*<td><a href="([^"]+)">(\d+)</a></td>\s*<td><a href="([^"]+)">(\d+)</a>', page
    )
    assert medical and medical.group(2) == "2" and medical.group(4) == "1"
    listed = page_text(client.get(medical.group(1).replace("&amp;", "&")))
    assert listed.count('class="need-item"') == 2 and "冬季排查回访期间提出" in listed
    resolved = page_text(client.get(medical.group(3).replace("&amp;", "&")))
    assert resolved.count('class="need-item"') == 1
    assert "住房" not in re.search(r"发现问题.*?</table>", page, re.S).group(0)
    outcomes = re.search(r"解决情况.*", page, re.S).group(0)
    assert re.search(r"已解决问题</span><span class=\"weui-cell__ft\">2 个", outcomes)
    assert re.search(r"纳入低保</span><span class=\"weui-cell__ft\">1 户", outcomes)


def test_relief_granted_in_the_window_is_counted_with_its_amount_and_listed(session, world, running, as_user):
    granted(session, world, world.household_a, 80000)
    granted(session, world, world.household_b, 50050, state="approved")
    granted(session, world, world.household_b, 30000, state="rejected")
    granted(session, world, world.household_a, 20000, decided_at=datetime.now(UTC) - timedelta(days=40))
    session.commit()
    client = as_user("county")
    page = page_text(client.get("/coverage/breakdown", query_string={"campaign": running.id}))
    assert "2 人次 · 1,300.50 元" in page
    listed = page_text(client.get("/coverage/relief", query_string={"campaign": running.id}))
    assert listed.count('class="relief-row"') == 2 and "张明华" in listed and "杨梅国" in listed
    partial = client.get("/coverage/relief", query_string={"campaign": running.id}, headers={"HX-Request": "true"})
    assert "<html" not in partial.get_data(as_text=True) and "HX-Request" in partial.headers["Vary"]


def test_care_agreements_and_wishes_link_to_the_households(session, world, running, as_user):
    world.household_a.care_agreement_signed = True
    world.household_b.wants_institutional_care = True
    session.add_all([world.household_a, world.household_b])
    session.commit()
    client = as_user("township")
    page = page_text(client.get("/coverage/breakdown", query_string={"campaign": running.id}))
    assert re.search(r"签订照料协议</span><span class=\"weui-cell__ft\">1 户", page)
    care = page_text(client.get("/households/", query_string={"flag": "care_agreement", "area": TOWNSHIP}))
    assert "张明华" in care and "杨梅国" not in care and "只显示：博尚镇 · 已签订照料协议" in care
    wish = page_text(client.get("/households/", query_string={"flag": "wants_institutional_care", "area": TOWNSHIP}))
    assert "杨梅国" in wish and "张明华" not in wish


def test_relief_list_requires_login_and_stays_in_scope(client, session, world, running, as_user):
    assert client.get("/coverage/relief", query_string={"campaign": running.id}).status_code == 302
    assistant = as_user("assistant_a")
    assert (
        assistant.get("/coverage/relief", query_string={"campaign": running.id, "area": VILLAGE_B}).status_code == 404
    )


def test_an_area_filter_never_widens_the_household_list_beyond_scope(world, as_user):
    page = page_text(as_user("assistant_a").get("/households/", query_string={"area": "530900000000"}))
    assert "张明华" in page and "杨梅国" not in page and "段明" not in page


def test_the_coverage_page_loads_the_breakdown_after_it(session, world, running, as_user):
    client = as_user("township")
    page = page_text(client.get("/coverage/"))
    url = f"/coverage/breakdown?campaign={running.id}&amp;area={TOWNSHIP}"
    assert f'hx-get="{url}"' in page and 'hx-trigger="load"' in page and "对象类别（人）" not in page
    partial = client.get(url.replace("&amp;", "&"), headers={"HX-Request": "true"})
    assert "<html" not in page_text(partial) and "对象类别（人）" in page_text(partial)
    assert "HX-Request" in partial.headers["Vary"]
    whole = page_text(client.get(url.replace("&amp;", "&")))
    assert "<html" in whole and "排查统计 · 博尚镇" in whole and "冬季排查回访" in whole


def test_breakdown_requires_login_and_stays_in_scope(client, running, as_user):
    assert client.get("/coverage/breakdown", query_string={"campaign": running.id}).status_code == 302
    assistant = as_user("assistant_a")
    query = {"campaign": running.id, "area": VILLAGE_B}
    assert assistant.get("/coverage/breakdown", query_string=query).status_code == 404
