"""The relief overview per township and month, and the list of overdue paperwork: counted in SQL, kept in scope."""

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from uuid import uuid4

import pytest
from sqlalchemy import event, update
from sqlmodel import select

from models import Area, Person, ReliefApplication
from services.api.relief_schemas import ReliefIn
from services.audit import Actor
from services.relief.apply import create_application
from services.relief.funds import FundIn, change_fund
from services.relief.machine import Decision, decide
from services.relief.overview import CHINA, Counts, Month, _days_late, months_ending, parse_month, this_month
from tests.conftest import COUNTY, OTHER_COUNTY, OTHER_VILLAGE, TOWNSHIP, add_household, add_user, login

NANMEI = "530902200000"  # 南美拉祜族乡, 临翔区
NANMEI_VILLAGE = "530902200201"  # 南美村
FENGQING_TOWNSHIP = OTHER_VILLAGE[:9] + "000"
OCT, NOV = Month(2025, 10), Month(2025, 11)


# ---- arranging applications through the real services --------------------------------------


def set_fund(session, officer, township: str, reserve_yuan: int = 10_000, limit_yuan: int = 1_000) -> None:
    """Give a township its limit and reserve as its county (or the city) would."""
    values = FundIn(limit_fen=limit_yuan * 100, reserve_fen=reserve_yuan * 100, paperwork_days=5)
    change_fund(session, Actor(officer), session.get(Area, township), values)
    session.commit()


def raise_application(session, user, household, amount: str, urgent: bool = False, submit: bool = True):
    """Raise an application for the household's head through services.relief_apply."""
    head = session.exec(select(Person).where(Person.household_id == household.id, Person.is_head)).one()
    payload = ReliefIn(
        uuid=uuid4(),
        household_id=household.id,
        person_id=head.id,
        reason="fire" if urgent else "medical",
        circumstances="家中失火，急需生活费" if urgent else "住院自付费用高",
        amount_yuan=amount,
        payment_form="cash",
        urgent=urgent,
        submit=submit,
    )
    application, _ = create_application(session, Actor(user), payload)
    session.commit()
    return application


def act(session, user, application, action: str, **details):
    """Make one transition through the state machine and commit it."""
    decide(session, Actor(user), application, Decision(action=action, version=application.version, **details))
    session.commit()
    return application


def move_to(session, application, when: datetime) -> None:
    """Shift all of an application's times so it was raised at `when` (the state machine stamps the present)."""
    shift = when - application.created_at
    columns = ("created_at", "updated_at", "decided_at", "paid_at", "paperwork_due_at", "paperwork_done_at")
    values = {name: getattr(application, name) + shift for name in columns if getattr(application, name) is not None}
    session.execute(update(ReliefApplication).where(ReliefApplication.id == application.id).values(**values))
    session.commit()
    session.refresh(application)


def at(month: Month, day: int) -> datetime:
    return datetime(month.year, month.month, day, 10, 0, tzinfo=CHINA)


