"""The visit form in Chromium at phone size: photos shrunk on the phone, kept in the outbox, one visit whatever the
network does (the offline cases themselves are in test_offline.py).

Set SCREENSHOT_DIR to keep 360×640 screenshots of the form (top, photos, error state).
"""

import io
import json
import os
import re
from pathlib import Path

import pytest
from PIL import Image, ImageOps
from playwright.sync_api import expect
from sqlmodel import select

from models import Need, Photo
from services.visits.photos import path_for
from tests.browser.visit_helpers import (
    SLOW,
    fill_water_problem_and_a_need,
    outbox_count,
    signal_back,
    submit,
    visits,
    wait_kept,
    wait_saved,
)

FIXTURE = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "phone_photo_12mp.jpg"


def shot(page, name: str, full_page: bool = False) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"visit-{name}.png"), full_page=full_page)


@pytest.fixture
def context_options() -> dict:
    """Block the service worker: these tests cut and fake the network with Playwright's routes, which do not
    reliably see the requests of a page a service worker controls. Its own part is tested in test_offline.py."""
    return {"service_workers": "block"}


@pytest.fixture
def open_form(page, live_server, sign_in, world):
    """Sign assistant A in and open the visit form from household A's page; return the household URL."""

    def opened(user=None) -> str:
        sign_in(user or world.assistant_a)
        household_url = f"{live_server}/households/{world.household_a.id}"
        page.goto(household_url)
        page.get_by_role("link", name="开始走访").tap()
        page.wait_for_url(f"{household_url}/visits/new")
        return household_url

    return opened


def visit_posts(page) -> list:
    """Collect the JSON bodies the page POSTs to /api/v1/visits."""
    bodies = []
    page.on(
        "request",
        lambda r: r.method == "POST" and r.url.endswith("/api/v1/visits") and bodies.append(json.loads(r.post_data)),
    )
    return bodies


def jpeg_in(body: bytes) -> bytes:
    """Return the JPEG inside a multipart body."""
    return body[body.index(b"\xff\xd8\xff") : body.rindex(b"\xff\xd9") + 2]


def looks_like(image: Image.Image, reference: Image.Image) -> float:
    """Return the mean colour difference of two pictures at 12×16 (0 = the same picture)."""
    a, b = (ImageOps.fit(i.convert("RGB"), (12, 16)).tobytes() for i in (image, reference))
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


# ---- the whole visit -----------------------------------------------------------------------


def test_assistant_records_a_visit_with_a_need_and_two_photos(
    open_form, page, live_server, session, world, app_photos, small_photo
):
    household_url = open_form()
    uploads = []
    page.context.route("**/photos", lambda route: (uploads.append(route.request.post_data_buffer), route.continue_()))
    shot(page, "1-top")
    fill_water_problem_and_a_need(page)
    page.locator("[data-field='checklist.water']").scroll_into_view_if_needed()
    shot(page, "2-checklist")
    page.locator("label[for=risk-attention]").tap()
    page.locator("[data-photo-input]").first.set_input_files([FIXTURE, small_photo])
    expect(page.locator("[data-photo][data-state=ready]")).to_have_count(2, timeout=SLOW)
    page.locator("[data-photo-caption]").first.select_option("住房")
    page.locator("[data-photo-caption]").nth(1).select_option("厨房")
    expect(page.locator("[data-photo-count]")).to_have_text("2")
    page.locator(".visit-photos").scroll_into_view_if_needed()
    shot(page, "3-photos")
    shot(page, "0-whole-form", full_page=True)

    submit(page)
    wait_saved(page, household_url)

    [visit] = visits(session)
    assert visit.visitor_id == world.assistant_a.id and visit.risk == "attention" and visit.kind == "routine"
    assert json.loads(visit.checklist) == {"water": {"ok": False, "note": "水管冻裂，靠邻居送水"}}
    [need] = session.exec(select(Need).where(Need.visit_id == visit.id)).all()
    assert (need.type, need.description) == ("supplies", "需要过冬棉被两床")
    photos = {p.caption: p for p in session.exec(select(Photo).where(Photo.visit_id == visit.id))}
    assert set(photos) == {"住房", "厨房"}

    sent = jpeg_in(uploads[0])
    print(f"\nthe 12-megapixel fixture went up as {len(sent)} bytes; stored as {photos['住房'].size_bytes} bytes")
    assert len(sent) <= 300 * 1024
    shrunk = Image.open(io.BytesIO(sent))
    assert shrunk.size == (960, 1280) and len(shrunk.getexif()) == 0  # upright on the phone already
    stored = Image.open(path_for(app_photos, photos["住房"].sha256))
    assert stored.height > stored.width and len(stored.getexif()) == 0 and photos["住房"].size_bytes <= 400 * 1024
    upright = ImageOps.exif_transpose(Image.open(FIXTURE))
    assert looks_like(stored, upright) < 12 < looks_like(stored, upright.rotate(180))  # turned once, not twice
    page.goto(f"{live_server}/visits/{visit.id}")
    expect(page.locator(".photo__img")).to_have_count(2)
    shot(page, "5-visit-page")


