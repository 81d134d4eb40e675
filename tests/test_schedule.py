"""Routine visits: who is due, overdue, this week; the 走访 tab; the city's frequency settings."""

import json
import re
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from sqlalchemy import event
from sqlmodel import select

from models import AuditEvent, Household, VisitFrequency
from services.api.schemas import VisitIn
from services.audit import Actor
from services.visits import schedule, schedule_counts
from services.visits.visits import record_visit
from tests.conftest import VILLAGE_A, add_household, login, page_text

NOW = datetime(2024, 6, 15, 4, 0, tzinfo=UTC)  # 12:00 on 15 June in China


def visit(session, user, household, when=None, risk="normal"):
    """Record a routine visit through the service, as the form would have when it was made (it arrived then)."""
    payload = VisitIn(uuid=uuid4(), household_id=household.id, kind="routine", visited_at=when, risk=risk)
    recorded, _created = record_visit(session, Actor(user), payload, received_at=when)
    session.commit()
    return recorded


def sections_of(due, household):
    """Name the list a household sits in ('overdue', 'today', 'week'), or None."""
    for name in schedule.SECTIONS:
        if any(item.household_id == household.id for item in due.section(name)):
            return name
    return None


# ---- the arithmetic ------------------------------------------------------------------------


def test_never_visited_households_are_due_today(session, world):
    due = schedule.due_visits(session, world.assistant_a, now=NOW)
    assert due.counts == {"overdue": 0, "today": 1, "week": 0}
    item = due.today[0]
    assert item.household_id == world.household_a.id and item.never_visited and item.due is None
    assert item.head_name == "张明华" and item.village == "碗窑村"


@pytest.mark.parametrize(
    ("days_ago", "expected"), [(31, "overdue"), (30, "today"), (25, "week"), (23, "week"), (20, None)]
)
def test_a_monthly_category_is_due_thirty_days_after_the_last_visit(session, world, days_ago, expected):
    visit(session, world.assistant_a, world.household_a, NOW - timedelta(days=days_ago))  # 重病: monthly
    due = schedule.due_visits(session, world.assistant_a, now=NOW)
    assert sections_of(due, world.household_a) == expected


def test_overdue_items_say_by_how_many_days(session, world):
    visit(session, world.assistant_a, world.household_a, NOW - timedelta(days=40))
    item = schedule.due_visits(session, world.assistant_a, now=NOW).overdue[0]
    assert item.interval == 30 and item.days_overdue == 10


@pytest.mark.parametrize(("days_ago", "expected"), [(60, None), (85, "week"), (90, "today"), (91, "overdue")])
def test_everyone_else_is_visited_quarterly(session, world, days_ago, expected):
    household = add_household(session, VILLAGE_A, "0002", "王低保", categories=("dibao",))
    session.commit()
    visit(session, world.assistant_a, household, NOW - timedelta(days=days_ago))
    assert sections_of(schedule.due_visits(session, world.assistant_a, now=NOW), household) == expected


def test_a_household_without_categories_follows_the_default(session, world):
    household = add_household(session, VILLAGE_A, "0003", "无类别", categories=())
    session.commit()
    visit(session, world.assistant_a, household, NOW - timedelta(days=91))
    item = schedule.due_visits(session, world.assistant_a, now=NOW).overdue[0]
    assert item.household_id == household.id and item.interval == 90


def test_urgent_risk_makes_a_household_weekly(session, world):
    household = add_household(session, VILLAGE_A, "0002", "王低保", categories=("dibao",))
    session.commit()
    visit(session, world.assistant_a, household, NOW - timedelta(days=8), risk="urgent")
    item = schedule.due_visits(session, world.assistant_a, now=NOW).overdue[0]
    assert item.household_id == household.id and item.interval == 7 and item.last_risk == "urgent"


def test_a_later_normal_visit_ends_the_weekly_rhythm(session, world):
    visit(session, world.assistant_a, world.household_a, NOW - timedelta(days=20), risk="urgent")
    visit(session, world.assistant_a, world.household_a, NOW - timedelta(days=10))
    due = schedule.due_visits(session, world.assistant_a, now=NOW)
    assert sections_of(due, world.household_a) is None


def test_the_shortest_interval_of_the_members_categories_wins():
    days = {**schedule.DEFAULT_DAYS, "dibao": 90}
    assert schedule.interval_days(days, ["dibao", "orphan"], None) == 30
    assert schedule.interval_days(days, [], None) == 90
    assert schedule.interval_days(days, ["orphan"], "urgent") == 7
    assert schedule.interval_days(days, ["orphan"], "attention") == 30


