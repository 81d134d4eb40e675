"""The visit form and a visit's page: what they show, to whom, and for which households."""

import re
import uuid
from datetime import datetime, timedelta

from sqlmodel import select

from models import Campaign, CardScan, Household, Need, Photo
from services.api.schemas import VisitIn
from services.audit import Actor
from services.clock import CHINA
from services.visits.visits import record_visit
from tests.conftest import VILLAGE_A, add_household, login, page_text


def form_url(household) -> str:
    return f"/households/{household.id}/visits/new"


def recorded_visit(session, world, **content):
    """Store a visit of household_a by assistant_a through the same service the API uses."""
    payload = VisitIn(uuid=uuid.uuid4(), household_id=world.household_a.id, kind="routine", **content)
    visit, _created = record_visit(session, Actor(user=world.assistant_a, ip="127.0.0.1"), payload)
    session.commit()
    return visit


# ---- the form ------------------------------------------------------------------------------


def self_check_shown(body: str, key: str) -> bool:
    """Tell whether the form shows a self-check: every one is in the page (one form online and offline), most hidden."""
    tag = re.search(rf'<div class="check-item"[^>]*data-self-check="{key}"[^>]*>', body)
    assert tag, key
    return " hidden" not in tag.group(0)


def test_form_asks_the_self_checks_of_the_households_categories(as_user, world):
    body = page_text(as_user("assistant_a").get(form_url(world.household_a)))
    assert "张明华" in body and "碗窑村 0001号" in body
    assert self_check_shown(body, "payment_received")  # 本月保障金已到账: 低保
    assert self_check_shown(body, "treatment_ok")  # 用药、康复治疗正常: 重病
    assert not self_check_shown(body, "disability_allowance_received")  # only for 重残
    assert not self_check_shown(body, "care_agreement_signed")  # only for 分散供养特困


def test_form_offers_every_checklist_item_kind_change_need_type_and_risk(as_user, world):
    body = page_text(as_user("assistant_a").get(form_url(world.household_a)))
    for words in ("住房安全", "饮水", "日常照料", "排查回访", "定期走访", "临时探视", "有成员去世", "纳入低保", "紧急"):
        assert words in body
    assert 'id="kind-routine" name="kind" value="routine" checked' in body
    assert 'id="risk-normal" name="risk" value="normal" checked' in body
    assert body.count("data-need-row") == 4  # three rows for a phone without JavaScript, one template
    assert 'capture="environment"' in body and 'accept="image/*"' in body
    assert "未获取定位" not in body and "正在定位" in body


def test_a_link_may_choose_the_kind_of_visit(as_user, world):
    body = page_text(as_user("assistant_a").get(form_url(world.household_a) + "?kind=survey"))
    assert 'value="survey" checked' in body and 'value="routine" checked' not in body
    body = page_text(as_user("assistant_a").get(form_url(world.household_a) + "?kind=party"))
    assert 'value="routine" checked' in body


def test_the_form_leaves_its_visit_uuid_to_the_phone(as_user, world):
    """The UUID is made in the browser when the form opens, so it works with no signal (tests/browser checks it)."""
    body = page_text(as_user("assistant_a").get(form_url(world.household_a)))
    assert 'name="uuid" value=""' in body and f'data-household="{world.household_a.id}"' in body


def test_form_carries_the_csrf_meta_tag_and_loads_visit_js_only_there(as_user, world):
    client = as_user("assistant_a")
    body = page_text(client.get(form_url(world.household_a)))
    assert '<meta name="csrf-token" content="' in body
    assert "/static/js/visit.js?v=" in body
    assert "js/visit.js" not in page_text(client.get(f"/households/{world.household_a.id}"))
    assert "js/visit.js" not in page_text(client.get("/"))


def test_form_requires_login(client, world):
    response = client.get(form_url(world.household_a))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_form_of_another_village_gets_404(as_user, world):
    assert as_user("assistant_a").get(form_url(world.household_b)).status_code == 404
    assert as_user("assistant_a").get("/households/999999/visits/new").status_code == 404


