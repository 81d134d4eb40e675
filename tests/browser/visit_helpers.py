"""What the browser tests of the visit form and of offline work do on the phone, in one place."""

import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect
from sqlmodel import select

from models import Visit

SLOW = 30_000  # shrinking a 12-megapixel photo takes a few seconds on a busy machine


def make_small_photo(folder: Path, name: str = "kitchen.jpg") -> Path:
    """Write an 800×600 JPEG, as a phone's camera would hand over a small one."""
    path = folder / name
    Image.new("RGB", (800, 600), (200, 120, 40)).save(path, "JPEG", quality=90)
    return path


def fill_water_problem_and_a_need(page) -> None:
    page.locator("label[for=check-water-problem]").tap()
    page.get_by_label("饮水的问题").fill("水管冻裂，靠邻居送水")
    need = page.locator("[data-need-row]").first
    need.locator("select").select_option(label="生活物资")
    need.locator("input").fill("需要过冬棉被两床")


def submit(page) -> None:
    page.locator("[data-submit]").tap()


def wait_saved(page, household_url: str) -> None:
    """Wait for the household page the form goes back to once the visit is on the phone (and, online, sent)."""
    page.wait_for_url(re.compile(re.escape(household_url) + r"\?saved=[0-9a-f-]{36}$"), timeout=SLOW)


def signal_back(page) -> None:
    """Tell the page the signal is back now, rather than waiting for the outbox's next retry."""
    page.evaluate("window.dispatchEvent(new Event('online'))")


def outbox_count(page):
    return page.locator("[data-outbox-count]")


def visits(session) -> list[Visit]:
    return list(session.exec(select(Visit)))


def wait_kept(page, text: str = "已存入手机，待上传") -> None:
    """Wait for the form to say the visit is kept on the phone (with no service worker it stays on the form)."""
    expect(page.locator("[data-submit-message]")).to_contain_text(text, timeout=SLOW)
