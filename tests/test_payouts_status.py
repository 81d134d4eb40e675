"""钱到没到 on the household page: each member's programs and last 12 periods, 已到账, 发放失败（原因） or 未发放,
未发放 only where the county imported that period's file; a few queries whatever the household's size."""

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from models import Correction, Household, Person, PersonCategory
from services.clock import today_in_china
from services.payouts import status
from services.payouts.programs import Period
from services.registry.households import members_with_categories
from tests.conftest import OTHER_COUNTY, VILLAGE_A, VILLAGE_B, add_household, login, page_text
from tests.payouts_helpers import add_import, label, month, pay


def cell_text(code: str, text: str) -> str:
    """How the page names one period's cell (its aria-label)."""
    return f'aria-label="{label(code)} {text}"'


def show(client, user, household) -> str:
    login(client, user)
    return page_text(client.get(f"/households/{household.id}"))


def dibao_months(session, world):
    """张明华's 低保: paid two months ago, failed last month (account frozen); three months ago the county's file
    paid a neighbour but not 张明华 (未发放); four months ago no file at all."""
    batch = add_import(session)
    neighbour = add_household(session, VILLAGE_A, "0002", "罕春", "530902196001011236")
    pay(session, batch, "dibao", month(2), world.household_a)
    pay(session, batch, "dibao", month(1), world.household_a, status="failed", reason="账户已冻结")
    pay(session, batch, "dibao", month(3), neighbour)
    session.commit()


def test_household_page_shows_paid_failed_with_reason_and_missing(client, session, world):
    dibao_months(session, world)
    body = show(client, world.township, world.household_a)
    assert "补贴到账" in body and "城乡低保" in body
    assert cell_text(month(2), "已到账") in body
    assert cell_text(month(1), "发放失败（账户已冻结）") in body
    assert f"{label(month(1))} 发放失败（账户已冻结）" in body  # spelt out under the cells, not only in a tooltip
    assert cell_text(month(3), "未发放") in body and f"未发放：{label(month(3))}" in body
    assert cell_text(month(4), "无记录") in body  # no file for that month: we cannot know
    assert cell_text(month(0), "无记录") in body


def test_a_period_the_county_has_not_imported_is_never_called_missing(client, session, world):
    add_household(session, VILLAGE_A, "0002", "罕春", "530902196001011236")
    session.commit()
    body = show(client, world.township, world.household_a)
    assert '未发放"' not in body and "未发放：20" not in body
    assert cell_text(month(1), "无记录") in body


def test_another_countys_file_does_not_make_a_period_missing(client, session, world):
    batch = add_import(session, OTHER_COUNTY)
    pay(session, batch, "dibao", month(1), world.household_other)
    session.commit()
    assert cell_text(month(1), "无记录") in show(client, world.township, world.household_a)


def test_the_villages_assistant_sees_the_households_payouts(client, session, world):
    dibao_months(session, world)
    body = show(client, world.assistant_a, world.household_a)
    assert "补贴到账" in body and cell_text(month(2), "已到账") in body


def test_another_villages_assistant_gets_404_for_the_household(client, session, world):
    dibao_months(session, world)
    login(client, world.assistant_b)
    assert client.get(f"/households/{world.household_a.id}").status_code == 404