@pytest.fixture
def relief(session, world, password_hash):
    """Applications in two townships of 临翔区 over October and November 2025, and one in 凤庆县.

    博尚镇, November: A1 600 urgent approved+paid, paperwork done; A2 300 urgent approved, paperwork overdue;
    A3 200 rejected; a draft (not counted). 博尚镇, October: A4 3,000 forwarded, county-approved, paid.
    南美乡, November: B1 500 approved+paid. 南美乡, October: B2 800 urgent approved, paperwork done.
    凤庆县, November: C1 400 approved+paid.
    """
    r = SimpleNamespace(world=world)
    r.nanmei = add_user(session, password_hash, "nanmei", "township", NANMEI, display_name="南美经办")
    r.fq_assistant = add_user(session, password_hash, "fq-assistant", "assistant", OTHER_VILLAGE)
    r.household_n = add_household(session, NANMEI_VILLAGE, "0001", "李南美", "530902196001011234")
    session.commit()
    for township in (TOWNSHIP, NANMEI):
        set_fund(session, world.county, township)
    set_fund(session, world.city, FENGQING_TOWNSHIP)
    a, t, c = world.assistant_a, world.township, world.county

    r.a1 = raise_application(session, a, world.household_a, "600", urgent=True)
    for action, details in (("approve", {}), ("pay", {"payment_method": "cash"}), ("complete_paperwork", {})):
        act(session, t, r.a1, action, **details)
    move_to(session, r.a1, at(NOV, 3))
    r.a2 = act(session, t, raise_application(session, a, world.household_a, "300", urgent=True), "approve")
    move_to(session, r.a2, at(NOV, 10))
    r.a3 = act(session, t, raise_application(session, a, world.household_a, "200"), "reject", comment="收入超过标准")
    move_to(session, r.a3, at(NOV, 20))
    r.draft = raise_application(session, a, world.household_a, "100", submit=False)
    move_to(session, r.draft, at(NOV, 21))
    r.a4 = raise_application(session, world.assistant_b, world.household_b, "3000")
    act(session, t, r.a4, "forward", comment="情况属实，建议批准")
    act(session, c, r.a4, "approve")
    act(session, c, r.a4, "pay", payment_method="card")
    move_to(session, r.a4, at(OCT, 8))

    r.b1 = raise_application(session, r.nanmei, r.household_n, "500")
    act(session, r.nanmei, r.b1, "approve")
    act(session, r.nanmei, r.b1, "pay", payment_method="kind")
    move_to(session, r.b1, at(NOV, 5))
    r.b2 = raise_application(session, r.nanmei, r.household_n, "800", urgent=True)
    act(session, r.nanmei, r.b2, "approve")
    act(session, r.nanmei, r.b2, "complete_paperwork")
    move_to(session, r.b2, at(OCT, 30))

    r.fq_township = add_user(session, password_hash, "fq-township", "township", FENGQING_TOWNSHIP)
    session.commit()
    r.c1 = raise_application(session, r.fq_assistant, world.household_other, "400")
    act(session, r.fq_township, r.c1, "approve")
    act(session, r.fq_township, r.c1, "pay", payment_method="cash")
    move_to(session, r.c1, at(NOV, 15))
    return r


# ---- reading the table ---------------------------------------------------------------------


def cells(html: str, key: str) -> list[str]:
    """Return the figures of one table row (applications, approved, rejected, paid, urgent, overdue)."""
    match = re.search(rf'<tr data-row="{key}"[^>]*>(.*?)</tr>', html, re.S)
    assert match, f"no row {key}"
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", match[1], re.S)]


def row_html(html: str, key: str) -> str:
    match = re.search(rf'<tr data-row="{key}"[^>]*>(.*?)</tr>', html, re.S)
    return match[1]


# ---- the overview --------------------------------------------------------------------------


def test_county_sees_its_townships_with_a_correct_total(client, relief):
    login(client, relief.world.county)
    html = client.get("/relief/overview/?month=2025-11").get_data(as_text=True)
    assert "临翔区" in html and "2025年11月" in html
    assert cells(html, TOWNSHIP) == ["3", "2", "1", "600", "2", "1"]
    assert cells(html, NANMEI) == ["1", "1", "0", "500", "0", "0"]
    assert cells(html, "530902001000") == ["0", "0", "0", "0", "0", "0"]  # 凤翔街道: nothing this month
    assert cells(html, "total") == ["4", "3", "1", "1,100", "2", "1"]
    assert "凤庆" not in html and FENGQING_TOWNSHIP not in html


def test_county_overview_of_october_counts_october_only(client, relief):
    login(client, relief.world.county)
    html = client.get("/relief/overview/?month=2025-10").get_data(as_text=True)
    assert cells(html, TOWNSHIP) == ["1", "1", "0", "3,000", "0", "0"]
    assert cells(html, NANMEI) == ["1", "1", "0", "0", "1", "0"]
    assert cells(html, "total") == ["2", "2", "0", "3,000", "1", "0"]


def test_city_sees_its_counties_and_drills_down_to_townships(client, relief):
    login(client, relief.world.city)
    html = client.get("/relief/overview/?month=2025-11").get_data(as_text=True)
    assert "按县（区）" in html
    assert cells(html, COUNTY) == ["4", "3", "1", "1,100", "2", "1"]
    assert cells(html, OTHER_COUNTY) == ["1", "1", "0", "400", "0", "0"]
    assert cells(html, "530922000000") == ["0", "0", "0", "0", "0", "0"]  # 云县
    assert cells(html, "total") == ["5", "4", "1", "1,500", "2", "1"]
    assert f"area={COUNTY}" in html  # each county opens its townships

    drilled = client.get(f"/relief/overview/?area={COUNTY}&month=2025-11").get_data(as_text=True)
    assert "按乡镇" in drilled and "临翔区" in drilled
    assert cells(drilled, TOWNSHIP) == ["3", "2", "1", "600", "2", "1"]
    assert cells(drilled, "total") == ["4", "3", "1", "1,100", "2", "1"]
    assert 'href="/relief/overview/?month=2025-11"' in drilled  # the back arrow returns to the counties


