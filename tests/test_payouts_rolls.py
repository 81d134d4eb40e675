"""应发名册: the county exports who is due a program for a period, in the bank's result-file columns; the bank fills in
what it paid and the same file imports back with no errors and no problems; whole ID numbers only for the county."""

import json
from datetime import date
from io import BytesIO
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from models import AuditEvent, Person, PriceSubsidyPeriod, ProgramStandard
from services.audit import Actor
from services.clock import today_in_china
from services.payouts import reconcile
from tests.conftest import OTHER_COUNTY, VILLAGE_B, add_household, page_text
from tests.payout_files import HEADER
from tests.payouts_helpers import head_of, label, month

NO_ID_NAME = "岩保"


@pytest.fixture
def disabled(session, world):
    """张明华 (grade 1) and 杨梅国 (grade 2) are due 护理补贴; 岩保 (grade 1) has no ID number; 段明 is 凤庆's."""
    for household, grade in ((world.household_a, 1), (world.household_b, 2), (world.household_other, 1)):
        head_of(session, household).disability_grade = grade
    no_id = add_household(session, VILLAGE_B, "0009", NO_ID_NAME, None, categories=())
    head_of(session, no_id).disability_grade = 1
    session.commit()
    return world


def roll_body(client, program="disability_care", period=None) -> str:
    return page_text(client.get("/payouts/rolls", query_string={"program": program, "period": period or month(1)}))


def download(client, program="disability_care", period=None, status=200):
    response = client.post(
        "/payouts/rolls/download", data={"program": program, "period": period or month(1), "csrf_token": "x"}
    )
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    return response


def sheet_rows(response) -> list[list]:
    book = load_workbook(BytesIO(response.data))
    return [list(row) for row in book.active.iter_rows(values_only=True)]


def test_county_sees_the_count_and_total_and_who_cannot_go_on_the_roll(as_user, disabled):
    body = roll_body(as_user("county"))
    assert f"临翔区 {label(month(1))} 重度残疾人护理补贴 应发名册" in body
    assert "<strong data-rows>2</strong>" in body
    assert "<strong data-total>180</strong>" in body  # 100 (一级) + 80 (二级) 元
    assert "不能列入名册（1 人）" in body and NO_ID_NAME in body and "没有身份证号码" in body
    assert "段明" not in body  # 凤庆县's
    assert disabled.head_a.id_number not in body  # the page masks; only the file has whole numbers


def test_a_band_the_city_has_not_set_is_listed_with_its_reason(as_user, disabled, session):
    standard = session.exec(
        select(ProgramStandard).where(ProgramStandard.program_code == "disability_care", ProgramStandard.band == "2")
    ).one()
    session.delete(standard)
    session.commit()
    body = roll_body(as_user("county"))
    assert "<strong data-rows>1</strong>" in body
    assert "不能列入名册（2 人）" in body and "市里还没有设这一档的补贴标准" in body and "杨梅国" in body


def test_the_file_has_the_result_files_columns_under_one_title_and_whole_id_numbers(as_user, disabled, session):
    response = download(as_user("county"))
    assert response.headers["Cache-Control"] == "private, no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="roll-530902000000-disability_care-{month(1)}.xlsx"')
    assert "临翔区" in unquote(disposition)
    rows = sheet_rows(response)
    assert rows[0][0] == f"临翔区 {label(month(1))} 重度残疾人护理补贴 应发名册"
    assert rows[1] == HEADER
    people = {row[1]: row for row in rows[2:]}
    assert set(people) == {disabled.head_a.id_number, head_of(session, disabled.household_b).id_number}
    first = people[disabled.head_a.id_number]
    assert first[:5] == ["张明华", disabled.head_a.id_number, "重度残疾人护理补贴", month(1), 100]
    assert first[5:] == [None, None, None, None]


def test_each_export_is_audited_with_program_period_and_rows(as_user, disabled, session):
    download(as_user("county"))
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "payouts.roll_exported")).one()
    detail = json.loads(event.detail)
    assert (detail["program"], detail["period"], detail["rows"]) == ("disability_care", month(1), 2)
    assert event.user_id == disabled.county.id


