"""Browser fixtures: a live server with real CSRF, Chromium at phone size, and a console watch.

Every page the tests open is watched: a console error, an uncaught exception or a Content
Security Policy violation fails the test. A test that provokes an error on purpose (a 404
page, a form answered with 400) says so with `page_errors.expect("...")`.
"""

import os
import re
import shutil
from dataclasses import dataclass, field

import pytest

from tests.browser.visit_helpers import make_small_photo
from tests.conftest import PASSWORD

CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {
    "viewport": {"width": 360, "height": 640},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
# Report CSP violations from inside the page too: not every violation reaches the console.
WATCH_CSP = """
document.addEventListener("securitypolicyviolation", function (event) {
  window.__reportCsp(event.violatedDirective + " blocked " + (event.blockedURI || "inline") +
                     " at " + event.sourceFile + ":" + event.lineNumber);
});
"""


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives a real Chromium against a live server (slow)")


def pytest_collection_modifyitems(config, items):
    """Mark every test in this folder as a browser test, and skip them all without Chromium."""
    here = str(config.rootpath / "tests" / "browser")
    skip = pytest.mark.skip(reason="Chromium is not installed (apt-get install chromium); browser tests skipped")
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.browser)
            if CHROMIUM is None and not os.environ.get("REQUIRE_BROWSER"):
                item.add_marker(skip)


@dataclass
class PageErrors:
    """Console errors, page exceptions and CSP violations seen while a test ran."""

    seen: list[str] = field(default_factory=list)
    expected: list[re.Pattern] = field(default_factory=list)

    def expect(self, pattern: str) -> None:
        """Allow console errors matching a regular expression (the test provokes them on purpose)."""
        self.expected.append(re.compile(pattern))

    def add(self, message: str) -> None:
        self.seen.append(message)

    def unexpected(self) -> list[str]:
        """Return the errors no test asked for."""
        return [m for m in self.seen if not any(p.search(m) for p in self.expected)]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail the test itself (not its teardown) when its page logged an error."""
    result = yield
    errors = item.funcargs.get("page_errors") if hasattr(item, "funcargs") else None
    if errors is not None and errors.unexpected():
        pytest.fail("The page logged errors:\n" + "\n".join(errors.unexpected()), pytrace=False)
    return result


@pytest.fixture(scope="session")
def browser():
    """Start one headless Chromium for the whole run."""
    if CHROMIUM is None:
        if os.environ.get("REQUIRE_BROWSER"):  # CI: a missing browser must fail, not pass quietly
            pytest.fail("Chromium is not installed but REQUIRE_BROWSER is set")
        pytest.skip("Chromium is not installed (apt-get install chromium); browser tests skipped")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def page_errors():
    return PageErrors()


@pytest.fixture
def app_photos(live_server, tmp_path):
    """Return where the live server stores photos (make_app puts them in the test's tmp_path)."""
    return tmp_path / "photos"


@pytest.fixture
def small_photo(tmp_path):
    """Return an 800×600 JPEG to hand to a photo input."""
    return make_small_photo(tmp_path)


@pytest.fixture
def context_options() -> dict:
    """Return extra options for the phone's browser context (a test module may override this fixture)."""
    return {}


@pytest.fixture
def page(browser, page_errors, context_options):
    """Open a fresh 360×640 phone page (zh-CN, touch) whose errors are collected."""
    context = browser.new_context(**PHONE, **context_options)
    context.set_default_timeout(5000)
    context.expose_function("__reportCsp", lambda message: page_errors.add("CSP violation: " + message))
    context.add_init_script(WATCH_CSP)
    tab = watched(context.new_page(), page_errors)
    yield tab
    context.close()


def watched(tab, page_errors):
    """Collect a tab's console errors and uncaught exceptions into page_errors; return the tab."""
    tab.on("console", lambda msg: msg.type == "error" and page_errors.add(f"console: {msg.text} ({msg.location})"))
    tab.on("pageerror", lambda error: page_errors.add(f"page error: {error}"))
    return tab


@pytest.fixture
def sign_in(page, live_server):
    """Return a function that logs a user in through the real login form and lands on 首页."""

    def sign_in_as(user, tab=None, base: str | None = None) -> None:
        tab, base = tab or page, base or live_server  # another tab, or the server seen through a proxy
        tab.goto(base + "/login")
        tab.get_by_placeholder("请输入用户名").fill(user.username)
        tab.get_by_placeholder("请输入密码").fill(PASSWORD)
        tab.get_by_role("button", name="登录").tap()
        tab.wait_for_url(base + "/")

    return sign_in_as
