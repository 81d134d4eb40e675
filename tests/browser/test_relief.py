"""Temporary relief in Chromium at phone size, with real CSRF: apply, approve in three taps, add evidence.

Set SCREENSHOT_DIR to keep 360×640 screenshots of the approver's screen, its dialog and the form.
"""

import os
import uuid
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlmodel import select

from models import ReliefApplication, ReliefPhoto, TownshipFund, utcnow
from services.api.relief_schemas import ReliefIn
from services.api.schemas import VisitIn
from services.audit import Actor
from services.relief.apply import create_application
from services.visits.visits import record_visit
from tests.conftest import TOWNSHIP


def shot(page, name: str, full_page: bool = False) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"relief-{name}.png"), full_page=full_page)


@pytest.fixture
def fund(session):
    session.add(TownshipFund(area_code=TOWNSHIP, year=utcnow().year, reserve_fen=1_000_000, balance_fen=1_000_000))
    session.commit()


@pytest.fixture
def urgent_600(session, world, fund):
    """A 600 元 urgent application raised by assistant A after a visit that found the house burnt."""
    visit = VisitIn(
        uuid=uuid.uuid4(),
        household_id=world.household_a.id,
        kind="adhoc",
        risk="urgent",
        location={"lat": 23.88, "lon": 100.08, "accuracy": 15},
        needs=[{"type": "temporary_relief", "description": "房屋失火，需要临时救助"}],
    )
    actor = Actor(user=world.assistant_a, ip="127.0.0.1")
    record_visit(session, actor, visit)
    payload = ReliefIn(
        uuid=uuid.uuid4(),
        household_id=world.household_a.id,
        person_id=world.head_a.id,
        reason="fire",
        circumstances="3 月 2 日夜里厨房失火，房屋半边烧毁，衣物被褥和口粮全部烧光，老人暂住邻居家。",
        amount_yuan="600",
        payment_form="cash",
        urgent=True,
    )
    application, _created = create_application(session, actor, payload)
    session.commit()
    return application


def test_township_officer_approves_in_three_taps(page, live_server, sign_in, world, session, urgent_600):
    sign_in(world.township)
    expect(page.locator(".tabbar .weui-badge")).to_have_text("1")
    page.locator(".tabbar").get_by_role("link", name="审批").tap()
    page.wait_for_url(live_server + "/relief/")
    shot(page, "tab")
    page.locator(".relief-row").filter(has_text="张明华").tap()  # tap 1: open
    page.wait_for_url(f"{live_server}/relief/{urgent_600.id}")
    expect(page.locator(".relief-money__line")).to_contain_text("申请 600 元 / 乡镇额度 1,000 元")
    expect(page.locator(".relief-balance")).to_have_text("10,000 元")
    shot(page, "approver")
    shot(page, "approver-full", full_page=True)
    page.locator(".decision-bar").get_by_role("link", name="批准").tap()  # tap 2: 批准
    dialog = page.locator("#do-approve")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("批准金额（元）")).to_have_value("600.00")
    shot(page, "approve-dialog")
    dialog.get_by_role("button", name="确认批准").tap()  # tap 3: confirm
    page.wait_for_url(f"{live_server}/relief/{urgent_600.id}")
    expect(page.locator(".notice--success")).to_contain_text("已批准 600 元")
    expect(page.locator(".relief-head .relief-state")).to_have_text("已批准，待发放")
    expect(page.locator(".relief-balance")).to_have_text("9,400 元")
    expect(page.locator(".relief-countdown")).to_contain_text("还剩 5 天补齐材料")
    expect(page.locator(".relief-dialog")).to_have_count(2)  # 登记发放 and 补齐材料 now, both closed
    expect(page.locator("#do-pay .weui-dialog")).to_be_hidden()
    shot(page, "approved")
    session.refresh(urgent_600)
    assert urgent_600.state == "approved" and urgent_600.amount_approved_fen == 60000


def test_the_more_sheet_leads_to_a_reject_dialog_that_needs_a_reason(page, live_server, sign_in, world, urgent_600):
    sign_in(world.township)
    page.goto(f"{live_server}/relief/{urgent_600.id}")
    page.get_by_role("link", name="更多操作").tap()
    expect(page.locator("#more .weui-actionsheet")).to_be_visible()
    shot(page, "more-sheet")
    page.get_by_role("menuitem", name="不批准").tap()
    dialog = page.locator("#do-reject")
    expect(dialog).to_be_visible()
    expect(page.locator("#more .weui-actionsheet")).to_be_hidden()
    dialog.get_by_role("link", name="取消").tap()
    expect(dialog).to_be_hidden()


def test_assistant_applies_from_the_household_page(page, live_server, sign_in, world, session, fund, page_errors):
    page_errors.expect("status of 400")  # the first try has a bad amount on purpose
    sign_in(world.assistant_a)
    page.goto(f"{live_server}/households/{world.household_a.id}")
    expect(page.locator("#relief-household")).to_contain_text("还没有临时救助申请")  # loaded by htmx
    page.get_by_role("link", name="申请临时救助").tap()
    page.wait_for_url(f"{live_server}/relief/new?household={world.household_a.id}")
    shot(page, "form-top")
    page.get_by_label("救助原因").select_option(label="支出型·医疗")
    page.get_by_label("困难情况").fill("老人突发脑梗住院，自付医药费 4000 多元，家中无力承担")
    page.get_by_label("申请金额（元）").fill("1.234")
    page.locator("label[for=urgent]").tap()
    shot(page, "form")
    page.get_by_role("button", name="提交申请").tap()
    expect(page.locator("#amount_yuan-error")).to_have_text("金额最多保留两位小数（到分）")
    expect(page.get_by_label("申请金额（元）")).to_be_focused()  # the first mistake is where the cursor is
    shot(page, "form-error")
    assert session.exec(select(ReliefApplication)).first() is None
    page.get_by_label("申请金额（元）").fill("800")
    page.get_by_role("button", name="提交申请").tap()
    expect(page.locator(".notice--success")).to_have_text("已提交，等待乡镇审批")
    application = session.exec(select(ReliefApplication)).one()
    assert application.amount_requested_fen == 80000 and application.urgent and application.reason == "medical"
    assert page.url == f"{live_server}/relief/{application.id}"


def test_evidence_photos_are_shrunk_and_uploaded_from_the_application_page(
    page, live_server, sign_in, world, session, urgent_600, tmp_path
):
    photo = tmp_path / "diagnosis.jpg"
    Image.new("RGB", (3000, 2000), (230, 230, 220)).save(photo, "JPEG", quality=95)
    sign_in(world.assistant_a)
    page.goto(f"{live_server}/relief/{urgent_600.id}")
    expect(page.get_by_text("还没有证明照片")).to_be_visible()
    page.locator("[data-relief-photo-input]").set_input_files(str(photo))
    expect(page.get_by_text("证明材料（1 张）")).to_be_visible(timeout=30_000)
    stored = session.exec(select(ReliefPhoto)).one()
    assert stored.application_id == urgent_600.id and max(stored.width, stored.height) <= 1280
    expect(page.locator(".relief-photos .photo__img")).to_have_count(1)