def test_township_opens_the_form_for_any_of_its_villages(as_user, world):
    body = page_text(as_user("township").get(form_url(world.household_b)))
    assert "杨梅国" in body and "已签订三方委托照料服务协议" in body and "本月保障金已到账" in body


def test_exited_household_cannot_open_the_form(as_user, world, session):
    household = session.get(Household, world.household_a.id)
    household.status, household.exit_reason = "exited", "死亡"
    session.add(household)
    session.commit()
    response = as_user("assistant_a").get(form_url(world.household_a))
    body = page_text(response, 409)
    assert "这户已退出在册，不能登记走访" in body and "退出原因：死亡" in body and "data-visit-form" not in body


def test_form_after_a_card_scan_cites_the_scan(as_user, world, session):
    from services.cards.cards import live_card

    client = as_user("assistant_a")
    token = live_card(session, world.household_a.id).token
    assert client.get(f"/h/{token}").status_code == 302
    scan = session.exec(select(CardScan).where(CardScan.household_id == world.household_a.id)).one()
    body = page_text(client.get(form_url(world.household_a)))
    assert f'name="scan_id" value="{scan.id}"' in body and "已扫码" in body


def test_form_without_a_scan_of_this_household_cites_none(as_user, world, session):
    other = add_household(session, VILLAGE_A, "0002", "李四", categories=("lonely_elderly",))
    session.commit()
    from services.cards.cards import live_card

    client = as_user("assistant_a")
    client.get(f"/h/{live_card(session, other.id).token}")
    body = page_text(client.get(form_url(world.household_a)))
    assert 'name="scan_id"' not in body and "已扫码" not in body


def test_household_page_offers_a_visit_without_a_scan(as_user, world):
    body = page_text(as_user("assistant_a").get(f"/households/{world.household_a.id}"))
    assert "开始走访" in body and form_url(world.household_a) in body


def test_exited_household_page_offers_no_visit(as_user, world, session):
    household = session.get(Household, world.household_a.id)
    household.status = "exited"
    session.add(household)
    session.commit()
    body = page_text(as_user("assistant_a").get(f"/households/{world.household_a.id}?scan=1"))
    assert "张明华" in body and "已退出" in body
    assert "开始走访" not in body


# ---- one visit -----------------------------------------------------------------------------


def test_visit_page_shows_the_visit_in_full(as_user, world, session):
    visit = recorded_visit(
        session,
        world,
        risk="attention",
        checklist={"housing": {"ok": True}, "water": {"ok": False, "note": "水管冻裂，靠邻居送水"}},
        self_checks={"payment_received": True, "treatment_ok": False},
        changes=["hospitalised"],
        needs=[{"type": "supplies", "description": "需要过冬棉被两床"}],
        notes="老人腿脚不便",
        location={"lat": 23.88, "lon": 100.09, "accuracy": 18},
    )
    body = page_text(as_user("assistant_a").get(f"/visits/{visit.id}"))
    assert "定期走访" in body and "李协理" in body and "关注" in body
    assert "visit-row--problem" in body and "水管冻裂，靠邻居送水" in body
    assert "本月保障金已到账" in body and "用药、康复治疗正常" in body
    assert "有成员住院" in body and "已提交复核" in body
    assert "生活物资" in body and "需要过冬棉被两床" in body and "待处理" in body
    assert "请复核保障资格" in body  # the 复核 need raised by the change
    assert "老人腿脚不便" in body and "±18 米" in body and "没有照片" in body
    assert f'href="/households/{world.household_a.id}"' in body


