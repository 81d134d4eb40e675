"""Care pages in Chromium at 360 px: the household's 照料安排, the agreement form, the request list; 自理能力 asked in
the visit form and sent with the visit, online and with no signal (the rows built from the offline pack).

Set SCREENSHOT_DIR to keep 360×640 screenshots of the pages.
"""

import os
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import expect
from sqlmodel import select

from models import InstitutionRequest, Person
from services.clock import today_in_china
from tests.browser.test_offline import NO_SIGNAL, drain, offline_phone  # noqa: F401  (a fixture)
from tests.browser.visit_helpers import SLOW, submit, wait_saved
from tests.care_helpers import add_agreement
from tests.payouts_helpers import head_of

WIDTH = 360


def shot(page, name: str, full_page: bool = False) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"care-{name}.png"), full_page=full_page)


def scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_the_care_pages_fit_a_phone(page, live_server, sign_in, world, session):
    head = head_of(session, world.household_b)
    today = today_in_china()
    add_agreement(
        session, world.household_b, head, by=world.township, signed_on=today, valid_until=today + timedelta(20)
    )
    session.add(
        InstitutionRequest(
            open_person_id=head.id,
            person_id=head.id,
            household_id=world.household_b.id,
            area_code=world.household_b.area_code,
            requested_by_id=world.township.id,
        )
    )
    session.commit()
    sign_in(world.township)
    widths = {}
    page.goto(f"{live_server}/households/{world.household_b.id}#care")
    expect(page.locator(".care-agreements")).to_contain_text("杨照料")
    page.locator("#care").scroll_into_view_if_needed()
    shot(page, "1-household-section")
    widths["household"] = scroll_width(page)
    page.goto(f"{live_server}/households/{world.household_b.id}/agreements/new")
    expect(page.locator("textarea[name=duties]")).to_contain_text("平日有人照应")
    shot(page, "2-agreement-form")
    shot(page, "2-agreement-form-full", full_page=True)
    widths["form"] = scroll_width(page)
    page.goto(f"{live_server}/households/{world.household_b.id}")
    page.locator(".care-agreements a").first.tap()
    expect(page.locator(".card__title")).to_have_text("三方委托照料服务协议")
    shot(page, "3-agreement", full_page=True)
    widths["agreement"] = scroll_width(page)
    page.goto(f"{live_server}/care/requests")
    expect(page.locator(".care-requests")).to_contain_text("杨梅国")
    shot(page, "4-requests")
    widths["requests"] = scroll_width(page)
    page.locator(".care-requests a").first.tap()
    expect(page.get_by_role("button", name="确认申请，报县（区）安置")).to_be_visible()
    shot(page, "5-request", full_page=True)
    widths["request"] = scroll_width(page)
    assert {name: w for name, w in widths.items() if w > WIDTH} == {}


def test_self_care_tapped_in_the_visit_form_is_saved_on_the_member(page, live_server, sign_in, world, session):
    sign_in(world.assistant_a)
    household_url = f"{live_server}/households/{world.household_a.id}"
    page.goto(household_url + "/visits/new")
    row = page.locator(f"[data-self-care-person='{world.head_a.id}']")
    expect(row).to_contain_text("张明华")
    row.locator("label", has_text="半自理").tap()
    row.scroll_into_view_if_needed()
    shot(page, "6-visit-self-care")
    submit(page)
    wait_saved(page, household_url)
    session.expire_all()
    assert session.get(Person, world.head_a.id).self_care == "partial"


def test_with_no_signal_the_form_asks_self_care_of_the_packs_members(
    offline_phone,  # noqa: F811
    page,
    live_server,
    world,
    session,
    page_errors,
):
    page_errors.expect(NO_SIGNAL)
    page.goto(offline_phone)
    page.get_by_role("link", name="开始走访").tap()
    row = page.locator(f"[data-self-care-person='{world.head_a.id}']")
    expect(row).to_contain_text("张明华", timeout=SLOW)
    row.locator("label", has_text="全护理").tap()
    submit(page)
    wait_saved(page, offline_phone)
    page.context.set_offline(False)
    drain(page)
    session.expire_all()
    assert session.get(Person, world.head_a.id).self_care == "none"
    assert session.exec(select(Person).where(Person.self_care.is_not(None))).all() != []