def test_the_bank_fills_in_the_roll_and_it_imports_back_with_no_errors_and_no_problems(
    as_user, disabled, session, tmp_path
):
    no_id = session.exec(select(Person).where(Person.name == NO_ID_NAME)).one()
    no_id.disability_grade = None  # a person without an ID number is rightly 漏发 when the file comes back
    session.commit()
    response = download(as_user("county"))
    book = load_workbook(BytesIO(response.data))
    sheet = book.active
    for number in range(3, sheet.max_row + 1):  # as the bank does: paid in full, the account, 成功
        sheet.cell(number, 6).value = sheet.cell(number, 5).value
        sheet.cell(number, 7).value = "6228480012345678"
        sheet.cell(number, 8).value = "成功"
    path = tmp_path / "名册结果.xlsx"
    book.save(path)
    outcome = reconcile.import_file(session, Actor(disabled.county), "530902000000", path, path.name)
    assert outcome.errors == []
    assert outcome.problems == {kind: [] for kind in outcome.problems}
    assert (outcome.rows, outcome.paid, outcome.created) == (2, 2, 2)


def test_elderly_rolls_are_yearly_and_open_on_this_year(as_user, world, session):
    head = head_of(session, world.household_a)
    head.birth_date = date(1920, 1, 1)
    session.commit()
    body = page_text(as_user("county").get("/payouts/rolls?program=elderly"))
    this_year = str(today_in_china().year)
    assert f"{this_year}年 高龄补贴 应发名册" in body
    assert "<strong data-rows>1</strong>" in body and "<strong data-total>1,200</strong>" in body
    switched = page_text(as_user("county").get(f"/payouts/rolls?program=elderly&period={month(1)}"))
    assert f"{this_year}年 高龄补贴 应发名册" in switched  # a month chosen for another program: this year


def test_an_older_period_can_be_chosen_and_a_wrong_one_is_refused(as_user, disabled):
    body = page_text(as_user("county").get("/payouts/rolls?program=disability_care&period=2024-01"))
    assert "临翔区 2024年1月 重度残疾人护理补贴 应发名册" in body and '<option value="2024-01" selected>' in body
    assert "看不懂" in page_text(as_user("county").get("/payouts/rolls?period=2024-99x"), 400)


def test_price_subsidy_needs_a_period_the_city_opened(as_user, world, session):
    body = roll_body(as_user("county"), "price_subsidy")
    assert "市里没有开放" in body and "下载名册" not in body
    session.add(PriceSubsidyPeriod(start_month=month(1), end_month=month(1), amount_fen=5000, categories='["dibao"]'))
    session.commit()
    body = roll_body(as_user("county"), "price_subsidy")
    assert "<strong data-rows>1</strong>" in body and "<strong data-total>50</strong>" in body  # 张明华 (低保)


def test_a_program_doudi_does_not_compute_is_refused(as_user, world):
    assert "只能导出" in page_text(as_user("county").get("/payouts/rolls?program=dibao"), 400)


def test_another_countys_roll_is_404(as_user, disabled):
    client = as_user("county")
    assert client.get(f"/payouts/rolls?county={OTHER_COUNTY}").status_code == 404
    response = client.post(
        "/payouts/rolls/download", data={"county": OTHER_COUNTY, "program": "disability_care", "period": month(1)}
    )
    assert response.status_code == 404


def test_fengqing_sees_only_its_own_roll(as_user, disabled):
    body = roll_body(as_user("other_county"))
    assert "凤庆县" in body and "<strong data-rows>1</strong>" in body and "张明华" not in body


@pytest.mark.parametrize("who", ["township", "city", "admin", "assistant_a"])
def test_only_the_county_exports_rolls(as_user, disabled, who):
    client = as_user(who)
    assert client.get("/payouts/rolls").status_code == 403
    assert client.post("/payouts/rolls/download", data={"program": "disability_care"}).status_code == 403


def test_rolls_need_login(client, world):
    assert client.get("/payouts/rolls").status_code == 302
    assert client.post("/payouts/rolls/download").status_code in (302, 400)
