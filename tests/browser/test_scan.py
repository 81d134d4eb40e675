"""The in-app scanner in Chromium, with a fake camera that films a card's QR code."""

import io
import json

import pytest
from PIL import Image
from playwright.sync_api import expect

from services.cards.cards import card_faces, live_card, scan_url
from services.cards.image import card_png, qr_image
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, WATCH_CSP
from tests.conftest import PASSWORD

FRAME = (640, 480)
CAMERA_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
# Counts stopped camera tracks in sessionStorage, which outlives the navigation to the household.
COUNT_STOPPED_TRACKS = """
(function () {
  var stop = MediaStreamTrack.prototype.stop;
  MediaStreamTrack.prototype.stop = function () {
    sessionStorage.setItem("tracksStopped", String(Number(sessionStorage.getItem("tracksStopped") || 0) + 1));
    return stop.call(this);
  };
})();
"""
# Chromium on Linux has no BarcodeDetector: this stand-in proves the page uses the phone's own when there is one.
FAKE_BARCODE_DETECTOR = """
window.BarcodeDetector = class {
  static getSupportedFormats() { return Promise.resolve(["qr_code"]); }
  constructor(options) { this.formats = options.formats; }
  detect(source) {
    sessionStorage.setItem("detectCalls", String(Number(sessionStorage.getItem("detectCalls") || 0) + 1));
    const filming = source instanceof HTMLVideoElement && source.videoWidth > 0;
    return Promise.resolve(filming && this.formats.includes("qr_code") ? [{ rawValue: %s, format: "qr_code" }] : []);
  }
};
"""


