"""主动发现 in the campaign statistics: alerts raised, checked and their outcomes, candidates, from one function."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlmodel import select

from models import Area, Campaign, WorkReport
from services.campaigns import statistics_xlsx, work_report
from services.campaigns import stats as campaign_stats
from services.campaigns.discovery_stats import OUTCOMES
from services.campaigns.work_report_draft import draft_basic_situation, draft_measures
from tests.conftest import CITY, COUNTY, OTHER_COUNTY, OTHER_VILLAGE, TOWNSHIP, VILLAGE_A, VILLAGE_B, page_text
from tests.discovery_helpers import add_alert, add_candidate, discovery_cells
from tests.test_statistics_xlsx import DISCOVERY, read_both

START, END = date(2026, 2, 25), date(2026, 2, 28)
IN_WINDOW = datetime(2026, 2, 26, 3, 0, tzinfo=UTC)
BEFORE = datetime(2026, 2, 20, 3, 0, tzinfo=UTC)
AFTER = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
LAST_MOMENT = datetime(2026, 2, 28, 15, 59, 59, tzinfo=UTC)  # 23:59:59 on the 28th in Lincang
NEXT_DAY = datetime(2026, 2, 28, 16, 0, tzinfo=UTC)  # 00:00 on March 1st in Lincang


@pytest.fixture
def campaign(session, world):
    campaign = Campaign(name="2026年2月排查回访", start_date=START, end_date=END, created_by_id=world.city.id)
    session.add(campaign)
    session.commit()
    return campaign


def table(client, campaign, area=None) -> dict:
    query = {"campaign": campaign.id} | ({"area": area} if area else {})
    response = client.get("/reports/statistics.xlsx", query_string=query)
    assert response.status_code == 200, response.status_code
    return read_both(response.data)


def stats_for(session, user, campaign, code, now=None):
    return campaign_stats.statistics(session, user, campaign, session.get(Area, code), now=now)


def test_a_village_alert_checked_with_dibao_in_the_window_counts_in_its_row_and_the_total(
    session, world, campaign, as_user
):
    add_alert(session, world.household_a, IN_WINDOW, outcome="dibao", checked_at=IN_WINDOW + timedelta(days=1))
    session.commit()
    rows = table(as_user("township"), campaign)
    assert rows["碗窑村"][(DISCOVERY, "纳入低保")] == 1 and rows["合计"][(DISCOVERY, "纳入低保")] == 1
    assert rows["碗窑村"][(DISCOVERY, "已核实")] == 1 and rows["碗窑村"][(DISCOVERY, "发出预警")] == 1
    assert rows["勐准村"][(DISCOVERY, "纳入低保")] == 0
    assert rows["碗窑村"][("解决情况", "纳入低保")] == 0  # that column counts needs resolved, not alerts
    county = table(as_user("county"), campaign)
    assert county["博尚镇"][(DISCOVERY, "纳入低保")] == 1 == county["合计"][(DISCOVERY, "纳入低保")]


def test_another_countys_table_never_counts_village_as_alerts(session, world, campaign, as_user, client):
    add_alert(session, world.household_a, IN_WINDOW, outcome="dibao", checked_at=IN_WINDOW)
    add_candidate(session, VILLAGE_A, IN_WINDOW)
    session.commit()
    rows = table(as_user("other_county"), campaign)
    assert all(value == 0 for row in rows.values() for (group, _), value in row.items() if group == DISCOVERY)
    assert (
        client.get("/reports/statistics.xlsx", query_string={"campaign": campaign.id, "area": VILLAGE_A}).status_code
        == 404
    )
    # even asked for the whole city, the service counts only what the user may see
    assert stats_for(session, world.other_county, campaign, CITY).total.alerts_checked == 0
    assert stats_for(session, world.city, campaign, CITY).total.outcomes == {"dibao": 1}


def test_the_window_is_lincang_days_for_raising_checking_and_finding(session, world, campaign):
    a = world.household_a
    add_alert(session, a, LAST_MOMENT, outcome="relief", checked_at=LAST_MOMENT)  # in: the last day's last second
    add_alert(session, a, NEXT_DAY, outcome="resolved", checked_at=NEXT_DAY)  # out: March 1st in Lincang
    add_alert(session, a, BEFORE, outcome="excluded", checked_at=IN_WINDOW)  # raised before, checked inside
    add_alert(session, a, IN_WINDOW, outcome="referral", checked_at=AFTER)  # raised inside, checked after
    add_candidate(session, VILLAGE_A, LAST_MOMENT)
    add_candidate(session, VILLAGE_A, NEXT_DAY)
    session.commit()
    total = stats_for(session, world.township, campaign, TOWNSHIP).total
    assert total.alerts_raised == 2 and total.alerts_checked == 2  # LAST_MOMENT and IN_WINDOW; LAST_MOMENT and BEFORE
    assert total.outcomes == {"relief": 1, "excluded": 1} and total.candidates_found == 1


def test_alerts_not_yet_checked_are_waiting_and_overdue_once_past_their_due_time(session, world, campaign):
    a, b = world.household_a, world.household_b
    add_alert(session, a, IN_WINDOW, due_at=IN_WINDOW + timedelta(days=3))
    add_alert(session, b, IN_WINDOW, state="assigned", due_at=IN_WINDOW + timedelta(days=10))
    add_alert(
        session, b, IN_WINDOW, state="closed"
    )  # closed by the rule itself, no outcome: neither waiting nor checked
    session.commit()
    early = stats_for(session, world.township, campaign, TOWNSHIP, now=IN_WINDOW + timedelta(days=5))
    assert (early.total.alerts_raised, early.total.alerts_waiting, early.total.alerts_overdue) == (3, 2, 1)
    assert early.total.alerts_checked == 0
    late = stats_for(session, world.township, campaign, TOWNSHIP, now=AFTER + timedelta(days=30))
    assert late.total.alerts_overdue == 2
    rows = {row.name: row for row in late.children}
    assert rows["碗窑村"].alerts_overdue == 1 and rows["勐准村"].alerts_waiting == 1


def test_a_candidate_without_a_village_gets_a_row_of_its_own_and_counts_in_the_total(session, world, campaign, as_user):
    add_candidate(session, TOWNSHIP, IN_WINDOW)  # an address the import could only place in the township
    add_candidate(session, VILLAGE_B, IN_WINDOW, status="dismissed")
    session.commit()
    rows = table(as_user("township"), campaign)
    assert list(rows) == ["博尚镇（未分到村）", "碗窑村", "勐准村", "合计"]
    assert rows["博尚镇（未分到村）"][(DISCOVERY, "待核实对象")] == 1 and rows["合计"][(DISCOVERY, "待核实对象")] == 2
    stats = stats_for(session, world.township, campaign, TOWNSHIP)
    assert stats.total.candidates_waiting == 1  # the dismissed one was found, but is no longer waiting
    county = table(as_user("county"), campaign)
    assert list(county) == ["博尚镇", "合计"] and county["博尚镇"][(DISCOVERY, "待核实对象")] == 2


def test_an_outcome_without_a_column_still_counts_as_checked(session, world, campaign):
    add_alert(session, world.household_a, IN_WINDOW, outcome="duplicate", checked_at=IN_WINDOW)
    session.commit()
    total = stats_for(session, world.township, campaign, TOWNSHIP).total
    assert total.alerts_checked == 1 and total.outcomes == {}


def world_with_alerts(session, world):
    """Alerts of every outcome in 博尚镇 (and one in 凤庆县), two waiting (one overdue) and two candidates."""
    a, b = world.household_a, world.household_b
    for household, outcome in ((a, "dibao"), (a, "dibao"), (b, "tekun"), (a, "relief"), (b, "referral")):
        add_alert(session, household, IN_WINDOW, outcome=outcome, checked_at=IN_WINDOW)
    add_alert(session, b, BEFORE, outcome="resolved", checked_at=IN_WINDOW)
    add_alert(session, b, IN_WINDOW, outcome="excluded", checked_at=IN_WINDOW)
    add_alert(session, a, IN_WINDOW)  # overdue long since
    add_alert(session, b, IN_WINDOW, state="assigned", due_at=datetime(2099, 1, 1, tzinfo=UTC))
    add_alert(session, world.household_other, IN_WINDOW, outcome="dibao", checked_at=IN_WINDOW)
    add_candidate(session, VILLAGE_A, IN_WINDOW)
    add_candidate(session, VILLAGE_B, IN_WINDOW, status="registered")
    add_candidate(session, OTHER_VILLAGE, IN_WINDOW)
    session.commit()


def test_the_breakdown_shows_discovery_each_number_a_link_to_its_list(session, world, campaign, as_user):
    world_with_alerts(session, world)
    township = as_user("township")
    page = page_text(township.get("/coverage/breakdown", query_string={"campaign": campaign.id}))
    cells = discovery_cells(page)
    area, raised = f"/alerts/?area={TOWNSHIP}", "&raised_from=2026-02-25&raised_to=2026-02-28"
    checked = "&checked_from=2026-02-25&checked_to=2026-02-28"
    assert cells["发出预警"] == (area + "&state=all" + raised, "8 条")
    assert cells["其中尚未核实"] == (area + "&state=open" + raised, "2 条")
    assert cells["其中已逾期"] == (area + "&state=open&overdue=1" + raised, "1 条")
    found = "&created_from=2026-02-25&created_to=2026-02-28"
    assert cells["发现待核实对象"] == (f"/candidates/?area={TOWNSHIP}" + found, "2 人")
    assert cells["其中尚待核实"] == (f"/candidates/?area={TOWNSHIP}&status=open" + found, "1 人")
    assert "预警核实结果（已核实 7 条）" in page
    shown = {label: cells[label] for label in OUTCOMES.values()}
    assert shown == {
        label: (f"{area}&state=all&outcome={code}{checked}", f"{count} 条")
        for (code, label), count in zip(OUTCOMES.items(), (2, 1, 1, 1, 1, 1), strict=True)
    }
    for label, (link, number) in cells.items():  # each alert link's list holds exactly the alerts counted
        if link.startswith("/alerts/"):
            listed = page_text(township.get(link)).count('class="alert-row ')
            assert f"{listed} 条" == number, label
    assert 'stats-table__bad">1 条' in page  # the overdue one stands out


def test_the_breakdown_of_a_village_links_to_the_villages_lists(session, world, campaign, as_user):
    world_with_alerts(session, world)
    client = as_user("assistant_a")
    page = page_text(client.get("/coverage/breakdown", query_string={"campaign": campaign.id}))
    cells = discovery_cells(page)
    assert (
        cells["纳入低保"][0].startswith(f"/alerts/?area={VILLAGE_A}&state=all&outcome=dibao")
        and cells["纳入低保"][1] == "2 条"
    )
    assert cells["发出预警"][1] == "4 条" and cells["发现待核实对象"][1] == "1 人"


def test_the_breakdown_of_another_county_shows_none_of_these(session, world, campaign, as_user):
    world_with_alerts(session, world)
    page = page_text(as_user("other_county").get("/coverage/breakdown", query_string={"campaign": campaign.id}))
    cells = discovery_cells(page)
    assert cells["发出预警"][1] == "1 条" and cells["纳入低保"] == (
        f"/alerts/?area={OTHER_COUNTY}&state=all&outcome=dibao&checked_from=2026-02-25&checked_to=2026-02-28",
        "1 条",
    )
    assert cells["发现待核实对象"][1] == "1 人" and cells["纳入特困"][1] == "0 条"


def test_the_draft_tells_alerts_raised_checked_and_candidates_found(session, world, campaign):
    world_with_alerts(session, world)
    stats = stats_for(session, world.county, campaign, COUNTY)
    basic = draft_basic_situation(stats)
    assert basic.splitlines()[-1] == (
        "主动发现机制发出预警8条，期间核实7条，尚有2条未核实（其中逾期1条）；发现在册以外的待核实对象2人。"
    )
    assert draft_measures(stats) == (
        "对主动发现预警逐条入户核实，期间核实7条，其中纳入低保2户、纳入特困供养1户、实施临时救助1人次、"
        "转介相关部门1件、当场解决1件、核实排除1件。"
    )


def test_the_draft_says_so_when_there_was_nothing_to_check(session, world, campaign):
    stats = stats_for(session, world.county, campaign, COUNTY)
    assert draft_basic_situation(stats).splitlines()[-1] == "期间主动发现机制未发出预警。"
    assert draft_measures(stats) == ""  # the officer writes 解决措施 from scratch
    add_alert(session, world.household_a, BEFORE, outcome="dibao", checked_at=IN_WINDOW)
    session.commit()
    stats = stats_for(session, world.county, campaign, COUNTY)
    assert draft_basic_situation(stats).splitlines()[-1] == "期间核实主动发现预警1条。"
    assert draft_measures(stats) == "对主动发现预警逐条入户核实，期间核实1条，其中纳入低保1户。"


def test_the_county_opens_its_report_with_both_parts_drafted(session, world, campaign, as_user):
    world_with_alerts(session, world)
    page = page_text(as_user("county").get(f"/reports/work/{campaign.id}/{COUNTY}"))
    assert "发现在册以外的待核实对象2人" in page and "其中纳入低保2户、纳入特困供养1户、实施临时救助1人次" in page
    assert session.exec(select(WorkReport)).first() is None  # opening the page saves nothing


def test_regenerating_drafts_the_measures_only_when_they_are_empty(session, world, campaign, as_user):
    world_with_alerts(session, world)
    client = as_user("county")
    form = {
        "action": "regenerate",
        "version": 0,
        "basic_situation": "旧",
        "measures": "",
        "difficulties": "",
        "suggestions": "",
    }
    page = page_text(client.post(f"/reports/work/{campaign.id}/{COUNTY}", data=form))
    assert "并起草“解决措施”" in page and "其中纳入低保2户" in page
    page = page_text(client.post(f"/reports/work/{campaign.id}/{COUNTY}", data=form | {"measures": "一是逐户建台账。"}))
    assert "一是逐户建台账。" in page and "其中纳入低保2户" not in page and "并起草" not in page


def test_the_table_as_sent_keeps_its_discovery_figures_and_older_snapshots_still_load(session, world, campaign):
    world_with_alerts(session, world)
    stats = stats_for(session, world.county, campaign, COUNTY)
    report = WorkReport(campaign_id=campaign.id, area_code=COUNTY, statistics_snapshot=work_report.snapshot_json(stats))
    county = session.get(Area, COUNTY)
    again = work_report.snapshot_statistics(report, campaign, county)
    assert again.total == stats.total and again.children == stats.children
    assert read_both(statistics_xlsx.build(again)) == read_both(statistics_xlsx.build(stats))
    older = json.loads(report.statistics_snapshot)
    for row in [older["total"], *older["children"]]:
        for key in (
            "alerts_raised",
            "alerts_checked",
            "outcomes",
            "alerts_waiting",
            "alerts_overdue",
            "candidates_found",
        ):
            del row[key]
    report.statistics_snapshot = json.dumps(older)
    total = work_report.snapshot_statistics(report, campaign, county).total
    assert total.alerts_raised == 0 and total.outcomes == {} and total.relief_count == stats.total.relief_count


def test_the_discovery_figures_take_three_queries_whatever_the_number_of_villages(session, world, campaign):
    world_with_alerts(session, world)
    seen = []
    engine = session.get_bind()
    listener = lambda *args: seen.append(args[2])  # noqa: E731  (conn, cursor, statement, …)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        total = stats_for(session, world.city, campaign, CITY).total
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    discovery = [sql for sql in seen if "FROM alert" in sql or "FROM candidate" in sql]
    assert len(discovery) == 3 and all("GROUP BY" in sql for sql in discovery)
    assert total.alerts_raised == 9 and total.outcomes["dibao"] == 3  # both counties, from those same queries
