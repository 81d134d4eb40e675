"""主动发现 with no signal, in Chromium at phone size: the assistant's alert tasks come down with the offline pack,
首页 lists them with no signal, the visit form checks one from the pack, and the check lands with the visit.

Set SCREENSHOT_DIR to keep 360×640 screenshots of the offline 首页 with its tasks and of the form's alert block.
"""

import re

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from models import Alert, Visit
from tests.alert_helpers import add_alert
from tests.browser.test_offline import NO_SIGNAL, ready_for_no_signal, shot
from tests.browser.visit_helpers import SLOW, outbox_count, submit, visits, wait_saved


@pytest.fixture
def planted(session, world):
    red = add_alert(
        session, world.household_a, "alone_no_contact_90", reason="独居，90 天以上无人走访（上次走访 2026-08-20）"
    )
    yellow = add_alert(
        session, world.household_a, "orphan_turning_18", grade="yellow", reason="孤儿 2027-01-15 年满 18 岁"
    )
    add_alert(
        session,
        world.household_b,
        "care_agreement_missing",
        grade="orange",
        assigned_to=world.assistant_b.id,
        reason="勐准村：分散供养特困，未签照料协议",
    )
    return red, yellow


@pytest.fixture
def offline_with_tasks(page, live_server, sign_in, world, planted, page_errors):
    """Assistant A online once (the pack and its tasks reach the phone), then no signal."""
    page_errors.expect(NO_SIGNAL)
    sign_in(world.assistant_a)
    ready_for_no_signal(page)
    page.context.set_offline(True)
    return planted


def tasks(page):
    return page.locator("[data-offline-tasks] .alert-row")


def check_red_with_dibao_offline(page, live_server, world, red) -> str:
    """With no signal, open 首页, tap the red task, pick 纳入低保 and save; return the household's URL."""
    page.goto(live_server + "/")
    tasks(page).first.tap()
    page.wait_for_url(re.compile(rf"/households/{world.household_a.id}/visits/new\?alert={red.id}$"))
    page.get_by_label("纳入低保", exact=True).check()
    submit(page)
    household_url = f"{live_server}/households/{world.household_a.id}"
    wait_saved(page, household_url)
    return household_url


def test_with_no_signal_the_task_is_checked_from_the_pack_and_lands_with_the_visit(
    offline_with_tasks, page, live_server, world, session
):
    red, yellow = offline_with_tasks
    page.goto(live_server + "/")
    expect(page.locator("[data-offline-home]")).to_contain_text("待核实预警 · 2 条")
    expect(tasks(page)).to_have_count(2)  # village B's task is not on this phone
    expect(tasks(page).first).to_have_class(re.compile("alert-row--red"))
    expect(tasks(page).first).to_contain_text("独居无人联系")
    expect(tasks(page).first).to_contain_text("张明华")
    expect(tasks(page).nth(1)).to_contain_text("孤儿 2027-01-15 年满 18 岁")
    expect(page.locator("body")).not_to_contain_text("勐准村：分散供养特困")
    shot(page, "10-home-tasks")

    tasks(page).first.tap()
    page.wait_for_url(re.compile(rf"/households/{world.household_a.id}/visits/new\?alert={red.id}$"))
    block = page.locator("[data-alert-check]")
    expect(block).to_contain_text("独居，90 天以上无人走访")
    expect(block.locator(".tag--grade-red")).to_have_text("红")
    submit(page)  # no outcome yet: said on the phone, as online
    expect(page.locator("[data-field=alert_outcome] .field-error")).to_have_text("请选择核实结果")
    page.get_by_label("转介", exact=True).check()
    expect(block.locator("[data-alert-referral]")).to_be_visible()
    block.scroll_into_view_if_needed()
    shot(page, "11-visit-alert-block")
    page.get_by_label("纳入低保", exact=True).check()
    page.get_by_label("核实说明").fill("家中无劳动力，符合低保条件")
    submit(page)
    household_url = f"{live_server}/households/{world.household_a.id}"
    wait_saved(page, household_url)

    page.goto(live_server + "/")  # the task is done on this phone: not a second time
    expect(page.locator("[data-offline-home]")).to_contain_text("待核实预警 · 1 条（另有 1 条已核实）")
    expect(tasks(page).nth(1)).to_contain_text("已核实，待上传")
    expect(tasks(page).nth(1)).to_contain_text("独居，90 天以上无人走访")
    assert tasks(page).nth(1).evaluate("row => row.tagName") == "DIV"  # nothing to tap
    shot(page, "12-home-task-checked")
    page.goto(f"{household_url}/visits/new?alert={red.id}")
    expect(page.locator("[data-alert-settled]")).to_be_visible()
    expect(page.locator("[name=alert_id]")).to_have_count(0)
    assert visits(session) == []

    page.context.set_offline(False)
    page.goto(household_url)
    expect(outbox_count(page).first).to_have_text("0 条待上传", timeout=SLOW)
    session.expire_all()
    [visit] = visits(session)
    alert = session.get(Alert, red.id)
    assert (alert.state, alert.outcome, alert.outcome_note, alert.visit_id) == (
        "closed",
        "dibao",
        "家中无劳动力，符合低保条件",
        visit.id,
    )
    assert session.get(Alert, yellow.id).state == "assigned"

    # Back in the mountains: 首页 shows the one task left, whichever copy of the pack the phone holds now.
    page.context.set_offline(True)
    page.goto(live_server + "/")
    expect(page.locator("[data-offline-home]")).to_contain_text("待核实预警 · 1 条")
    expect(tasks(page)).to_have_count(1)
    expect(tasks(page).first).to_contain_text("孤儿 2027-01-15 年满 18 岁")


def test_a_task_closed_meanwhile_leaves_the_visit_needing_attention_with_the_servers_words(
    offline_with_tasks, page, live_server, world, session, page_errors
):
    page_errors.expect(r"status of 409")
    red, _yellow = offline_with_tasks
    check_red_with_dibao_offline(page, live_server, world, red)
    alert = session.get(Alert, red.id)  # the township closed it from its list while the phone had no signal
    alert.state, alert.outcome, alert.outcome_note, alert.open_key = "closed", "resolved", "电话核实", None
    session.add(alert)
    session.commit()

    page.context.set_offline(False)
    page.goto(live_server + "/outbox")
    entry = page.locator("[data-outbox-list] [data-outbox-state=attention]")
    expect(entry).to_have_count(1, timeout=SLOW)
    expect(entry).to_contain_text("这条预警已经办结，不用再核实")
    assert session.exec(select(Visit)).all() == []

    page.context.set_offline(True)
    page.goto(live_server + "/")
    expect(page.locator("[data-offline-home]")).to_contain_text("没有上传，需要处理")
    expect(page.locator("[data-offline-tasks] a[href='/outbox']")).to_have_count(1)


def test_with_no_signal_relief_as_the_outcome_goes_on_to_the_relief_form_from_the_pack(
    offline_with_tasks, page, live_server, world
):
    _red, yellow = offline_with_tasks
    page.goto(f"{live_server}/households/{world.household_a.id}/visits/new?alert={yellow.id}")
    page.get_by_label("临时救助", exact=True).check()
    expect(page.locator("[data-alert-relief-tip]")).to_be_visible()
    submit(page)
    page.wait_for_url(f"{live_server}/relief/new?household={world.household_a.id}", timeout=SLOW)
    expect(page.locator("[data-relief-form] [data-fill=head]")).to_contain_text("张明华")
    expect(outbox_count(page).first).to_have_text("1 条待上传")