def test_form_is_thumb_sized_and_fits_the_phone(open_form, page):
    open_form()
    for selector in (".seg__btn", ".change-row", "[data-need-row] select", "[data-submit]", ".add-row"):
        heights = [box["height"] for box in (e.bounding_box() for e in page.locator(selector).all()) if box]
        assert heights and min(heights) >= 44, selector
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    expect(page.locator("[data-need-row]")).to_have_count(1)  # three without JavaScript
    page.get_by_role("button", name="＋ 添加诉求").tap()
    expect(page.locator("[data-need-row]")).to_have_count(2)
    page.locator("[data-remove-need]").nth(1).tap()
    expect(page.locator("[data-need-row]")).to_have_count(1)


def test_problem_note_appears_only_when_a_problem_is_chosen(open_form, page):
    open_form()
    note = page.get_by_label("住房安全的问题")
    expect(note).to_be_hidden()
    page.locator("label[for=check-housing-problem]").tap()
    expect(note).to_be_visible()
    page.locator("label[for=check-housing-ok]").tap()
    expect(note).to_be_hidden()


def test_a_problem_without_a_note_is_pointed_out_before_sending(open_form, page, session):
    open_form()
    posts = visit_posts(page)
    page.locator("label[for=check-food-problem]").tap()
    submit(page)
    expect(page.locator("[data-field='checklist.food'] .field-error")).to_have_text("有问题的项目请简单写明情况")
    assert posts == [] and visits(session) == []


# ---- never twice, never lost ---------------------------------------------------------------


def test_double_tap_sends_one_visit(open_form, page, session):
    household_url = open_form()
    posts = visit_posts(page)
    page.evaluate(
        "() => { const f = document.querySelector('[data-visit-form]'); f.requestSubmit(); f.requestSubmit(); }"
    )
    wait_saved(page, household_url)
    assert len(posts) == 1 and len(visits(session)) == 1


def test_network_failure_keeps_everything_and_the_retry_uses_the_same_uuid(
    open_form, page, session, page_errors, small_photo
):
    page_errors.expect(r"ERR_INTERNET_DISCONNECTED")
    open_form()
    posts = visit_posts(page)
    no_signal = [True]  # until the test says the signal is back: the outbox's own retries fail too
    page.context.route(
        "**/api/v1/visits",
        lambda route: route.abort("internetdisconnected") if no_signal[0] else route.fallback(),
    )
    fill_water_problem_and_a_need(page)
    page.locator("[data-photo-input]").first.set_input_files([small_photo])
    expect(page.locator("[data-photo][data-state=ready]")).to_have_count(1, timeout=SLOW)
    submit(page)
    wait_kept(page)
    expect(outbox_count(page)).to_have_text("1 条待上传")
    assert visits(session) == []
    shot(page, "4-waiting")

    no_signal[0] = False
    signal_back(page)
    expect(outbox_count(page)).to_have_text("0 条待上传", timeout=SLOW)
    [visit] = visits(session)
    assert len(posts) >= 2 and all(p == posts[0] for p in posts) and visit.uuid == posts[0]["uuid"]
    assert json.loads(visit.checklist) == {"water": {"ok": False, "note": "水管冻裂，靠邻居送水"}}
    assert len(session.exec(select(Photo)).all()) == 1


