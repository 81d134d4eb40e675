"""The payouts overview: per program and period, paid / failed / missing / open 整改 in scope, each number the size of
the list it opens; townships never count the county's 不在册 rows; the city sees counties late with their results."""

import re
from datetime import date
from html import unescape

import pytest
from sqlmodel import select

from models import Correction
from services.payouts import overview
from tests.conftest import COUNTY, OTHER_COUNTY, TOWNSHIP, VILLAGE_B, add_household, login, page_text
from tests.payouts_helpers import add_import, id_number, import_csv, label, month, pay

NEIGHBOUR_ID = id_number("19600101", "111")
MISSING_ID = id_number("19700101", "222")
STRANGER_ID = id_number("19800101", "333")


@pytest.fixture
def dibao_file(session, world, tmp_path):
    """临翔区's 低保 file for last month: 张明华 paid, 罕春 failed (账户已冻结), a stranger not in the registry paid;
    岩温 (低保, 勐准村) is not in the file at all (应发未发)."""
    add_household(session, world.household_a.area_code, "0002", "罕春", NEIGHBOUR_ID)
    add_household(session, VILLAGE_B, "0002", "岩温", MISSING_ID)
    session.commit()
    period = label(month(1))
    rows = [
        f"张明华,{world.head_a.id_number},低保,{period},600,600,6222020000001111,成功,",
        f"罕春,{NEIGHBOUR_ID},低保,{period},500,0,6222020000002222,失败,账户已冻结",
        f"外来人,{STRANGER_ID},低保,{period},400,400,6222020000003333,成功,",
    ]
    return import_csv(session, tmp_path, world.county, rows)


def counts_on(body: str, program: str, period: str) -> dict[str, tuple[int, str | None]]:
    """Return {paid|failed|missing|open: (number, link)} of one row of the overview page."""
    table = body.split(f'data-program="{program}"')[1].split("</table>")[0]
    row = table.split(f'data-row="{period}"')[1].split("</tr>")[0]
    found = {}
    for kind, cell in re.findall(r'data-count="(\w+)"[^>]*>(.*?)</td>', row):
        link = re.search(r'href="([^"]+)">(\d+)</a>', cell)
        found[kind] = (int(link.group(2)), unescape(link.group(1))) if link else (int(cell), None)
    return found


def listed(client, url: str) -> tuple[int, int]:
    """Return (the total the list states, the rows it shows) of a payments list."""
    body = page_text(client.get(url))
    total = int(re.search(r"<span data-total>(\d+)</span>", body).group(1))
    return total, body.count('class="hh-row payment-row"')


def test_county_sees_paid_failed_missing_and_open_corrections(client, world, dibao_file):
    login(client, world.county)
    body = page_text(client.get("/payouts/overview"))
    counts = counts_on(body, "dibao", month(1))
    assert {kind: n for kind, (n, _link) in counts.items()} == {"paid": 2, "failed": 1, "missing": 1, "open": 3}
    assert counts["missing"][1] == f"/payouts/corrections?status=all&kind=missing&program=dibao&period={month(1)}"
    assert counts["open"][1] == f"/payouts/corrections?status=open&program=dibao&period={month(1)}"


def test_each_payments_number_is_the_size_of_the_list_it_opens(client, session, world, dibao_file):
    login(client, world.county)
    counts = counts_on(page_text(client.get("/payouts/overview")), "dibao", month(1))
    for kind in ("paid", "failed"):
        number, link = counts[kind]
        assert link.startswith("/payouts/payments?")
        assert listed(client, link) == (number, number)
    open_items = session.exec(select(Correction).where(Correction.status == "open", Correction.period == month(1)))
    assert counts["open"][0] == len(open_items.all())
    for kind in ("missing", "open"):  # and the 整改 numbers are the lists they open, closed 漏发 items included
        number, link = counts[kind]
        assert page_text(client.get(link)).count("data-correction=") == number


def test_a_drilled_down_number_opens_the_list_of_that_area_only(client, world, dibao_file):
    login(client, world.county)
    body = page_text(client.get(f"/payouts/overview?area={TOWNSHIP}"))
    number, link = counts_on(body, "dibao", month(1))["open"]
    assert f"area={TOWNSHIP}" in link and number == 2  # not the county's own 不在册 item
    assert page_text(client.get(link)).count("data-correction=") == 2


def test_the_payments_list_shows_names_masked_id_numbers_and_the_reason(client, world, dibao_file):
    login(client, world.county)
    body = page_text(client.get(f"/payouts/payments?program=dibao&period={month(1)}&status=failed"))
    assert "罕春" in body and "账户已冻结" in body
    assert NEIGHBOUR_ID not in body and NEIGHBOUR_ID[:6] + "********" + NEIGHBOUR_ID[-4:] in body
    assert "6222020000002222" not in body and "张明华" not in body
    assert "/payouts/corrections?kind=failed&amp;program=dibao" in body


def test_a_township_sees_its_own_and_never_the_countys_not_in_registry_rows(client, world, dibao_file):
    login(client, world.township)
    body = page_text(client.get("/payouts/overview"))
    counts = counts_on(body, "dibao", month(1))
    assert {kind: n for kind, (n, _link) in counts.items()} == {"paid": 1, "failed": 1, "missing": 1, "open": 2}
    assert listed(client, counts["paid"][1]) == (1, 1)
    paid = page_text(client.get(f"/payouts/payments?program=dibao&period={month(1)}&status=paid"))
    assert "张明华" in paid and "外来人" not in paid
    assert "逾期未导入" not in body  # townships do not import