def test_township_officer_sees_only_its_own_township_by_month(client, relief):
    login(client, relief.world.township)
    html = client.get("/relief/overview/?month=2025-11").get_data(as_text=True)
    assert "博尚镇" in html and "按月份" not in html and "最近 12 个月" in html
    assert cells(html, "2025-11") == ["3", "2", "1", "600", "2", "1"]
    assert cells(html, "2025-10") == ["1", "1", "0", "3,000", "0", "0"]
    assert cells(html, "2025-09") == ["0", "0", "0", "0", "0", "0"]
    assert cells(html, "total") == ["4", "3", "1", "3,600", "2", "1"]
    assert "南美" not in html and "临翔区" not in html


def test_overview_is_for_officers_only(as_user, relief):
    response = as_user("assistant_a").get("/relief/overview/")
    assert response.status_code == 403 and "您没有权限做这件事" in response.get_data(as_text=True)


def test_overview_requires_login(client, world):
    response = client.get("/relief/overview/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_areas_out_of_scope_get_404(client, relief):
    login(client, relief.world.county)
    assert client.get(f"/relief/overview/?area={OTHER_COUNTY}").status_code == 404
    assert client.get(f"/relief/overview/?area={FENGQING_TOWNSHIP}").status_code == 404
    assert client.get("/relief/overview/?area=530902100201").status_code == 404  # a village is not a row level
    login(client, relief.world.township)
    assert client.get(f"/relief/overview/?area={NANMEI}").status_code == 404
    assert client.get(f"/relief/overview/?area={COUNTY}").status_code == 404


def test_county_drills_into_one_township_by_month(client, relief):
    login(client, relief.world.county)
    html = client.get(f"/relief/overview/?area={NANMEI}&month=2025-11").get_data(as_text=True)
    assert "南美拉祜族乡" in html
    assert cells(html, "2025-10") == ["1", "1", "0", "0", "1", "0"]
    assert cells(html, "2025-11") == ["1", "1", "0", "500", "0", "0"]


def test_approval_rate_is_drawn_with_classes_not_inline_styles(client, relief):
    login(client, relief.world.county)
    html = client.get("/relief/overview/?month=2025-11").get_data(as_text=True)
    assert 'class="rate__fill w-7"' in row_html(html, TOWNSHIP)  # 2 approved of 3 decisions
    assert 'class="rate__fill w-10"' in row_html(html, NANMEI)
    assert "style=" not in html


def test_the_600_yuan_urgent_case_reaches_the_county_overview(client, session, world):
    """Done when: raised by the assistant, approved by the township, reserve drawn, paid, seen by the county."""
    set_fund(session, world.county, TOWNSHIP, reserve_yuan=5_000)
    application = raise_application(session, world.assistant_a, world.household_a, "600", urgent=True)
    act(session, world.township, application, "approve")
    act(session, world.township, application, "pay", payment_method="cash", payment_reference="现金领条 001")
    login(client, world.county)
    funds_page = client.get(f"/relief/overview/funds/{TOWNSHIP}").get_data(as_text=True)
    assert "4,400" in funds_page  # the reserve dropped by 600 元
    month = this_month(application.paid_at)
    html = client.get(f"/relief/overview/?month={month.key}").get_data(as_text=True)
    assert cells(html, TOWNSHIP) == ["1", "1", "0", "600", "1", "0"]
    assert cells(html, "total") == ["1", "1", "0", "600", "1", "0"]


def test_county_overview_takes_a_bounded_number_of_statements(app, client, relief):
    login(client, relief.world.county)
    statements = []
    engine = app.extensions["doudi_engine"]
    listener = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, …)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.get("/relief/overview/?month=2025-11")
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code == 200
    assert len(statements) <= 10, statements
    assert sum("GROUP BY" in statement for statement in statements) == 3


# ---- months and counts ---------------------------------------------------------------------