def test_visit_page_links_photos_through_the_checked_route(as_user, world, session):
    visit = recorded_visit(session, world)
    photo = Photo(
        uuid=str(uuid.uuid4()),
        visit_id=visit.id,
        household_id=visit.household_id,
        caption="厨房",
        sha256="0" * 64,
        source_sha256="1" * 64,
        width=960,
        height=1280,
        size_bytes=123_000,
        uploaded_by_id=world.assistant_a.id,
    )
    session.add(photo)
    session.commit()
    body = page_text(as_user("assistant_a").get(f"/visits/{visit.id}"))
    assert f'href="/photos/{photo.id}.jpg"' in body and f'src="/photos/{photo.id}_t.jpg"' in body
    assert "厨房" in body and "1 张" in body


def test_visit_page_says_when_a_visit_began_with_a_scan(as_user, world, session):
    from services.cards.cards import live_card

    client = as_user("assistant_a")
    client.get(f"/h/{live_card(session, world.household_a.id).token}")
    scan = session.exec(select(CardScan)).one()
    visit = recorded_visit(session, world, scan_id=scan.id)
    assert "是，走访前扫了这户的服务卡" in page_text(client.get(f"/visits/{visit.id}"))


def test_visit_page_requires_login(client, world, session):
    visit = recorded_visit(session, world)
    response = client.get(f"/visits/{visit.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_visit_page_of_another_village_gets_404(client, world, session):
    visit = recorded_visit(session, world)
    login(client, world.assistant_b)
    assert client.get(f"/visits/{visit.id}").status_code == 404
    assert client.get("/visits/999999").status_code == 404


def test_visit_page_shows_the_need_status_as_it_changes(as_user, world, session):
    visit = recorded_visit(session, world, needs=[{"type": "medical", "description": "需要陪同就医"}])
    need = session.exec(select(Need).where(Need.visit_id == visit.id)).one()
    need.status, need.resolution = "resolved", "已联系乡卫生院上门"
    session.add(need)
    session.commit()
    body = page_text(as_user("township").get(f"/visits/{visit.id}"))
    assert "已解决" in body and "处理结果：已联系乡卫生院上门" in body


# ---- during a campaign ------------------------------------------------------------------------


def campaign_today(session, world):
    today = datetime.now(CHINA).date()
    campaign = Campaign(
        name="冬季排查",
        start_date=today - timedelta(days=2),
        end_date=today + timedelta(days=2),
        created_by_id=world.city.id,
    )
    session.add(campaign)
    session.commit()
    return campaign


def test_during_a_campaign_a_household_not_yet_surveyed_opens_the_form_as_a_survey_visit(as_user, world, session):
    campaign_today(session, world)
    body = page_text(as_user("assistant_a").get(form_url(world.household_a)))
    assert 'id="kind-survey" name="kind" value="survey" checked' in body


def test_a_visit_saved_from_the_missing_list_counts_for_the_campaign(as_user, world, session):
    campaign = campaign_today(session, world)
    client = as_user("assistant_a")
    missing = page_text(client.get(f"/coverage/missing?campaign={campaign.id}"))
    assert "张明华" in missing
    form = page_text(client.get(form_url(world.household_a)))
    kind = re.search(r'name="kind" value="(\w+)" checked', form)[1]
    response = client.post(
        "/api/v1/visits", json={"uuid": str(uuid.uuid4()), "household_id": world.household_a.id, "kind": kind}
    )
    assert response.status_code == 201
    assert "张明华" not in page_text(client.get(f"/coverage/missing?campaign={campaign.id}"))


def test_once_surveyed_in_the_campaign_the_next_visit_opens_as_routine(as_user, world, session):
    campaign_today(session, world)
    client = as_user("assistant_a")
    client.post(
        "/api/v1/visits", json={"uuid": str(uuid.uuid4()), "household_id": world.household_a.id, "kind": "survey"}
    )
    body = page_text(client.get(form_url(world.household_a)))
    assert 'id="kind-routine" name="kind" value="routine" checked' in body


def test_outside_a_campaign_the_form_opens_as_routine(as_user, world):
    body = page_text(as_user("assistant_a").get(form_url(world.household_a)))
    assert 'id="kind-routine" name="kind" value="routine" checked' in body