def test_city_overrides_change_category_and_default_intervals(session, world):
    dibao_only = add_household(session, VILLAGE_A, "0002", "王低保", categories=("dibao",))
    session.commit()
    visit(session, world.assistant_a, world.household_a, NOW - timedelta(days=15))
    visit(session, world.assistant_a, dibao_only, NOW - timedelta(days=61))
    assert schedule.due_visits(session, world.assistant_a, now=NOW).counts["overdue"] == 0
    values = schedule.parse_frequency_form(_monthly(default=60, serious_illness=14))
    schedule.save_frequencies(session, Actor(world.city), values)
    session.commit()
    due = schedule.due_visits(session, world.assistant_a, now=NOW)
    assert {i.household_id for i in due.overdue} == {world.household_a.id, dibao_only.id}


def _monthly(**changes) -> dict:
    """Return a complete settings form with the built-in values, changed as asked."""
    return {k: str(v) for k, v in schedule.DEFAULT_DAYS.items()} | {k: str(v) for k, v in changes.items()}


def test_today_is_the_date_in_china_not_in_utc(session, world):
    # 17:00 UTC on 1 June is 01:00 on 2 June in China: thirty days later is 2 July, not 1 July
    visit(session, world.assistant_a, world.household_a, datetime(2024, 6, 1, 17, 0, tzinfo=UTC))
    evening_of_1_july = datetime(2024, 7, 1, 10, 0, tzinfo=UTC)  # 18:00 in China
    item = schedule.due_visits(session, world.assistant_a, now=evening_of_1_july).week[0]
    assert item.due.isoformat() == "2024-07-02"
    just_after_midnight = datetime(2024, 7, 1, 16, 30, tzinfo=UTC)  # 00:30 on 2 July in China
    assert schedule.due_visits(session, world.assistant_a, now=just_after_midnight).today[0].due == item.due


def test_exited_households_are_never_due(session, world):
    world.household_a.status = "exited"
    session.add(world.household_a)
    session.commit()
    assert schedule.due_visits(session, world.assistant_a, now=NOW).counts == {"overdue": 0, "today": 0, "week": 0}


def test_assistant_counts_only_their_own_village(session, world):
    due = schedule.due_visits(session, world.assistant_b, now=NOW)
    assert [i.household_id for i in due.today] == [world.household_b.id]


def test_township_sees_overdue_counts_per_assistant_and_households_with_none(session, world):
    visit(session, world.assistant_a, world.household_a, NOW - timedelta(days=40))
    counts = schedule_counts.due_counts(session, world.township, now=NOW)
    loads = {load.name: load for load in schedule.load_per_assistant(session, world.township, counts)}
    assert (loads["李协理"].overdue, loads["李协理"].today) == (1, 0)
    assert (loads["王协理"].overdue, loads["王协理"].today) == (0, 0)  # 杨梅国 has no assistant
    assert loads["未指定协理员"].today == 1 and loads["未指定协理员"].village == ""
    assert next(iter(loads)) == "李协理"  # the most overdue first
    assert "凤庆" not in loads


# ---- the 走访 tab ---------------------------------------------------------------------------


def test_assistant_visits_tab_lists_due_households_one_tap_from_the_form(as_user, world):
    body = as_user("assistant_a").get("/visits/").get_data(as_text=True)
    assert "逾期 · 0 户" in body and "今天（含从未走访） · 1 户" in body and "本周 · 0 户" in body
    assert f'href="/households/{world.household_a.id}/visits/new"' in body
    assert "张明华" in body and "碗窑村 · 0001号" in body and "从未走访" in body
    assert "杨梅国" not in body and "段明" not in body