def test_month_is_read_in_china_time_and_defaults_to_this_month():
    late_on_31_october_utc = datetime(2025, 10, 31, 17, 0, tzinfo=UTC)  # already 1 November in Lincang
    assert this_month(late_on_31_october_utc) == NOV
    assert parse_month("2025-1") == Month(2025, 1)
    assert parse_month("nonsense", late_on_31_october_utc) == NOV
    assert parse_month("2025-13", late_on_31_october_utc) == NOV
    assert NOV.start == datetime(2025, 11, 1, tzinfo=CHINA) and Month(2025, 12).end == datetime(
        2026, 1, 1, tzinfo=CHINA
    )
    assert Month(2026, 1).previous() == Month(2025, 12)
    assert [m.key for m in months_ending(Month(2026, 2), 3)] == ["2025-12", "2026-01", "2026-02"]


def test_approval_rate_counts_decisions_only():
    assert Counts(approved=2, rejected=1).approval_percent == 67
    assert Counts(approved=2, rejected=1).bar_step == 7
    assert Counts(applications=3).approval_percent is None


# ---- overdue paperwork ---------------------------------------------------------------------


def test_overdue_list_shows_the_late_urgent_approval_and_not_the_completed_one(client, relief):
    login(client, relief.world.township)
    html = client.get("/relief/overview/overdue").get_data(as_text=True)
    assert f'href="/relief/{relief.a2.id}"' in html
    assert "张明华" in html and "碗窑村" in html and "批准 300 元" in html
    days = _days_late(relief.a2.paperwork_due_at, datetime.now(UTC))
    assert f"逾期 {days} 天" in html or f"逾期 {days + 1} 天" in html
    assert f'href="/relief/{relief.a1.id}"' not in html  # paperwork completed
    assert f'href="/relief/{relief.b2.id}"' not in html  # another township, and completed anyway


def test_county_sees_overdue_paperwork_of_its_townships(client, relief):
    login(client, relief.world.county)
    html = client.get("/relief/overview/overdue").get_data(as_text=True)
    assert f'href="/relief/{relief.a2.id}"' in html


def test_overdue_list_stays_in_scope(client, relief):
    login(client, relief.nanmei)
    assert "没有逾期未补材料的先行救助" in client.get("/relief/overview/overdue").get_data(as_text=True)
    login(client, relief.world.other_county)
    assert f'href="/relief/{relief.a2.id}"' not in client.get("/relief/overview/overdue").get_data(as_text=True)


def test_urgent_approval_still_within_its_deadline_is_not_overdue(client, session, world):
    set_fund(session, world.county, TOWNSHIP)
    application = act(
        session,
        world.township,
        raise_application(session, world.assistant_a, world.household_a, "600", True),
        "approve",
    )
    assert application.paperwork_due_at > datetime.now(UTC)
    login(client, world.township)
    assert f"/relief/{application.id}" not in client.get("/relief/overview/overdue").get_data(as_text=True)


def test_overdue_list_is_for_officers_and_requires_login(client, as_user, world):
    response = client.get("/relief/overview/overdue")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert as_user("assistant_a").get("/relief/overview/overdue").status_code == 403


def test_days_overdue_count_started_days():
    due = datetime(2025, 11, 15, 10, 0, tzinfo=UTC)
    assert _days_late(due, due + timedelta(hours=1)) == 1
    assert _days_late(due, due + timedelta(days=1)) == 1
    assert _days_late(due, due + timedelta(days=1, minutes=1)) == 2


def test_amounts_with_fen_keep_their_decimals(client, session, world):
    set_fund(session, world.county, TOWNSHIP)
    application = raise_application(session, world.assistant_a, world.household_a, "250.50")
    act(session, world.township, application, "approve")
    act(session, world.township, application, "pay", payment_method="card")
    login(client, world.county)
    html = client.get(f"/relief/overview/?month={this_month(application.paid_at).key}").get_data(as_text=True)
    assert cells(html, TOWNSHIP)[3] == "250.50"


@pytest.mark.parametrize(
    ("role", "overview", "funds"), [("county", True, True), ("township", True, False), ("assistant_a", False, False)]
)
def test_me_page_links_to_the_overview_and_funds_by_role(as_user, role, overview, funds):
    html = as_user(role).get("/me").get_data(as_text=True)
    assert ("救助统计" in html) is overview and ('href="/relief/overview/"' in html) is overview
    assert ("备用金与审批额度" in html) is funds and ('href="/relief/overview/funds"' in html) is funds
