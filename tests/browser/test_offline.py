"""Field work with no signal, in Chromium at phone size: the service worker, the pack, the outbox.

"No signal" is Playwright's offline mode (navigator.onLine false, every request fails, the service worker's too).
A weak link is tests/lossy_proxy.py: the server handles the request and the answer is lost on the way back.

Set SCREENSHOT_DIR to keep 360×640 screenshots of the pages opened offline.
"""

import os
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from models import Photo, Visit
from models import utcnow as now
from services.visits.photos import path_for
from tests.browser.conftest import PHONE, WATCH_CSP, watched
from tests.browser.visit_helpers import (
    SLOW,
    fill_water_problem_and_a_need,
    outbox_count,
    signal_back,
    submit,
    visits,
    wait_saved,
)
from tests.lossy_proxy import LossyProxy

NO_SIGNAL = r"ERR_INTERNET_DISCONNECTED"  # what Chromium logs for a request made with no signal
LOST = r"ERR_EMPTY_RESPONSE"  # what it logs when the connection closes before the answer (the lossy proxy)


def shot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"offline-{name}.png"))


def ready_for_no_signal(page) -> None:
    """Wait until the service worker controls the page and the pack is on the phone, as after a first day online."""
    page.wait_for_function("() => Boolean(navigator.serviceWorker && navigator.serviceWorker.controller)", timeout=SLOW)
    deadline = time.monotonic() + SLOW / 1000
    while time.monotonic() < deadline:
        count = page.evaluate("async () => { const m = await window.DoudiPack.meta(); return m ? m.count : 0; }")
        if count:
            return
        page.wait_for_timeout(200)
    raise AssertionError("the offline pack never reached the phone")


def drain(page, timeout_s: float = 120) -> None:
    """Give the outbox a new chance every second (as the signal coming back does) until nothing waits."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if outbox_count(page).first.text_content().strip() == "0 条待上传":
            return
        signal_back(page)
        page.wait_for_timeout(1000)
    raise AssertionError("still waiting: " + outbox_count(page).first.text_content())


def record_a_visit_offline(page, household_url: str, photo=None) -> None:
    """With no signal, open the household and fill in and submit a visit (with a photo if given)."""
    page.goto(household_url)
    page.get_by_role("link", name="开始走访").tap()
    page.wait_for_url(household_url + "/visits/new")
    fill_water_problem_and_a_need(page)
    if photo is not None:
        page.locator("[data-photo-input]").first.set_input_files([photo])
        expect(page.locator("[data-photo][data-state=ready]")).to_have_count(1, timeout=SLOW)
    submit(page)
    wait_saved(page, household_url)


@pytest.fixture
def offline_phone(page, live_server, sign_in, world):
    """Sign assistant A in, let the phone get ready for no signal, and cut the signal; return household A's URL."""
    sign_in(world.assistant_a)
    ready_for_no_signal(page)
    page.context.set_offline(True)
    return f"{live_server}/households/{world.household_a.id}"


# ---- the app opens with no signal --------------------------------------------------------------


def test_the_field_pages_open_with_no_signal_once_the_app_was_opened_online(
    offline_phone, page, live_server, world, page_errors
):
    page_errors.expect(NO_SIGNAL)
    page.goto(live_server + "/")
    expect(page.locator("h1")).to_contain_text("首页")
    expect(page.locator("[data-offline-home]")).to_contain_text("张明华")
    shot(page, "1-home")

    page.goto(live_server + "/households/")
    expect(page.locator("[data-offline-households]")).to_contain_text("张明华")
    expect(page.locator("[data-offline-households]")).not_to_contain_text("杨梅国")  # another village's household
    page.get_by_placeholder("户号（如 12）或姓名").fill("1")
    expect(page.locator("[data-offline-households]")).to_contain_text("0001")
    shot(page, "2-households")

    page.goto(offline_phone)
    expect(page.locator("[data-offline-household]")).to_contain_text("张明华")
    expect(page.locator("body")).not_to_contain_text("530902194505168663")  # no ID number is on the phone
    shot(page, "3-household")

    page.get_by_role("link", name="开始走访").tap()
    expect(page.locator("[data-visit-form] [data-fill=head]")).to_have_text("张明华")
    shot(page, "4-visit")

    page.goto(live_server + "/scan/")
    expect(page.locator("h1")).to_contain_text("扫码")
    expect(page.locator("body")).not_to_contain_text("ERR_")
    shot(page, "5-scan")