def test_the_household_page_asks_to_sign_in(client, world):
    response = client.get(f"/households/{world.household_a.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_tekun_is_the_persons_and_dibao_the_households(client, session, world):
    """杨梅国 (特困分散) was paid 特困 last month; another member of the household has its own row only when due."""
    batch = add_import(session)
    pay(session, batch, "tekun", month(1), world.household_b)
    session.add(Person(household_id=world.household_b.id, name="杨小英", relation="女儿"))
    session.commit()
    body = show(client, world.township, world.household_b)
    assert "特困供养" in body and cell_text(month(1), "已到账") in body
    assert "城乡低保" not in body
    assert "杨小英" not in body.split("补贴到账")[1].split("家庭成员")[0]  # on nothing, paid nothing: not listed


def test_a_member_the_registry_puts_on_a_program_is_missing_from_an_imported_month(session, world):
    """A severely disabled member (grade 1) of a 低保 household: 护理补贴 and 生活补贴 imported for the county,
    paid to someone else, so this member's month is 未发放; an 86-year-old's 高龄 year is paid."""
    daughter = Person(household_id=world.household_a.id, name="张小芬", relation="女儿", disability_grade=1)
    elder = Person(household_id=world.household_a.id, name="张老汉", relation="父亲", birth_date=date(1940, 1, 1))
    session.add_all([daughter, elder])
    session.flush()
    batch = add_import(session)
    pay(session, batch, "disability_care", month(1), world.household_b)
    pay(session, batch, "disability_living", month(1), world.household_b)
    this_year = str(date.today().year)
    pay(session, batch, "elderly", this_year, world.household_a, elder)
    session.commit()
    members = members_with_categories(session, world.household_a)
    rows = {
        (m.person.name, r.code): r for m in status.household_status(session, world.household_a, members) for r in m.rows
    }
    assert {"disability_care", "disability_living"} <= {code for name, code in rows if name == "张小芬"}
    care = rows[("张小芬", "disability_care")]
    assert [c.period.code for c in care.missing] == [month(1)] and care.failed == []
    elderly = rows[("张老汉", "elderly")]
    assert elderly.cells[-1].state == "paid" and elderly.cells[-1].period.code == this_year
    assert len(elderly.cells) == 12 and elderly.cells[0].period == Period(int(this_year) - 11)


def test_months_after_the_household_left_the_register_are_not_missing(session, world):
    batch = add_import(session)
    neighbour = add_household(session, VILLAGE_A, "0002", "罕春", "530902196001011236")
    for back in (1, 2, 3):
        pay(session, batch, "dibao", month(back), neighbour)
    exited_in = Period(*map(int, month(2).split("-")))
    world.household_a.status = "exited"
    world.household_a.exited_at = datetime.combine(exited_in.first_day.replace(day=15), datetime.min.time(), UTC)
    session.add(world.household_a)
    session.commit()
    members = members_with_categories(session, world.household_a)
    (member,) = status.household_status(session, world.household_a, members)
    states = {c.period.code: c.state for c in member.rows[0].cells}
    assert (states[month(3)], states[month(2)], states[month(1)]) == ("missing", None, None)


def test_the_status_costs_four_queries_whatever_the_households_size(app, session, world):
    household = add_household(session, VILLAGE_B, "0002", "大户", "530902196001011236")
    for number in range(12):
        person = Person(
            household_id=household.id, name=f"成员{number}", relation="子女", disability_grade=1 + number % 4
        )
        session.add(person)
        session.flush()
        session.add(PersonCategory(person_id=person.id, category="dibao"))
    batch = add_import(session)
    for back in range(12):
        for program in ("dibao", "disability_care", "disability_living", "price_subsidy"):
            pay(session, batch, program, month(back), world.household_a)
    session.commit()
    statements = []
    engine = app.extensions["doudi_engine"]

    def listen(*args):
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", listen)
    try:
        with Session(engine) as fresh:
            target = fresh.get(Household, household.id)
            members = members_with_categories(fresh, target)
            statements.clear()
            found = status.household_status(fresh, target, members)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert len(found) == 13 and all(m.rows for m in found[1:])
    assert len([s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]) <= 4


def test_other_county_officer_gets_404_for_the_household(client, session, world):
    dibao_months(session, world)
    login(client, world.other_county)
    assert client.get(f"/households/{world.household_a.id}").status_code == 404


# ---- 核实是否到账: the family says no, the bank says paid ------------------------------------------


def visit(client, user, household, **self_checks):
    login(client, user)
    payload = {"uuid": str(uuid4()), "household_id": household.id, "kind": "routine", "self_checks": self_checks}
    response = client.post("/api/v1/visits", json=payload)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def disputed(session) -> list[Correction]:
    return session.exec(select(Correction).where(Correction.kind == "disputed")).all()


def test_the_family_says_unpaid_and_the_bank_says_paid_opens_a_check_for_the_township(client, session, world):
    batch = add_import(session)
    payment = pay(session, batch, "dibao", month(1), world.household_a)
    session.commit()
    visit_id = visit(client, world.assistant_a, world.household_a, payment_received=False)
    (item,) = disputed(session)
    assert item.key == f"disputed:dibao:{month(1)}:v{visit_id}"
    assert (item.visit_id, item.payment_id, item.household_id) == (visit_id, payment.id, world.household_a.id)
    assert item.area_code == VILLAGE_A and item.status == "open"  # 碗窑村: 博尚镇 closes it
    assert item.deadline == today_in_china() + timedelta(days=15)
    assert "银行显示已到账，家人说没有收到" in item.reason and label(month(1)) in item.reason


def test_this_months_payment_is_the_one_checked_when_both_months_were_paid(client, session, world):
    batch = add_import(session)
    pay(session, batch, "dibao", month(1), world.household_a)
    pay(session, batch, "dibao", month(0), world.household_a)
    session.commit()
    visit(client, world.assistant_a, world.household_a, payment_received=False)
    assert [c.period for c in disputed(session)] == [month(0)]


@pytest.mark.parametrize(
    "arrange",
    ["nothing", "failed", "older", "other_program", "family_says_yes"],
)
def test_no_check_is_opened_unless_the_bank_paid_and_the_family_says_no(client, session, world, arrange):
    batch = add_import(session)
    if arrange == "failed":
        pay(session, batch, "dibao", month(1), world.household_a, status="failed", reason="账户已冻结")
    elif arrange == "older":
        pay(session, batch, "dibao", month(2), world.household_a)
    elif arrange == "other_program":  # 护理补贴 is not the 保障金 the self-check asks about
        pay(session, batch, "disability_care", month(1), world.household_a)
    elif arrange == "family_says_yes":
        pay(session, batch, "dibao", month(1), world.household_a)
    session.commit()
    visit(client, world.assistant_a, world.household_a, payment_received=arrange == "family_says_yes")
    assert disputed(session) == []