def test_visits_tab_requires_login(client):
    response = client.get("/visits/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_visits_tab_of_another_county_shows_none_of_our_households(as_user, client, world, session):
    visit(session, world.assistant_a, world.household_a)
    login(client, world.other_county)
    body = page_text(client.get("/visits/"))
    assert "各协理员待走访户数" in body and "未指定协理员" in body  # their own 段明, who has no assistant
    assert '<div class="stat__num">1</div><div class="stat__label">今天</div>' in body
    assert "还没有走访记录" in body  # our visit of 张明华 is not theirs to see
    assert "张明华" not in body and "杨梅国" not in body and "李协理" not in body


def test_overdue_visits_show_days_and_urgent_risk(as_user, world, session):
    visit(session, world.assistant_a, world.household_a, datetime.now(UTC) - timedelta(days=12), risk="urgent")
    body = as_user("assistant_a").get("/visits/").get_data(as_text=True)
    assert "逾期 · 1 户" in body and "逾期 5 天" in body and '<span class="tag tag--danger">紧急</span>' in body
    assert "每 7 天" in body


def test_township_visits_tab_shows_each_assistants_overdue_count(as_user, world, session):
    visit(session, world.assistant_a, world.household_a, datetime.now(UTC) - timedelta(days=40))
    body = as_user("township").get("/visits/").get_data(as_text=True)
    assert "各协理员待走访户数" in body
    assert re.search(r"李协理.*?碗窑村.*?逾期 1<", body, re.S)
    assert re.search(r"王协理.*?勐准村.*?逾期 0<", body, re.S)
    assert "未指定协理员" in body
    assert "最近走访" in body and "定期走访" in body


def test_recent_visits_load_more_through_one_url(as_user, world, session):
    for days in range(21):
        visit(session, world.assistant_a, world.household_a, datetime.now(UTC) - timedelta(days=days, hours=1))
    client = as_user("assistant_a")
    body = client.get("/visits/").get_data(as_text=True)
    assert body.count('href="/visits/') - body.count('href="/visits/?') >= 20
    assert "/visits/?page=2" in body
    more = client.get("/visits/?page=2", headers={"HX-Request": "true"})
    assert "<html" not in more.get_data(as_text=True) and "HX-Request" in more.headers["Vary"]
    assert more.get_data(as_text=True).count("定期走访") == 1 and "page=3" not in more.get_data(as_text=True)


def test_a_long_due_list_loads_more_in_the_same_section(as_user, world, session):
    for number in range(2, 40):
        add_household(session, VILLAGE_A, f"{number:04d}", f"户主{number}", categories=())
    session.commit()
    client = as_user("assistant_a")
    body = client.get("/visits/").get_data(as_text=True)
    assert "今天（含从未走访） · 39 户" in body and "section=today" in body
    more = client.get("/visits/?section=today&page=2", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert more.count("/visits/new") == 9 and "<html" not in more and "加载更多" not in more


def statements_for(app, client, path) -> int:
    """Count the SQL statements one page costs (an N+1 shows up as hundreds)."""
    statements = []

    def count(*_args):
        statements.append(1)

    engine = app.extensions["doudi_engine"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


@pytest.fixture
def big_village(world, session):
    """Fill 碗窑村 with 200 more households, 30 of them visited by its assistant."""
    for number in range(2, 202):
        add_household(session, VILLAGE_A, f"{number:04d}", f"户主{number}", categories=("dibao", "orphan"))
    session.commit()
    households = session.exec(select(Household).where(Household.area_code == VILLAGE_A).limit(30)).all()
    for days, household in enumerate(households):
        visit(session, world.assistant_a, household, datetime.now(UTC) - timedelta(days=days * 2))


@pytest.mark.parametrize("path", ["/visits/", "/"])
def test_a_village_of_200_households_costs_the_assistant_few_statements(app, as_user, big_village, path):
    client = as_user("assistant_a")
    assert statements_for(app, client, path) <= 15


def test_a_township_of_200_households_costs_few_statements(app, as_user, big_village):
    client = as_user("township")
    assert statements_for(app, client, "/visits/") <= 15
    assert statements_for(app, client, "/") <= 15


# ---- 首页 and 我的 ---------------------------------------------------------------------------


def test_assistant_home_shows_the_three_counts_linking_to_the_visits_tab(as_user, world, session):
    body = as_user("assistant_a").get("/").get_data(as_text=True)
    assert 'href="/visits/#due-overdue"><div class="stat__num">0</div><div class="stat__label">逾期</div>' in body
    assert 'href="/visits/#due-today"><div class="stat__num">1</div><div class="stat__label">今天</div>' in body
    assert '<div class="stat__label">本周</div>' in body
    assert f'href="/households/{world.household_a.id}/visits/new"' in body and "从未走访" in body


def test_township_home_shows_overdue_per_assistant(as_user, world, session):
    visit(session, world.assistant_a, world.household_a, datetime.now(UTC) - timedelta(days=40))
    body = as_user("township").get("/").get_data(as_text=True)
    assert "各协理员逾期未走访" in body
    assert re.search(r"李协理.*?逾期 1 户", body, re.S)


def test_county_home_has_no_per_assistant_list(as_user, client, world):
    login(client, world.county)
    body = page_text(client.get("/"))
    assert "您好，钱科长" in body and "在册户数" in body
    assert "各协理员逾期未走访" not in body and "定期走访" not in body


def test_me_links_to_frequencies_for_the_city_only(as_user, client, world):
    assert "走访频次" not in as_user("township").get("/me").get_data(as_text=True)
    login(client, world.city)
    body = client.get("/me").get_data(as_text=True)
    assert 'href="/settings/visit-frequencies"' in body and "走访频次" in body


# ---- frequency settings --------------------------------------------------------------------


def test_city_sees_every_category_with_its_days(as_user, client, world):
    login(client, world.city)
    body = client.get("/settings/visit-frequencies").get_data(as_text=True)
    assert 'name="urgent" value="7"' in body and 'name="default" value="90"' in body
    assert 'name="orphan" value="30"' in body and 'name="dibao" value=""' in body
    assert "同其他（90 天）" in body and "孤寡老人" in body and "紧急" in body


def test_city_changes_frequencies_and_the_change_is_audited(client, world, session):
    login(client, world.city)
    form = _monthly(urgent=3, orphan=14) | {"dibao": "60"}
    response = client.post("/settings/visit-frequencies", data=form)
    assert response.status_code == 302
    stored = {row.key: row.days for row in session.exec(select(VisitFrequency))}
    assert stored == {"urgent": 3, "orphan": 14, "dibao": 60}
    event_row = session.exec(select(AuditEvent).where(AuditEvent.action == "visit_frequency.changed")).one()
    assert json.loads(event_row.detail)["changes"] == {"urgent": [7, 3], "orphan": [30, 14], "dibao": [None, 60]}
    assert event_row.user_id == world.city.id
    page = client.get("/settings/visit-frequencies").get_data(as_text=True)
    assert "已保存走访频次" in page and 'name="orphan" value="14"' in page


def test_putting_a_value_back_removes_the_override(client, world, session):
    login(client, world.admin)
    client.post("/settings/visit-frequencies", data=_monthly(orphan=14))
    client.post("/settings/visit-frequencies", data=_monthly())
    assert session.exec(select(VisitFrequency)).all() == []
    assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "visit_frequency.changed")).all()) == 2


