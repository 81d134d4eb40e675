"""补贴项目和标准: the city sets amounts per band and each program's deadlines, and opens 价格临时补贴 periods;
every change is audited with before and after; one wrong field changes nothing; only the city (and admin) may."""

import json

import pytest
from sqlmodel import select

from models import AuditEvent, PriceSubsidyPeriod, Program, ProgramStandard
from services.payouts.programs import all_programs
from tests.conftest import page_text


def current_form(session) -> dict:
    """Return the standards form as the page fills it (every field at its stored value)."""
    form = {}
    for standard in session.exec(select(ProgramStandard)):
        form[f"amount-{standard.program_code}-{standard.band or 'flat'}"] = f"{standard.amount_fen / 100:.2f}"
    for code, program in all_programs(session).items():
        form[f"due_day-{code}"] = str(program.results_due_day)
        form[f"correction_days-{code}"] = str(program.correction_days)
    return form


def amount(session, program, band) -> int:
    return session.exec(
        select(ProgramStandard.amount_fen).where(ProgramStandard.program_code == program, ProgramStandard.band == band)
    ).one()


def changes(session) -> list[dict]:
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "payouts.standard_changed")).all()
    return [json.loads(e.detail) for e in events]


def test_city_sees_every_program_with_its_cadence_and_how_it_is_set(as_user, world):
    body = page_text(as_user("city").get("/payouts/standards"))
    for name in ("城乡低保", "重度残疾人护理补贴", "高龄补贴", "价格临时补贴"):
        assert name in body
    assert "按年 · 按年龄段" in body and "按月 · 按残疾等级" in body
    assert 'name="amount-disability_care-1" value="100.00"' in body
    assert "还没有开放过价格临时补贴" in body


def test_city_changes_an_amount_and_a_deadline_and_both_are_audited(as_user, world, session):
    form = {**current_form(session), "amount-disability_care-1": "120", "correction_days-dibao": "30"}
    response = as_user("city").post("/payouts/standards", data=form)
    assert response.status_code == 302
    session.expire_all()
    assert amount(session, "disability_care", "1") == 12000
    assert session.get(Program, "dibao").correction_days == 30
    assert {(c.get("band"), c.get("field"), c["before"], c["after"]) for c in changes(session)} == {
        ("1", None, 10000, 12000),
        (None, "correction_days", 15, 30),
    }


def test_saving_the_same_values_changes_nothing(as_user, world, session):
    response = as_user("city").post("/payouts/standards", data=current_form(session))
    assert response.status_code == 302
    assert changes(session) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount-elderly-90", "-5", "金额"),
        ("amount-elderly-90", "abc", "金额格式不对"),
        ("amount-elderly-90", "200000", "不能超过"),
        ("amount-disability_living-flat", "", "不能清空"),
        ("due_day-elderly", "29", "1–28"),
        ("correction_days-elderly", "0", "1–90"),
        ("correction_days-elderly", "91", "1–90"),
    ],
)
def test_a_wrong_field_is_refused_in_chinese_and_nothing_changes(as_user, world, session, field, value, message):
    form = {**current_form(session), "amount-disability_care-1": "150", field: value}
    body = page_text(as_user("city").post("/payouts/standards", data=form), 400)
    assert message in body and "没有保存任何改动" in body
    session.expire_all()
    assert amount(session, "disability_care", "1") == 10000
    assert changes(session) == []


def test_city_opens_a_price_subsidy_period_for_chosen_categories(as_user, world, session):
    data = {"start_month": "2026-03", "end_month": "2026-05", "amount": "30", "categories": ["dibao", "tekun_central"]}
    response = as_user("city").post("/payouts/standards/price", data=data)
    assert response.status_code == 302
    period = session.exec(select(PriceSubsidyPeriod)).one()
    assert (period.start_month, period.end_month, period.amount_fen) == ("2026-03", "2026-05", 3000)
    assert json.loads(period.categories) == ["dibao", "tekun_central"]
    (change,) = changes(session)
    assert change["before"] is None and change["after"]["categories"] == ["dibao", "tekun_central"]
    body = page_text(as_user("city").get("/payouts/standards"))
    assert "2026年3月至2026年5月" in body and "每人每月 30 元" in body and "低保、特困（集中供养）" in body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"start_month": "2026-05", "end_month": "2026-03", "amount": "30", "categories": ["dibao"]}, "不能早于"),
        ({"start_month": "2026-13", "end_month": "2026-03", "amount": "30", "categories": ["dibao"]}, "2026-03"),
        ({"start_month": "2026", "end_month": "2026-03", "amount": "30", "categories": ["dibao"]}, "2026-03"),
        ({"start_month": "2026-03", "end_month": "2026-03", "amount": "0", "categories": ["dibao"]}, "大于 0"),
        ({"start_month": "2026-03", "end_month": "2026-03", "amount": "30"}, "请勾选"),
        ({"start_month": "2026-03", "end_month": "2026-03", "amount": "30", "categories": ["nobody"]}, "请勾选"),
    ],
)
def test_a_wrong_price_period_is_refused_and_nothing_is_opened(as_user, world, session, data, message):
    body = page_text(as_user("city").post("/payouts/standards/price", data=data), 400)
    assert message in body and "处填写不对；没有开放" in body
    assert session.exec(select(PriceSubsidyPeriod)).first() is None
    assert changes(session) == []


def test_admin_may_set_standards_too(as_user, world):
    page_text(as_user("admin").get("/payouts/standards"))


@pytest.mark.parametrize("who", ["county", "township", "assistant_a"])
def test_everyone_but_the_city_gets_403(as_user, world, session, who):
    client = as_user(who)
    assert client.get("/payouts/standards").status_code == 403
    assert client.post("/payouts/standards", data=current_form(session)).status_code == 403
    data = {"start_month": "2026-03", "end_month": "2026-03", "amount": "30", "categories": ["dibao"]}
    assert client.post("/payouts/standards/price", data=data).status_code == 403
    assert session.exec(select(PriceSubsidyPeriod)).first() is None


def test_standards_need_login(client, world):
    assert client.get("/payouts/standards").status_code == 302


@pytest.mark.parametrize(("who", "links"), [("city", ["补贴项目和标准", "补贴发放"]), ("county", ["导出应发名册"])])
def test_me_links_to_the_payouts_pages(as_user, world, who, links):
    body = page_text(as_user(who).get("/me"))
    for link in links:
        assert link in body
    if who == "county":
        assert "补贴项目和标准" not in body