def test_the_county_drills_into_a_township(client, world, dibao_file):
    login(client, world.county)
    body = page_text(client.get(f"/payouts/overview?area={TOWNSHIP}"))
    assert counts_on(body, "dibao", month(1))["paid"][0] == 1
    assert f"area={TOWNSHIP}" in counts_on(body, "dibao", month(1))["paid"][1]


def test_another_county_sees_nothing_of_it_and_gets_404_for_its_areas(client, world, dibao_file):
    login(client, world.other_county)
    body = page_text(client.get("/payouts/overview"))
    assert 'data-program="dibao"' not in body and "还没有导入的银行发放结果" in body
    assert client.get(f"/payouts/overview?area={COUNTY}").status_code == 404
    assert client.get(f"/payouts/payments?area={TOWNSHIP}&status=paid").status_code == 404
    mine = page_text(client.get(f"/payouts/payments?program=dibao&period={month(1)}"))
    assert "张明华" not in mine and "没有符合条件的发放记录" in mine


def test_assistants_may_not_open_the_overview_or_the_lists(client, world, dibao_file):
    login(client, world.assistant_a)
    assert client.get("/payouts/overview").status_code == 403
    assert client.get("/payouts/payments").status_code == 403


@pytest.mark.parametrize("path", ["/payouts/overview", "/payouts/payments?status=paid"])
def test_the_pages_ask_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_filters_by_program_and_period(client, session, world, dibao_file):
    batch = add_import(session)
    pay(session, batch, "tekun", month(2), world.household_b)
    session.commit()
    login(client, world.county)
    every = page_text(client.get("/payouts/overview"))
    assert 'data-program="dibao"' in every and 'data-program="tekun"' in every
    tekun = page_text(client.get("/payouts/overview?program=tekun"))
    assert 'data-program="dibao"' not in tekun and counts_on(tekun, "tekun", month(2))["paid"][0] == 1
    one = page_text(client.get(f"/payouts/overview?period={month(2)}"))
    assert 'data-program="dibao"' not in one and f'data-row="{month(2)}"' in one
    assert client.get("/payouts/overview?period=someday").status_code == 400
    assert client.get("/payouts/overview?program=lottery").status_code == 400


def test_the_city_sees_counties_late_with_their_results(session, world):
    """On 15 April the last three months past their due day (the 10th of the next month) are Jan, Feb and Mar.
    临翔区 imported 低保 for March only; it is late with 低保 Jan, Feb and 特困 (杨梅国) Jan–Mar; 凤庆县 with 低保
    Jan–Mar; counties with nobody due are never late."""
    batch = add_import(session)
    pay(session, batch, "dibao", "2026-03", world.household_a)
    session.commit()
    city = overview.resolve_area(session, world.city, None)
    late = overview.late_imports(session, world.city, city, date(2026, 4, 15))
    found = {(row.county_name, row.program_code, row.period.code) for row in late}
    assert found == {
        ("临翔区", "dibao", "2026-01"),
        ("临翔区", "dibao", "2026-02"),
        ("临翔区", "tekun", "2026-01"),
        ("临翔区", "tekun", "2026-02"),
        ("临翔区", "tekun", "2026-03"),
        ("凤庆县", "dibao", "2026-01"),
        ("凤庆县", "dibao", "2026-02"),
        ("凤庆县", "dibao", "2026-03"),
    }
    by_key = {(row.county_code, row.program_code, row.period.code): row for row in late}
    assert by_key[(OTHER_COUNTY, "dibao", "2026-03")].due_by == date(2026, 4, 10)


def test_a_period_is_not_late_on_its_due_day(session, world):
    city = overview.resolve_area(session, world.city, None)
    late = overview.late_imports(session, world.city, city, date(2026, 4, 10))
    assert {row.period.code for row in late} == {"2025-12", "2026-01", "2026-02"}


def test_the_city_page_lists_late_counties_and_a_county_only_its_own(client, world):
    login(client, world.city)
    body = page_text(client.get("/payouts/overview"))
    assert "逾期未导入" in body and "凤庆县" in body and "临翔区" in body and "最近 3 期" in body
    login(client, world.county)
    own = page_text(client.get("/payouts/overview"))
    assert "逾期未导入" in own and "临翔区" in own and "凤庆县" not in own


def test_the_late_list_costs_three_queries_for_a_county_that_imported_everything(app, session, world):
    """The county imported every monthly program: one EXISTS query and no read of the registry."""
    from sqlalchemy import event
    from sqlmodel import Session

    today = date(2026, 4, 15)
    batch = add_import(session)
    for code in ("2026-01", "2026-02", "2026-03"):
        for program in ("dibao", "tekun", "orphan", "de_facto_orphan", "disability_living", "disability_care"):
            pay(session, batch, program, code, world.household_a)
        pay(session, batch, "price_subsidy", code, world.household_a)
    session.commit()
    statements = []
    engine = app.extensions["doudi_engine"]

    def listen(*args):
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", listen)
    try:
        with Session(engine) as fresh:
            county = overview.resolve_area(fresh, world.county, None)
            statements.clear()
            late = overview.late_imports(fresh, world.county, county, today)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert late == []
    assert len(statements) <= 3  # programs, counties, one EXISTS query