def test_a_page_with_no_shell_says_so_in_chinese_with_no_signal(offline_phone, page, live_server, page_errors):
    page_errors.expect(NO_SIGNAL)
    page.goto(live_server + "/coverage/")
    expect(page.locator("main")).to_contain_text("现在没有网络信号")
    expect(page.locator("body")).not_to_contain_text("ERR_INTERNET_DISCONNECTED")


# ---- nothing typed is lost ---------------------------------------------------------------------


def test_a_visit_made_with_no_signal_survives_reload_and_a_closed_tab_and_lands_once_with_its_photo(
    offline_phone, page, live_server, session, small_photo, app_photos, page_errors
):
    page_errors.expect(NO_SIGNAL)
    record_a_visit_offline(page, offline_phone, photo=small_photo)
    expect(page.locator("[data-pending-visits]")).to_contain_text("已存入待上传")
    expect(outbox_count(page).first).to_have_text("1 条待上传")
    shot(page, "6-saved-on-the-phone")

    page.reload()
    expect(outbox_count(page).first).to_have_text("1 条待上传")
    context = page.context
    page.close()  # a cheap phone killed the tab, or WeChat was closed
    tab = watched(context.new_page(), page_errors)
    tab.goto(live_server + "/")
    expect(outbox_count(tab).first).to_have_text("1 条待上传")
    assert visits(session) == []

    context.set_offline(False)
    tab.goto(offline_phone)
    expect(outbox_count(tab).first).to_have_text("0 条待上传", timeout=SLOW)
    [visit] = visits(session)
    [photo] = session.exec(select(Photo)).all()
    assert photo.visit_id == visit.id and path_for(app_photos, photo.sha256).exists()
    tab.reload()
    expect(tab.locator(f"[data-visit-uuid='{visit.uuid}']")).to_contain_text("需要过冬棉被两床")


def test_without_a_service_worker_the_open_form_keeps_the_visit_and_the_next_page_online_sends_it(
    browser, live_server, sign_in, world, session, page_errors
):
    page_errors.expect(NO_SIGNAL)
    context = browser.new_context(**PHONE, service_workers="block")  # an old WebView: no service worker at all
    try:
        context.expose_function("__reportCsp", lambda message: page_errors.add("CSP violation: " + message))
        context.add_init_script(WATCH_CSP)
        tab = watched(context.new_page(), page_errors)
        sign_in(world.assistant_a, tab=tab)
        household_url = f"{live_server}/households/{world.household_a.id}"
        tab.goto(household_url + "/visits/new")
        context.set_offline(True)
        fill_water_problem_and_a_need(tab)
        submit(tab)
        expect(tab.locator("[data-submit-message]")).to_contain_text("已存入手机，待上传")
        expect(outbox_count(tab).first).to_have_text("1 条待上传")
        shot(tab, "7-no-service-worker")
        tab.close()
        assert visits(session) == []

        context.set_offline(False)
        tab = watched(context.new_page(), page_errors)
        tab.goto(live_server + "/")
        expect(outbox_count(tab).first).to_have_text("0 条待上传", timeout=SLOW)
        assert len(visits(session)) == 1
    finally:
        context.close()


