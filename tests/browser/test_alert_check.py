"""主动发现 in Chromium at phone size: the assistant's task on 首页 opens the visit form with the alert, the outcome
is required before anything leaves the phone, and 临时救助 goes on to the relief form once the visit is saved.

Set SCREENSHOT_DIR to keep 360×640 screenshots of 首页, the list, an alert, and the form's alert block.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from models import Alert, Visit
from tests.alert_helpers import add_alert
from tests.browser.visit_helpers import SLOW, submit


def shot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"alert-{name}.png"))


@pytest.fixture
def context_options() -> dict:
    return {"service_workers": "block"}  # as test_visit_form.py: Playwright sees every request


@pytest.fixture
def planted(session, world):
    red = add_alert(
        session, world.household_a, "alone_no_contact_90", reason="独居，90 天以上无人走访（上次走访 2026-08-20）"
    )
    add_alert(session, world.household_a, "orphan_turning_18", grade="yellow", reason="孤儿 2027-01-15 年满 18 岁")
    add_alert(session, world.household_b, "care_agreement_missing", grade="orange", reason="分散供养特困，未签照料协议")
    return red


def test_the_assistant_checks_an_alert_with_relief_and_lands_on_the_relief_form(
    page, live_server, sign_in, session, world, planted
):
    sign_in(world.assistant_a)
    expect(page.locator("text=待核实预警 · 2 条")).to_be_visible()
    shot(page, "1-home")
    page.locator(".alert-row--red").first.tap()
    page.wait_for_url(re.compile(rf"/households/{world.household_a.id}/visits/new\?alert={planted.id}$"))
    expect(page.locator("[data-alert-check]")).to_contain_text("独居，90 天以上无人走访")
    shot(page, "2-visit-form")
    submit(page)  # no outcome yet: the phone says so, nothing is sent
    expect(page.locator("[data-field=alert_outcome] .field-error")).to_have_text("请选择核实结果")
    page.get_by_label("转介", exact=True).check()
    expect(page.locator("[data-alert-referral]")).to_be_visible()
    submit(page)
    expect(page.locator("[data-field=alert_referral_to] .field-error")).to_have_text("请选择转介到哪里")
    page.locator("[data-alert-check]").scroll_into_view_if_needed()
    shot(page, "3-visit-form-errors")
    page.get_by_label("临时救助", exact=True).check()
    expect(page.locator("[data-alert-referral]")).to_be_hidden()
    assert session.exec(select(Visit)).all() == []
    submit(page)
    page.wait_for_url(f"{live_server}/relief/new?household={world.household_a.id}", timeout=SLOW)
    session.expire_all()
    alert = session.get(Alert, planted.id)
    visit = session.exec(select(Visit)).one()
    assert (alert.state, alert.outcome, alert.visit_id) == ("closed", "relief", visit.id)


def test_the_township_sees_the_list_and_an_alert(page, live_server, sign_in, session, world, planted):
    sign_in(world.township)
    expect(page.locator(".home-alerts")).to_be_visible()
    page.locator(".home-alerts").scroll_into_view_if_needed()
    shot(page, "4-township-home")
    page.goto(f"{live_server}/alerts/")
    expect(page.locator(".alert-row")).to_have_count(3)
    shot(page, "5-list")
    page.goto(f"{live_server}/alerts/{planted.id}")
    expect(page.locator("text=不走访直接办结")).to_be_visible()
    shot(page, "6-alert")
    page.goto(f"{live_server}/alerts/?grade=red")
    expect(page.locator(".alert-row")).to_have_count(1)
    expect(page.locator(".notice--info")).to_contain_text("只显示：红色预警")


def test_the_city_switches_a_rule_off_on_its_settings_page(page, live_server, sign_in, session, world):
    sign_in(world.city)
    page.goto(f"{live_server}/me")
    page.get_by_role("link", name="主动发现规则").tap()
    page.wait_for_url(f"{live_server}/alerts/rules")
    shot(page, "7-rules")
    page.locator("input[name=enabled-orphan_turning_18]").uncheck()
    page.locator("#threshold-alone_no_contact_90").fill("120")
    page.get_by_role("button", name="保存").tap()
    expect(page.locator("text=已保存 2 条规则的设置")).to_be_visible()
    expect(page.locator("#threshold-alone_no_contact_90")).to_have_value("120")
