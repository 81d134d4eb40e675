"""Township funds: the county sets its townships' approval limit, reserve and paperwork days; audited; scoped."""

import json
from uuid import uuid4

import pytest
from sqlmodel import select

from models import Area, AuditEvent, Person, TownshipFund
from services.api.relief_schemas import ReliefIn
from services.audit import Actor
from services.clock import china_year
from services.errors import Invalid
from services.relief.apply import create_application
from services.relief.funds import FundIn, change_fund, parse_fund_form
from services.relief.machine import Decision, NotAllowed, allowed_actions, decide
from tests.conftest import OTHER_VILLAGE, TOWNSHIP, VILLAGE_A, login

NANMEI = "530902200000"  # 南美拉祜族乡, another township of 临翔区
FENGQING_TOWNSHIP = OTHER_VILLAGE[:9] + "000"
FORM = {"limit_yuan": "1000", "reserve_yuan": "10000", "paperwork_days": "5"}


def post_fund(client, code: str, **fields):
    return client.post(f"/relief/overview/funds/{code}", data={**FORM, **fields})


def fund_of(session, code: str) -> TownshipFund:
    session.expire_all()
    return session.get(TownshipFund, code)


def fund_audits(session) -> list[dict]:
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "fund.changed").order_by(AuditEvent.id))
    return [json.loads(event.detail) for event in events]


def raise_and_approve(session, world, amount: str):
    """Raise an application in 碗窑村 and have the township approve it; return the application."""
    head = session.exec(select(Person).where(Person.household_id == world.household_a.id, Person.is_head)).one()
    payload = ReliefIn(
        uuid=uuid4(),
        household_id=world.household_a.id,
        person_id=head.id,
        reason="sudden_illness",
        circumstances="突发重病住院",
        amount_yuan=amount,
        payment_form="card",
    )
    application, _ = create_application(session, Actor(world.assistant_a), payload)
    session.commit()
    decide(session, Actor(world.township), application, Decision(action="approve", version=application.version))
    session.commit()
    return application


# ---- the pages -----------------------------------------------------------------------------


def test_county_lists_its_townships_with_limit_and_balance(as_user, session, world):
    client = as_user("county")
    assert post_fund(client, TOWNSHIP, reserve_yuan="8000").status_code == 302
    html = client.get("/relief/overview/funds").get_data(as_text=True)
    assert "博尚镇" in html and "南美拉祜族乡" in html and "余额 8,000" in html
    assert "额度 1,000 元" in html and "未设" in html  # the townships not set yet say so
    assert "凤庆" not in html and FENGQING_TOWNSHIP not in html


def test_city_lists_townships_of_every_county(as_user, world):
    html = as_user("city").get("/relief/overview/funds").get_data(as_text=True)
    assert "临翔区" in html and "凤庆县" in html and "博尚镇" in html and FENGQING_TOWNSHIP in html


def test_county_sets_limit_reserve_and_days_and_it_is_audited(as_user, session, world):
    client = as_user("county")
    form = client.get(f"/relief/overview/funds/{TOWNSHIP}").get_data(as_text=True)
    assert 'name="limit_yuan" value="1000.00"' in form and "备用金 − 今年乡镇已批出的金额" in form
    response = post_fund(client, TOWNSHIP, limit_yuan="1500", reserve_yuan="20000.50", paperwork_days="7")
    assert response.status_code == 302
    assert "已保存博尚镇的设置" in client.get(response.headers["Location"]).get_data(as_text=True)
    fund = fund_of(session, TOWNSHIP)
    assert (fund.approval_limit_fen, fund.reserve_fen, fund.balance_fen, fund.paperwork_days) == (
        150_000,
        2_000_050,
        2_000_050,
        7,
    )
    assert fund.year == china_year()
    [detail] = fund_audits(session)
    assert detail["township"] == TOWNSHIP and detail["old"] is None
    assert detail["new"]["limit_yuan"] == "1500.00" and detail["new"]["reserve_yuan"] == "20000.50"

    post_fund(client, TOWNSHIP, limit_yuan="1200", reserve_yuan="20000.50", paperwork_days="7")
    later = fund_audits(session)[-1]
    assert later["old"]["limit_yuan"] == "1500.00" and later["new"]["limit_yuan"] == "1200.00"


def test_saving_the_same_values_changes_and_audits_nothing(as_user, session, world):
    client = as_user("county")
    post_fund(client, TOWNSHIP)
    response = post_fund(client, TOWNSHIP)
    assert "没有改动" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert len(fund_audits(session)) == 1


def test_reserve_sets_the_balance_to_reserve_minus_this_years_township_approvals(as_user, session, world):
    client = as_user("county")
    post_fund(client, TOWNSHIP, reserve_yuan="10000")
    raise_and_approve(session, world, "600")
    assert fund_of(session, TOWNSHIP).balance_fen == 940_000
    post_fund(client, TOWNSHIP, reserve_yuan="12000")  # a top-up: the new total, not the difference
    fund = fund_of(session, TOWNSHIP)
    assert (fund.reserve_fen, fund.balance_fen) == (1_200_000, 1_140_000)
    assert "已批出 600 元" in client.get(f"/relief/overview/funds/{TOWNSHIP}").get_data(as_text=True)  # 今年已批出