def test_ten_visits_through_a_link_losing_30_percent_of_answers_land_exactly_ten_times(
    page, live_server, sign_in, world, session, page_errors
):
    page_errors.expect(LOST)

    def posts_to_the_api(method: str, path: str) -> bool:
        return method == "POST" and path.startswith("/api/")

    proxy = LossyProxy(int(urlsplit(live_server).port), loss=0.3, seed=1, matches=posts_to_the_api)
    try:
        sign_in(world.assistant_a, base=proxy.url)
        household_url = f"{proxy.url}/households/{world.household_a.id}"
        for number in range(10):
            page.goto(household_url + "/visits/new")
            fill_water_problem_and_a_need(page)
            page.get_by_label("备注").fill(f"第 {number + 1} 次")
            submit(page)
            wait_saved(page, household_url)
        drain(page)
    finally:
        proxy.close()
    stored = visits(session)
    assert proxy.counts.lost >= 1  # the link really lost answers (seed 1 loses the very first)
    assert len(stored) == 10 and len({v.uuid for v in stored}) == 10
    assert sorted(v.notes for v in stored) == sorted(f"第 {n} 次" for n in range(1, 11))


# ---- refusals and sign-in ----------------------------------------------------------------------


def test_a_conflict_and_a_refusal_stay_on_the_phone_as_needing_attention_with_the_servers_words(
    offline_phone, page, live_server, world, session, page_errors
):
    page_errors.expect(NO_SIGNAL)
    page_errors.expect(r"status of 409")
    page_errors.expect(r"status of 400")  # the visit refused as it stands (visit_refused)
    record_a_visit_offline(page, offline_phone)
    # Meanwhile the township records that the household left the register yesterday: the visit is after that.
    household = world.household_a
    household.status, household.exited_at = "exited", now() - timedelta(days=1)
    session.add(household)
    session.commit()
    # And a visit already stored comes again with other content (a phone restored from an old backup).
    landed = Visit(
        uuid="8b9f0f3e-0d52-4c8e-9a55-3c1f1d3e2a10",
        content_hash="0" * 64,
        household_id=household.id,
        area_code=household.area_code,
        visitor_id=world.assistant_a.id,
        kind="routine",
        visited_at=now() - timedelta(days=3),
    )
    session.add(landed)
    session.commit()

    page.evaluate(
        """([uuid, household]) => window.DoudiOutbox.add({
             uuid: uuid, kind: "visit", household_id: household, label: "旧备份", photos: [],
             payload: {uuid: uuid, household_id: household, kind: "routine", checklist: {}}})""",
        [landed.uuid, household.id],
    )
    page.context.set_offline(False)
    page.goto(live_server + "/outbox")
    list_ = page.locator("[data-outbox-list]")
    expect(list_.locator("[data-outbox-state=attention]")).to_have_count(2, timeout=SLOW)
    expect(list_).to_contain_text("这户已退出在册，不能再登记走访")
    expect(list_).to_contain_text("这次走访已经提交过，内容与已保存的不同")
    expect(outbox_count(page).first).to_have_text("2 条待上传（2 条需要处理）")
    shot(page, "8-needs-attention")
    page.reload()
    expect(list_.locator("[data-outbox-state=attention]")).to_have_count(2, timeout=SLOW)
    assert [v.uuid for v in visits(session)] == [landed.uuid]


def test_an_expired_sign_in_keeps_the_queue_until_the_assistant_signs_in_again(
    offline_phone, page, live_server, world, session, sign_in, page_errors
):
    page_errors.expect(NO_SIGNAL)
    page_errors.expect(r"status of 401")
    record_a_visit_offline(page, offline_phone)
    page.context.clear_cookies()  # the session ended while the phone was in the mountains
    page.context.set_offline(False)  # the signal comes back on the household page the form went back to
    expect(page.locator("[data-login-needed]")).to_be_visible(timeout=SLOW)
    expect(page.locator("[data-login-needed]")).to_contain_text("待上传的记录都还在手机上")
    expect(outbox_count(page).first).to_have_text("1 条待上传")
    shot(page, "9-sign-in-again")
    assert visits(session) == []

    sign_in(world.assistant_a)
    drain(page, timeout_s=SLOW / 1000)
    assert len(visits(session)) == 1