@pytest.mark.parametrize("bad", ["0", "366", "abc", "-3", ""])
def test_days_outside_one_to_365_are_refused_in_plain_words(client, world, session, bad):
    login(client, world.city)
    response = client.post("/settings/visit-frequencies", data=_monthly() | {"urgent": bad})
    assert response.status_code == 400
    assert "请填写 1 到 365 之间的天数" in response.get_data(as_text=True)
    assert session.exec(select(VisitFrequency)).all() == []


def test_frequencies_are_for_the_city_and_admin_only(as_user, client, world):
    for name in ("assistant_a", "township", "county"):
        login(client, getattr(world, name))
        assert client.get("/settings/visit-frequencies").status_code == 403
        assert client.post("/settings/visit-frequencies", data=_monthly(urgent=1)).status_code == 403


def test_frequencies_require_login(client):
    response = client.get("/settings/visit-frequencies")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_assistant_b_sees_their_own_village_on_the_tab(client, world):
    login(client, world.assistant_b)
    body = client.get("/visits/").get_data(as_text=True)
    assert "杨梅国" in body and "勐准村" in body and "张明华" not in body


# ---- officers' counts in SQL ---------------------------------------------------------------


@pytest.mark.parametrize("now", [NOW, datetime(2024, 6, 30, 16, 30, tzinfo=UTC)])  # noon; just after China midnight
def test_officers_counts_in_sql_equal_the_household_by_household_rule(session, world, now):
    """Every mix of categories, risk and last visit lands in the same section in SQL as in Python."""
    values = schedule.parse_frequency_form(_monthly(default=60, dibao=45, serious_illness=14))
    schedule.save_frequencies(session, Actor(world.city), values)
    mixes = [(), ("dibao",), ("orphan",), ("dibao", "serious_illness"), ("vagrant", "lonely_elderly")]
    number = 1
    for days_ago in (0, 5, 6, 7, 8, 13, 14, 15, 29, 30, 31, 37, 44, 45, 46, 52, 59, 60, 61, 67, 68, 200, None):
        for hour in (15, 16, 17):  # around midnight in China (16:00 UTC)
            for risk in ("normal", "urgent"):
                number += 1
                categories = mixes[number % len(mixes)]
                assistant = (world.assistant_a.id, world.assistant_b.id, None)[number % 3]
                last = None
                if days_ago is not None:
                    last = (now - timedelta(days=days_ago)).replace(hour=hour, minute=number % 60)
                add_household(
                    session, VILLAGE_A, f"{number:04d}", f"户{number}", categories=categories,
                    assistant_id=assistant, last_visit_at=last, last_risk=risk if last else None,
                )  # fmt: skip
    session.commit()
    due = schedule.due_visits(session, world.township, now=now)
    expected: dict = {}
    for name in schedule.SECTIONS:
        for item in due.section(name):
            expected[(item.assistant_id, name)] = expected.get((item.assistant_id, name), 0) + 1
    assert schedule_counts.due_counts(session, world.township, now=now) == expected
    assert sum(expected.values()) > 100 and len({name for _a, name in expected}) == 3


def test_officers_see_the_totals_of_every_assistant_on_the_visits_tab(as_user, world, session):
    visit(session, world.assistant_a, world.household_a, datetime.now(UTC) - timedelta(days=40))
    body = as_user("county").get("/visits/").get_data(as_text=True)
    assert re.search(r'stat__num">1</div><div class="stat__label">逾期', body)
    assert re.search(r'stat__num">1</div><div class="stat__label">今天', body)  # 杨梅国, never visited