def test_reserve_below_what_was_already_approved_is_refused(as_user, session, world):
    client = as_user("county")
    post_fund(client, TOWNSHIP, reserve_yuan="10000")
    raise_and_approve(session, world, "600")
    response = post_fund(client, TOWNSHIP, reserve_yuan="500")
    assert response.status_code == 400
    assert "今年乡镇已批出 600 元，备用金不能少于这个数" in response.get_data(as_text=True)
    fund = fund_of(session, TOWNSHIP)
    assert (fund.reserve_fen, fund.balance_fen) == (1_000_000, 940_000)


def test_raising_the_limit_lets_the_township_approve_the_next_application(as_user, session, world):
    client = as_user("county")
    post_fund(client, TOWNSHIP, reserve_yuan="10000")
    head = session.exec(select(Person).where(Person.household_id == world.household_a.id, Person.is_head)).one()
    payload = ReliefIn(
        uuid=uuid4(),
        household_id=world.household_a.id,
        person_id=head.id,
        reason="medical",
        circumstances="住院",
        amount_yuan="1200",
        payment_form="card",
    )
    application, _ = create_application(session, Actor(world.assistant_a), payload)
    session.commit()
    assert "approve" not in allowed_actions(session, world.township, application)
    with pytest.raises(NotAllowed, match="超过乡镇审批额度"):
        decide(session, Actor(world.township), application, Decision(action="approve", version=application.version))
    session.rollback()

    assert post_fund(client, TOWNSHIP, limit_yuan="1500", reserve_yuan="10000").status_code == 302
    session.expire_all()
    assert "approve" in allowed_actions(session, world.township, application)
    decide(session, Actor(world.township), application, Decision(action="approve", version=application.version))
    session.commit()
    assert application.state == "approved" and fund_of(session, TOWNSHIP).balance_fen == 880_000


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"limit_yuan": "-5"}, "审批额度：金额必须大于 0"),
        ({"limit_yuan": "0"}, "审批额度：金额必须大于 0"),
        ({"limit_yuan": "一千"}, "审批额度：金额格式不对"),
        ({"limit_yuan": ""}, "请填写审批额度"),
        ({"reserve_yuan": "2000000"}, "备用金：金额不能超过 100 万元"),
        ({"reserve_yuan": "10.001"}, "备用金：金额最多保留两位小数"),
        ({"reserve_yuan": ""}, "请填写备用金，没有就填 0"),
        ({"paperwork_days": "0"}, "补材料期限请填 1 到 60 之间的整天数"),
        ({"paperwork_days": "abc"}, "补材料期限请填 1 到 60 之间的整天数"),
    ],
)
def test_bad_values_are_refused_with_a_plain_message_and_change_nothing(as_user, session, world, fields, message):
    client = as_user("county")
    response = post_fund(client, TOWNSHIP, **fields)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert fund_of(session, TOWNSHIP) is None and fund_audits(session) == []


def test_reserve_may_be_zero():
    assert parse_fund_form({**FORM, "reserve_yuan": "0"}).reserve_fen == 0
    assert parse_fund_form({**FORM, "reserve_yuan": "0.00"}).reserve_fen == 0
    with pytest.raises(Invalid):
        parse_fund_form({**FORM, "reserve_yuan": "-0.5"})


def test_city_sets_a_township_of_any_county(as_user, session, world):
    assert post_fund(as_user("city"), FENGQING_TOWNSHIP, reserve_yuan="3000").status_code == 302
    assert fund_of(session, FENGQING_TOWNSHIP).balance_fen == 300_000


def test_township_sees_its_own_fund_read_only(as_user, session, world):
    change_fund(session, Actor(world.county), session.get(Area, TOWNSHIP), FundIn(120_000, 500_000, 5))
    session.commit()
    client = as_user("township")
    listing = client.get("/relief/overview/funds").get_data(as_text=True)
    assert "博尚镇" in listing and "南美" not in listing and "余额 5,000" in listing
    page = client.get(f"/relief/overview/funds/{TOWNSHIP}").get_data(as_text=True)
    assert "1,200 元" in page and "由县（区）民政局设置" in page and 'name="limit_yuan"' not in page
    assert post_fund(client, TOWNSHIP, limit_yuan="99999").status_code == 403
    assert fund_of(session, TOWNSHIP).approval_limit_fen == 120_000


def test_fund_pages_require_login(client, world):
    for url in ("/relief/overview/funds", f"/relief/overview/funds/{TOWNSHIP}"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_assistants_get_403(as_user, world):
    client = as_user("assistant_a")
    assert client.get("/relief/overview/funds").status_code == 403
    assert client.get(f"/relief/overview/funds/{TOWNSHIP}").status_code == 403
    assert post_fund(client, TOWNSHIP).status_code == 403


def test_township_out_of_scope_gets_404(client, session, world):
    login(client, world.county)
    assert client.get(f"/relief/overview/funds/{FENGQING_TOWNSHIP}").status_code == 404
    assert post_fund(client, FENGQING_TOWNSHIP).status_code == 404
    assert client.get(f"/relief/overview/funds/{VILLAGE_A}").status_code == 404  # not a township
    assert client.get("/relief/overview/funds/530902000000").status_code == 404
    login(client, world.township)
    assert client.get(f"/relief/overview/funds/{NANMEI}").status_code == 404
    assert fund_of(session, FENGQING_TOWNSHIP) is None