def test_a_failed_photo_upload_resends_only_the_photos_not_yet_stored(
    open_form, page, session, page_errors, small_photo, tmp_path
):
    page_errors.expect(r"ERR_INTERNET_DISCONNECTED")
    open_form()
    second = tmp_path / "bed.jpg"
    Image.new("RGB", (600, 800), (40, 90, 160)).save(second, "JPEG")
    sent = []
    no_signal = [False]

    def signal_goes_at_the_second_upload(route):
        sent.append(route.request.post_data_buffer)
        no_signal[0] = no_signal[0] or len(sent) == 2  # and stays gone until the test brings it back
        if no_signal[0]:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.context.route("**/photos", signal_goes_at_the_second_upload)
    page.locator("[data-photo-input]").first.set_input_files([small_photo, second])
    expect(page.locator("[data-photo][data-state=ready]")).to_have_count(2, timeout=SLOW)
    submit(page)
    wait_kept(page)
    expect(outbox_count(page)).to_have_text("1 条待上传")
    assert len(visits(session)) == 1 and len(session.exec(select(Photo)).all()) == 1

    no_signal[0] = False
    signal_back(page)
    expect(outbox_count(page)).to_have_text("0 条待上传", timeout=SLOW)
    uuids = [re.search(rb'name="uuid"\r\n\r\n([0-9a-f-]{36})', body).group(1) for body in sent]
    assert len(sent) >= 3 and len(set(uuids)) == 2 and uuids.count(uuids[0]) == 1  # the first photo went once
    assert all(
        uuid == uuids[1] and jpeg_in(body) == jpeg_in(sent[1]) for uuid, body in zip(uuids[1:], sent[1:], strict=True)
    )
    assert len(visits(session)) == 1 and len(session.exec(select(Photo)).all()) == 2


def test_an_answer_lost_on_the_way_back_is_retried_without_a_second_visit(open_form, page, session, page_errors):
    page_errors.expect(r"ERR_INTERNET_DISCONNECTED")
    open_form()

    answers_lost = [True]

    def lost_answer(route):
        if not answers_lost[0]:
            return route.fallback()
        route.fetch()  # the server stores the visit…
        route.abort("internetdisconnected")  # …and the phone never hears back

    page.context.route("**/api/v1/visits", lost_answer)
    fill_water_problem_and_a_need(page)
    submit(page)
    wait_kept(page)
    assert len(visits(session)) == 1
    expect(outbox_count(page)).to_have_text("1 条待上传")

    answers_lost[0] = False
    signal_back(page)
    expect(outbox_count(page)).to_have_text("0 条待上传", timeout=SLOW)
    assert len(visits(session)) == 1 and len(session.exec(select(Need)).all()) == 1


def test_a_refusal_stays_on_the_phone_as_needing_attention_with_the_servers_words(
    open_form, page, page_errors, live_server, session
):
    page_errors.expect(r"status of 422")
    open_form()
    answer = {
        "error": "invalid",
        "message": "提交的内容有误",
        "fields": [{"field": "needs.0.description", "message": "说明的长度不对"}],
    }
    page.context.route("**/api/v1/visits", lambda route: route.fulfill(status=422, json=answer))
    fill_water_problem_and_a_need(page)
    submit(page)
    wait_kept(page, "没有上传：说明的长度不对")
    expect(outbox_count(page)).to_have_text("1 条待上传（1 条需要处理）")
    page.goto(live_server + "/outbox")
    expect(page.locator("[data-outbox-state]")).to_have_text("需要处理：说明的长度不对")
    assert visits(session) == []


def test_replaying_the_same_json_after_success_answers_the_same_visit(open_form, page, session, live_server):
    household_url = open_form()
    posts = visit_posts(page)
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    fill_water_problem_and_a_need(page)
    submit(page)
    wait_saved(page, household_url)

    replay = page.request.post(
        live_server + "/api/v1/visits",
        data=json.dumps(posts[0]),
        headers={"Content-Type": "application/json", "X-CSRFToken": token},
    )
    assert replay.status == 200 and replay.json()["uuid"] == posts[0]["uuid"]
    assert len(visits(session)) == 1 and len(session.exec(select(Need)).all()) == 1


def test_back_after_submitting_does_not_return_to_the_sent_form(open_form, page, live_server):
    household_url = open_form()
    submit(page)
    wait_saved(page, household_url)
    page.go_back()
    assert "/visits/new" not in page.url


# ---- GPS -----------------------------------------------------------------------------------


def test_location_is_stored_when_the_phone_allows_it(open_form, page, session, live_server):
    page.context.grant_permissions(["geolocation"], origin=live_server)
    page.context.set_geolocation({"latitude": 23.8851, "longitude": 100.0874, "accuracy": 20})
    household_url = open_form()
    expect(page.locator("[data-gps]")).to_contain_text("已定位 ±20 米")
    submit(page)
    wait_saved(page, household_url)
    [visit] = visits(session)
    assert (round(visit.lat, 4), round(visit.lon, 4), visit.accuracy_m) == (23.8851, 100.0874, 20)


def test_refused_location_does_not_stop_the_visit(open_form, page, session):
    household_url = open_form()  # the phone was never allowed to share its position
    expect(page.locator("[data-gps]")).to_contain_text("未获取定位（不影响保存）")
    submit(page)
    wait_saved(page, household_url)
    [visit] = visits(session)
    assert visit.lat is None and visit.lon is None
