"""The 审批 tab (what waits for whom, overdue paperwork first), its badge, and a household's applications."""

import re
from datetime import timedelta

from models import ReliefApplication, utcnow
from tests.conftest import OTHER_VILLAGE, add_user, login, page_text
from tests.test_relief_pages import add_fund, decided, raised

# ---- the 审批 tab and its badge ----------------------------------------------------------------


def test_township_tab_lists_waiting_paperwork_overdue_first_and_to_pay(as_user, world, session):
    add_fund(session)
    waiting = raised(session, world, amount="100")
    late = raised(session, world, amount="200", urgent=True)
    soon = raised(session, world, amount="300", urgent=True)
    for application in (late, soon):
        decided(session, world.township, application, "approve")
    late = session.get(ReliefApplication, late.id)
    late.paperwork_due_at = utcnow() - timedelta(days=3)
    session.add(late)
    session.commit()
    body = page_text(as_user("township").get("/relief/"))
    for title in ("待我审批", "先行救助待补材料", "已批准待发放"):
        assert title in body
    paperwork = body.split("先行救助待补材料")[1].split("已批准待发放")[0]
    assert paperwork.index(f"/relief/{late.id}") < paperwork.index(f"/relief/{soon.id}")
    assert "材料已逾期 3 天" in paperwork
    assert f"/relief/{waiting.id}" in body.split("待我审批")[1].split("先行救助待补材料")[0]


def test_county_tab_lists_forwarded_and_overdue_paperwork(as_user, world, session):
    add_fund(session)
    forwarded = raised(session, world, amount="3000")
    decided(session, world.township, forwarded, "forward", comment="建议批准")
    late = raised(session, world, amount="200", urgent=True)
    decided(session, world.township, late, "approve")
    late = session.get(ReliefApplication, late.id)
    late.paperwork_due_at = utcnow() - timedelta(days=1)
    session.add(late)
    session.commit()
    body = page_text(as_user("county").get("/relief/"))
    assert "待县级审批" in body and f"/relief/{forwarded.id}" in body
    assert "先行救助材料逾期" in body and f"/relief/{late.id}" in body
    assert f"/relief/{forwarded.id}" not in page_text(as_user("other_county").get("/relief/"))


def test_city_tab_is_a_read_only_view_of_every_level(as_user, world, session):
    application = raised(session, world)
    body = page_text(as_user("city").get("/relief/"))
    assert "待乡镇审批" in body and "待县级审批" in body and f"/relief/{application.id}" in body


def test_the_tab_requires_login(client):
    response = client.get("/relief/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_assistants_see_their_own_applications_from_me(as_user, world, session):
    mine = raised(session, world)
    client = as_user("assistant_a")
    assert "/relief/?mine=1" in page_text(client.get("/me"))
    body = page_text(client.get("/relief/?mine=1"))
    assert "我的临时救助申请" in body and f"/relief/{mine.id}" in body
    other = as_user("assistant_b")
    assert f"/relief/{mine.id}" not in page_text(other.get("/relief/?mine=1"))


def test_load_more_answers_htmx_with_rows_only_from_the_same_url(as_user, world, session):
    for _ in range(21):
        raised(session, world, amount="100")
    client = as_user("township")
    body = page_text(client.get("/relief/"))
    assert body.count('class="relief-row"') == 20 and "/relief/?list=submitted&amp;page=2" in body
    response = client.get("/relief/?list=submitted&page=2", headers={"HX-Request": "true"})
    assert "HX-Request" in response.headers["Vary"]
    assert page_text(response).count('class="relief-row"') == 1 and "<html" not in page_text(response)
    whole = client.get("/relief/?list=submitted&page=2")
    assert "<html" in page_text(whole) and page_text(whole).count('class="relief-row"') == 1


def badge(body: str) -> str | None:
    found = re.search(r'<span class="weui-badge tabbar__badge"[^>]*>(\d+)</span>', body)
    return found.group(1) if found else None


def test_the_badge_counts_what_waits_for_this_user(as_user, world, session, password_hash):
    add_fund(session)
    raised(session, world, amount="100")
    forwarded = raised(session, world, amount="3000")
    raised(session, world, household=world.household_b, amount="100", by=world.assistant_b)
    raised(session, world, amount="100", submit=False)  # a draft waits for nobody
    anshi = add_user(session, password_hash, "anshi", "assistant", OTHER_VILLAGE)  # 凤庆县: never counted here
    raised(session, world, household=world.household_other, amount="100", by=anshi)
    assert badge(page_text(as_user("township").get("/"))) == "3"
    decided(session, world.township, forwarded, "forward", comment="建议批准")
    assert badge(page_text(as_user("township").get("/"))) == "2"
    assert badge(page_text(as_user("county").get("/"))) == "1"
    assert badge(page_text(as_user("other_county").get("/"))) is None
    assert badge(page_text(as_user("city").get("/"))) is None


# ---- the household page ------------------------------------------------------------------------


def test_household_page_offers_to_apply_and_loads_its_applications(as_user, world, session):
    application = raised(session, world)
    client = as_user("assistant_a")
    page = page_text(client.get(f"/households/{world.household_a.id}"))
    assert f"/relief/new?household={world.household_a.id}" in page and "申请临时救助" in page
    assert f'hx-get="/relief/households/{world.household_a.id}"' in page
    part = client.get(f"/relief/households/{world.household_a.id}", headers={"HX-Request": "true"})
    assert (
        f"/relief/{application.id}" in page_text(part)
        and "600 元 · 待乡镇审批" in page_text(part)
        and "张明华" in page_text(part)
    )
    assert "<html" not in page_text(part)
    assert "申请临时救助" not in page_text(as_user("county").get(f"/households/{world.household_a.id}"))


def test_household_applications_require_login_and_scope(client, world, session):
    response = client.get(f"/relief/households/{world.household_a.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(client, world.assistant_b)
    assert client.get(f"/relief/households/{world.household_a.id}").status_code == 404


def test_the_citys_tab_says_it_only_watches_and_leads_to_the_overview(as_user, world):
    body = page_text(as_user("city").get("/relief/"))
    assert "这里只能查看" in body and 'href="/relief/overview/"' in body
    assert "这里只能查看" not in page_text(as_user("township").get("/relief/"))