def y4m(picture: Image.Image, frames: int = 10) -> bytes:
    """Return a few seconds of the picture as a YUV4MPEG2 video (4:2:0), what Chromium's fake camera plays."""
    y, cb, cr = picture.convert("RGB").resize(FRAME).convert("YCbCr").split()
    half = (FRAME[0] // 2, FRAME[1] // 2)
    frame = b"FRAME\n" + y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    return f"YUV4MPEG2 W{FRAME[0]} H{FRAME[1]} F10:1 Ip A1:1 C420jpeg\n".encode() + frame * frames


def qr_in_frame(text: str, size: int = 240) -> Image.Image:
    """Put a QR code in the middle of a white camera frame, where the scanner looks."""
    frame = Image.new("RGB", FRAME, "white")
    code = qr_image(text, size)
    frame.paste(code, ((FRAME[0] - code.width) // 2, (FRAME[1] - code.height) // 2))
    return frame


def card_url(session, world, base: str) -> str:
    return scan_url(base, live_card(session, world.household_a.id).token)


def watch(context, page_errors):
    """Collect the console errors and CSP violations of a page, as the shared `page` fixture does."""
    context.set_default_timeout(8000)
    context.expose_function("__reportCsp", lambda message: page_errors.add("CSP violation: " + message))
    context.add_init_script(WATCH_CSP)
    tab = context.new_page()
    tab.on("console", lambda msg: msg.type == "error" and page_errors.add(f"console: {msg.text} ({msg.location})"))
    tab.on("pageerror", lambda error: page_errors.add(f"page error: {error}"))
    return tab


@pytest.fixture
def camera(browser, page_errors, tmp_path):
    """Return a function that opens a phone page whose rear camera films the given picture."""
    launched = []

    def open_camera(picture: Image.Image, *init_scripts: str):
        video = tmp_path / f"camera-{len(launched)}.y4m"
        video.write_bytes(y4m(picture))
        args = [*CHROMIUM_ARGS, *CAMERA_ARGS, f"--use-file-for-fake-video-capture={video}"]
        chromium = browser.browser_type.launch(executable_path=CHROMIUM, args=args, headless=True)
        launched.append(chromium)
        context = chromium.new_context(**PHONE)
        for script in init_scripts:
            context.add_init_script(script)
        return watch(context, page_errors)

    yield open_camera
    for chromium in launched:
        chromium.close()


def sign_in_on(tab, live_server: str, user) -> None:
    tab.goto(live_server + "/login")
    tab.get_by_placeholder("请输入用户名").fill(user.username)
    tab.get_by_placeholder("请输入密码").fill(PASSWORD)
    tab.get_by_role("button", name="登录").tap()
    tab.wait_for_url(live_server + "/")


def started_by_itself(tab) -> None:
    """Wait for the camera to start with no tap: the phone already allowed it (the fake camera always does)."""
    expect(tab.locator("[data-scanner]")).to_have_attribute("data-state", "scanning", timeout=10_000)
    expect(tab.get_by_role("button", name="停止扫码")).to_be_visible()


def household_page(live_server: str, household, query: str = "scan=1") -> str:
    return f"{live_server}/households/{household.id}?{query}"


# ---- the camera ---------------------------------------------------------------------------


def test_filming_a_card_opens_its_household_with_the_vendored_decoder(camera, live_server, world, session):
    tab = camera(qr_in_frame(card_url(session, world, live_server)), COUNT_STOPPED_TRACKS)
    sign_in_on(tab, live_server, world.assistant_a)
    tab.goto(live_server + "/scan/")
    started_by_itself(tab)

    tab.wait_for_url(household_page(live_server, world.household_a))
    expect(tab.locator(".scan-banner")).to_contain_text("已扫码：碗窑村 0001 号户")
    assert tab.evaluate("sessionStorage.getItem('tracksStopped')") == "1"  # the camera went off on the way out


def test_the_decoder_that_ran_is_named_on_the_page(camera, live_server, world, session):
    tab = camera(qr_in_frame("https://example.com/"))
    sign_in_on(tab, live_server, world.assistant_a)
    tab.goto(live_server + "/scan/")
    started_by_itself(tab)
    expect(tab.locator("[data-scanner]")).to_have_attribute("data-state", "scanning")
    # Debian's Chromium has no BarcodeDetector, so the vendored qr-scanner did the work in the test above
    expected = "barcode-detector" if tab.evaluate("'BarcodeDetector' in window") else "qr-scanner"
    expect(tab.locator("[data-scanner]")).to_have_attribute("data-decoder-used", expected)


def test_a_card_from_another_public_address_still_opens_here(camera, live_server, world, session):
    tab = camera(qr_in_frame(card_url(session, world, "https://doudi.lincang.example.cn")))
    sign_in_on(tab, live_server, world.assistant_a)
    tab.goto(live_server + "/scan/")
    started_by_itself(tab)
    tab.wait_for_url(household_page(live_server, world.household_a))


def test_the_phones_own_barcode_detector_is_used_when_it_has_one(camera, live_server, world, session):
    url = card_url(session, world, live_server)
    blank = Image.new("RGB", FRAME, "white")  # nothing for qr-scanner to find: only the stand-in knows the card
    tab = camera(blank, FAKE_BARCODE_DETECTOR % json.dumps(url))
    sign_in_on(tab, live_server, world.assistant_a)
    tab.goto(live_server + "/scan/")
    started_by_itself(tab)
    tab.wait_for_url(household_page(live_server, world.household_a))
    assert int(tab.evaluate("sessionStorage.getItem('detectCalls')")) >= 1


def test_the_vendored_decoder_can_be_forced_where_the_phone_has_its_own(camera, live_server, world, session):
    url = card_url(session, world, live_server)
    tab = camera(qr_in_frame(url), FAKE_BARCODE_DETECTOR % json.dumps("https://example.com/"))
    sign_in_on(tab, live_server, world.assistant_a)
    tab.goto(live_server + "/scan/?decoder=qr-scanner")
    started_by_itself(tab)
    tab.wait_for_url(household_page(live_server, world.household_a))  # the stand-in would have said example.com
    assert tab.evaluate("sessionStorage.getItem('detectCalls')") is None


def test_a_foreign_qr_code_is_not_taken_for_a_card(camera, live_server, world):
    tab = camera(qr_in_frame("https://example.com/"))
    sign_in_on(tab, live_server, world.assistant_a)
    tab.goto(live_server + "/scan/")
    started_by_itself(tab)
    expect(tab.get_by_role("status")).to_have_text("这不是兜底通服务卡")
    assert tab.url == live_server + "/scan/"
    expect(tab.locator("[data-scanner]")).to_have_attribute("data-state", "scanning")  # and it keeps looking


def test_deliver_mode_lands_on_the_household_ready_to_confirm_delivery(camera, live_server, world, session):
    tab = camera(qr_in_frame(card_url(session, world, live_server)))
    sign_in_on(tab, live_server, world.assistant_a)
    tab.goto(live_server + "/scan/")
    tab.get_by_role("switch", name="发卡模式").tap()
    expect(tab.get_by_role("switch", name="发卡模式")).to_have_attribute("aria-checked", "true")
    expect(tab.get_by_role("status")).to_contain_text("发卡模式")
    started_by_itself(tab)

    tab.wait_for_url(household_page(live_server, world.household_a, "scan=1&deliver=1"))
    tab.get_by_role("button", name="确认此卡已交到户").tap()
    expect(tab.get_by_role("status").first).to_have_text("已记录：服务卡已交到户")


# ---- no camera: a photo, or the household number -----------------------------------------------


def test_without_a_camera_the_page_says_so_and_offers_a_photo(page, sign_in, live_server, world):
    sign_in(world.assistant_a)
    page.goto(live_server + "/scan/")
    page.get_by_role("button", name="开始扫码").tap()
    expect(page.locator("[data-scanner]")).to_have_attribute("data-state", "no-camera")
    expect(page.get_by_role("status")).to_contain_text("请点“拍照识别”拍下服务卡，或在下面输入户号")
    expect(page.get_by_text("拍照识别", exact=True)).to_be_visible()


def test_a_browser_without_camera_access_says_so_plainly(page, sign_in, live_server, world):
    page.context.add_init_script("Object.defineProperty(Navigator.prototype, 'mediaDevices', {get: () => undefined});")
    sign_in(world.assistant_a)
    page.goto(live_server + "/scan/")
    page.get_by_role("button", name="开始扫码").tap()
    expect(page.get_by_role("status")).to_contain_text("这个浏览器不能直接打开摄像头")


def test_a_photo_of_the_card_opens_its_household(page, sign_in, live_server, world, session):
    face = card_faces(session, [world.household_a], live_server)[0][2]
    sign_in(world.assistant_a)
    page.goto(live_server + "/scan/")
    page.get_by_label("拍照识别二维码").set_input_files(
        files=[{"name": "card.png", "mimeType": "image/png", "buffer": card_png(face)}]
    )
    page.wait_for_url(household_page(live_server, world.household_a))
    expect(page.locator(".scan-banner")).to_contain_text("已扫码")


def test_a_photo_without_a_qr_code_says_so(page, sign_in, live_server, world):
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), "white").save(buffer, "PNG")
    sign_in(world.assistant_a)
    page.goto(live_server + "/scan/")
    page.get_by_label("拍照识别二维码").set_input_files(
        files=[{"name": "wall.png", "mimeType": "image/png", "buffer": buffer.getvalue()}]
    )
    expect(page.get_by_role("status")).to_contain_text("照片里没有找到二维码")


def test_typing_the_household_number_opens_the_household(page, sign_in, live_server, world):
    sign_in(world.assistant_a)
    page.goto(live_server + "/scan/")
    page.get_by_label("输入户号").fill("0001")
    page.get_by_role("button", name="查找").tap()
    page.wait_for_url(f"{live_server}/households/{world.household_a.id}")
    expect(page.locator(".card__title")).to_have_text("张明华")


def test_a_number_outside_the_village_is_not_found(page, sign_in, live_server, world):
    sign_in(world.assistant_a)
    page.goto(live_server + "/scan/")
    page.get_by_label("输入户号").fill("0002")
    page.get_by_role("button", name="查找").tap()
    expect(page.get_by_role("status")).to_have_text("没有找到户号 0002（只查您辖区内的住户）")
    expect(page.get_by_label("输入户号")).to_have_value("0002")
