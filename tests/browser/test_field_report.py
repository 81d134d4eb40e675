"""上报疑似困难户 in Chromium at phone size: made with no signal, kept by the outbox, landing once with its photo.

Set SCREENSHOT_DIR to keep 360×640 screenshots of the form.
"""

from playwright.sync_api import expect
from sqlmodel import select

from models import Candidate, CandidatePhoto
from services.visits.photos import path_for
from tests.browser.test_offline import NO_SIGNAL, drain, offline_phone, shot  # noqa: F401  (the fixture)
from tests.browser.visit_helpers import SLOW, outbox_count
from tests.conftest import VILLAGE_A


def candidates(session) -> list[Candidate]:
    session.expire_all()
    return list(session.exec(select(Candidate)))


def fill_report(page, photo=None) -> None:
    page.get_by_label("姓名").fill("陈秋菊")
    page.get_by_label("看到的情况").fill("独自居住，房屋漏雨，腿脚不便")
    if photo is not None:
        page.get_by_label("照片").set_input_files([photo])


def test_a_report_made_with_no_signal_waits_on_the_phone_and_lands_once_with_its_photo(
    offline_phone,  # noqa: F811  (the fixture imported above)
    page,
    live_server,
    session,
    small_photo,
    app_photos,
    page_errors,
):
    page_errors.expect(NO_SIGNAL)
    page.goto(live_server + "/")
    page.get_by_role("link", name="上报疑似困难户").tap()  # the offline 首页's button
    page.wait_for_url(live_server + "/candidates/report")
    expect(page.locator("select[name=area_code] option")).to_have_text(["碗窑村"])  # from the phone's pack
    fill_report(page, small_photo)
    shot(page, "7-report")
    page.get_by_role("button", name="上报").tap()
    expect(page.locator("[data-report-done]")).to_contain_text("已存入手机", timeout=SLOW)
    expect(outbox_count(page).first).to_have_text("1 条待上传")
    assert candidates(session) == []

    page.context.set_offline(False)
    page.goto(live_server + "/outbox")
    expect(page.locator("[data-outbox-list]")).to_contain_text("上报疑似困难户 · 陈秋菊")
    drain(page)
    [candidate] = candidates(session)
    assert (candidate.name, candidate.area_code, candidate.source) == ("陈秋菊", VILLAGE_A, "field_report")
    [photo] = session.exec(select(CandidatePhoto)).all()
    assert photo.candidate_id == candidate.id and path_for(app_photos, photo.sha256).exists()
    page.reload()
    drain(page)
    assert len(candidates(session)) == 1  # sent once, whatever the retries


def test_with_a_signal_the_report_is_sent_at_once(page, live_server, sign_in, world, session, page_errors):
    sign_in(world.assistant_a)
    page.goto(live_server + "/households/")
    page.get_by_test_id("report-candidate").tap()
    page.wait_for_url(live_server + "/candidates/report")
    expect(page.locator("select[name=area_code]")).to_have_value(VILLAGE_A)
    fill_report(page)
    shot(page, "8-report-online")
    page.get_by_role("button", name="上报").tap()
    expect(page.locator("[data-report-done]")).to_contain_text("已上报，乡镇将核实", timeout=SLOW)
    [candidate] = candidates(session)
    assert candidate.reported_by_id == world.assistant_a.id
