"""Decisions on the approver's screen: the Done-when stories, stale versions, refusals that change nothing."""

import pytest
from sqlmodel import select

from models import Need, ReliefApplication, ReliefEvent, TownshipFund
from tests.conftest import TOWNSHIP, page_text
from tests.test_relief_pages import (
    add_fund,
    count,
    decide_by_form,
    decided,
    post_form,
    raised,
    show,
    version_in,
    visited,
)

# ---- decisions: the Done-when stories -------------------------------------------------------


def test_story_600_yuan_urgent_from_a_visit_approved_by_the_township_and_paid(as_user, world, session):
    add_fund(session, balance_yuan=10_000)
    visited(session, world)
    need = session.exec(select(Need).where(Need.type == "temporary_relief")).one()
    assistant = as_user("assistant_a")
    post_form(assistant, world, need=need, amount_yuan="600", urgent="1")
    application = session.exec(select(ReliefApplication)).one()
    assert application.urgent and application.need_id == need.id

    township = as_user("township")
    tab = page_text(township.get("/relief/"))
    assert "待我审批" in tab and f"/relief/{application.id}" in tab and "600 元" in tab
    assert "张明华" in tab and "碗窑村 · 0001号 · 急难型·火灾" in tab
    page = page_text(show(township, application))
    assert '余额 <strong class="relief-balance">10,000 元</strong>' in page
    response = decide_by_form(township, application, "approve", version_in(page), amount_yuan="600.00")
    assert response.status_code == 302
    page = page_text(township.get(response.headers["Location"]))
    assert "已批准 600 元，已从乡镇备用金中支出" in page
    assert '余额 <strong class="relief-balance">9,400 元</strong>' in page
    assert "还剩 5 天补齐材料" in page and 'href="#do-pay"' in page
    assert session.get(TownshipFund, TOWNSHIP).balance_fen == 940_000

    response = decide_by_form(
        township, application, "pay", version_in(page), payment_method="cash", payment_reference="XJ-001"
    )
    page = page_text(township.get(response.headers["Location"]))
    assert "已登记发放" in page and "凭证 XJ-001" in page and "已发放" in page
    session.refresh(application)
    assert application.state == "paid" and application.paid_by_id == world.township.id
    steps = [e.action for e in session.exec(select(ReliefEvent).order_by(ReliefEvent.id))]
    assert steps == ["submit", "approve", "pay"]


def test_story_3000_yuan_is_forwarded_by_the_township_and_approved_by_the_county(as_user, world, session):
    add_fund(session, balance_yuan=10_000)
    application = raised(session, world, amount="3000")
    township = as_user("township")
    page = page_text(show(township, application))
    assert "超过乡镇审批额度" in page and 'id="do-approve"' not in page and 'href="#do-forward"' in page
    refused = decide_by_form(township, application, "approve", version_in(page))
    assert refused.status_code == 403 and "金额超过乡镇审批额度，请报县级审批" in page_text(refused, 403)
    session.refresh(application)
    assert application.state == "submitted"

    response = decide_by_form(township, application, "forward", version_in(page), comment="情况属实，建议救助 3000 元")
    assert response.status_code == 302
    county = as_user("county")
    tab = page_text(county.get("/relief/"))
    assert "待县级审批" in tab and f"/relief/{application.id}" in tab
    page = page_text(show(county, application))
    assert "情况属实，建议救助 3000 元" in page and 'href="#do-approve"' in page
    response = decide_by_form(county, application, "approve", version_in(page))
    assert "已批准 3,000 元" in page_text(county.get(response.headers["Location"]))
    session.refresh(application)
    assert application.state == "approved" and application.decided_level == "county"
    assert session.get(TownshipFund, TOWNSHIP).balance_fen == 1_000_000  # the county's money, not the township's


def test_a_stale_version_is_told_it_was_already_handled(as_user, world, session):
    add_fund(session)
    application = raised(session, world)
    township = as_user("township")
    seen = version_in(page_text(show(township, application)))
    decided(session, world.township, application, "approve")  # another officer, a moment earlier
    response = decide_by_form(township, application, "reject", seen, comment="不符合条件")
    body = page_text(response, 409)
    assert response.status_code == 409 and "已被处理" in body and "已批准，待发放" in body
    session.refresh(application)
    assert application.state == "approved" and count(session, ReliefEvent) == 2


def test_a_reason_is_required_to_reject_and_the_dialog_reopens_with_the_message(as_user, world, session):
    application = raised(session, world)
    response = decide_by_form(as_user("township"), application, "reject", application.version, comment=" ")
    body = page_text(response, 400)
    assert response.status_code == 400 and "不批准请写明理由" in body
    assert 'class="relief-dialog relief-dialog--open" id="do-reject"' in body
    session.refresh(application)
    assert application.state == "submitted"


@pytest.mark.parametrize("amount", ["0", "-5", "1000001", "abc", "1.234", "700"])
def test_bad_approved_amounts_are_refused_and_the_reserve_is_untouched(as_user, world, session, amount):
    add_fund(session)
    application = raised(session, world)
    response = decide_by_form(as_user("township"), application, "approve", application.version, amount_yuan=amount)
    assert response.status_code == 400 and "notice--error" in page_text(response, 400)
    session.refresh(application)
    assert application.state == "submitted" and session.get(TownshipFund, TOWNSHIP).balance_fen == 1_000_000


def test_an_approval_the_reserve_cannot_cover_names_the_balance_and_changes_nothing(as_user, world, session):
    add_fund(session, balance_yuan=500)
    application = raised(session, world)
    response = decide_by_form(as_user("township"), application, "approve", application.version)
    assert response.status_code == 400 and "还剩 500 元" in page_text(response, 400)
    session.refresh(application)
    assert application.state == "submitted" and session.get(TownshipFund, TOWNSHIP).balance_fen == 50_000


def test_decisions_require_login(client, world, session):
    application = raised(session, world)
    response = decide_by_form(client, application, "approve", application.version)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_city_officer_only_watches(as_user, world, session):
    application = raised(session, world)
    body = page_text(show(as_user("city"), application))
    assert "decision-bar" not in body
    response = decide_by_form(as_user("city"), application, "approve", application.version)
    assert response.status_code == 403 and "您现在不能审批这份申请" in page_text(response, 403)
