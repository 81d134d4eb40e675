"""The county's four-part work report: drafting from the data, saving, submitting, the city's view, Word export."""

import re
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from io import BytesIO

import pytest
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook
from sqlmodel import select

from models import Area, AuditEvent, Campaign, Need, WorkReport
from services.api.schemas import VisitIn
from services.audit import Actor
from services.campaigns import stats as campaign_stats
from services.campaigns import work_report
from services.campaigns.work_report_draft import draft_basic_situation
from services.clock import CHINA
from services.visits.visits import record_visit
from tests.conftest import COUNTY, OTHER_COUNTY, TOWNSHIP, add_user, login, page_text
from tests.discovery_helpers import add_alert, add_candidate

TODAY = datetime.now(CHINA).date()
START, END = TODAY - timedelta(days=10), TODAY - timedelta(days=5)
IN_WINDOW = datetime.combine(START + timedelta(days=1), datetime.min.time(), CHINA) + timedelta(hours=10)
PARTS = {
    "basic_situation": "临翔区在册困难群众2户2人。",
    "measures": "一是逐户建立台账。\n二是及时实施临时救助。",
    "difficulties": "山区路远，协理员人手不足。",
    "suggestions": "建议增加协理员补助经费。",
}


@pytest.fixture
def campaign(session, world):
    """A campaign that ended five days ago, its table and report due in three days; household_a visited, one need."""
    campaign = Campaign(
        name="春节前排查回访",
        start_date=START,
        end_date=END,
        statistics_due=TODAY + timedelta(days=3),
        report_due=TODAY + timedelta(days=3),
        created_by_id=world.city.id,
    )
    session.add(campaign)
    session.add(
        Need(
            household_id=world.household_a.id,
            area_code=world.household_a.area_code,
            type="medical",
            description="张明华需要复查",
            status="resolved",
            created_by_id=world.assistant_a.id,
            created_at=IN_WINDOW.astimezone(UTC),
            resolved_at=IN_WINDOW.astimezone(UTC),
        )
    )
    session.commit()
    visit(session, world.assistant_a, world.household_a)
    return campaign


def visit(session, user, household) -> None:
    payload = VisitIn(uuid=uuid.uuid4(), household_id=household.id, kind="survey", visited_at=IN_WINDOW)
    record_visit(session, Actor(user=user, ip="127.0.0.1"), payload)
    session.commit()


def page_url(campaign, area_code=COUNTY, tail="") -> str:
    return f"/reports/work/{campaign.id}/{area_code}{tail}"


def post(client, campaign, action, version, **parts):
    return client.post(page_url(campaign), data={"action": action, "version": version, **PARTS, **parts})


def stored(session, campaign) -> WorkReport | None:
    query = select(WorkReport).where(WorkReport.campaign_id == campaign.id, WorkReport.area_code == COUNTY)
    return session.exec(query.execution_options(populate_existing=True)).first()


def set_due(session, campaign, days: int) -> None:
    """Move both deadlines `days` from today (negative: already passed)."""
    campaign.statistics_due = campaign.report_due = TODAY + timedelta(days=days)
    session.add(campaign)
    session.commit()


def county_row(page: str, name: str) -> str:
    """Return the city list's block for one county."""
    return next(block for block in page.split('class="report-row"')[1:] if f">{name}</a>" in block)


def statistics_now(session, world, campaign):
    return campaign_stats.statistics(session, world.county, campaign, session.get(Area, COUNTY))


def test_the_draft_tells_the_county_its_real_numbers(as_user, session, world, campaign):
    page = page_text(as_user("county").get(page_url(campaign)))
    assert "临翔区共有在册困难群众2户2人" in page
    assert "低保1人、特困（分散供养）1人、重病1人" in page
    assert "共排查回访1户1人，户排查率50.0%，尚有1户未排查" in page
    assert "排查中发现问题1个，其中医疗1个；已解决1个，已全部解决" in page
    assert draft_basic_situation(statistics_now(session, world, campaign)) in page
    assert stored(session, campaign) is None  # opening the page saves nothing


def test_a_saved_draft_comes_back_on_reload_and_is_audited(as_user, session, campaign):
    client = as_user("county")
    response = post(client, campaign, "save", 0)
    assert response.status_code == 302
    page = page_text(client.get(page_url(campaign)))
    assert "草稿已保存" in page and "协理员人手不足" in page and 'name="version" value="1"' in page
    report = stored(session, campaign)
    assert report.measures == PARTS["measures"] and report.version == 1 and report.report_submitted_at is None
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "work_report.saved")).one().object_id == str(
        report.id
    )


def test_a_save_on_a_stale_version_is_refused_and_keeps_what_was_typed(as_user, session, campaign):
    client = as_user("county")
    post(client, campaign, "save", 0)
    response = post(client, campaign, "save", 0, difficulties="另一位同事写的困难")
    page = page_text(response, 409)
    assert "已被他人修改，请刷新后再改" in page
    assert "您刚才填写、没有保存的内容" in page and "另一位同事写的困难" in page
    report = stored(session, campaign)
    assert report.difficulties == PARTS["difficulties"] and report.version == 1


def test_two_officers_saving_the_first_draft_at_once_make_one_report(app, session, world, password_hash, campaign):
    """The second insert meets the unique (campaign, county): it is told to refresh, not shown an error page."""
    deputy = add_user(session, password_hash, "county-2", "county", COUNTY, display_name="李副科长")
    session.commit()
    clients = [app.test_client(), app.test_client()]
    login(clients[0], world.county)
    login(clients[1], deputy)
    start, results = threading.Barrier(2), [None, None]

    def save(index):
        start.wait()
        results[index] = post(clients[index], campaign, "save", 0, measures=f"第{index}位的措施").status_code

    threads = [threading.Thread(target=save, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [302, 409]
    assert len(session.exec(select(WorkReport)).all()) == 1


def test_submitting_with_a_part_missing_is_refused_and_changes_nothing(as_user, session, campaign):
    client = as_user("county")
    post(client, campaign, "save", 0)
    response = post(client, campaign, "submit", 1, measures="  ", suggestions="新的建议")
    page = page_text(response, 400)
    assert "请填写“解决措施”" in page and 'aria-invalid="true"' in page
    assert "新的建议" in page  # what was typed stays in the form
    report = stored(session, campaign)
    assert report.version == 1 and report.report_submitted_at is None and report.statistics_snapshot is None
    assert report.suggestions == PARTS["suggestions"]


def test_a_report_submitted_before_the_due_date_shows_as_on_time(as_user, client, session, world, campaign):
    response = post(as_user("county"), campaign, "submit", 0)
    assert response.status_code == 302
    report = stored(session, campaign)
    assert report.report_submitted_at is not None and report.report_submitted_by_id == world.county.id
    assert report.statistics_submitted_at is not None  # the table went with it
    login(client, world.city)
    page = page_text(client.get("/reports/work", query_string={"campaign": campaign.id}))
    row = county_row(page, "临翔区")
    assert row.count("report-timing--on_time") == 2 and "按时" in row and "逾期" not in row
    assert f"/reports/work/{campaign.id}/{COUNTY}/report.docx" in row
    assert "未报送" in county_row(page, "凤庆县")
    assert "工作报告已报" in page


def test_a_report_submitted_after_the_due_date_shows_as_late(as_user, client, session, world, campaign):
    set_due(session, campaign, -1)
    post(as_user("county"), campaign, "submit", 0)
    login(client, world.city)
    row = county_row(page_text(client.get("/reports/work", query_string={"campaign": campaign.id})), "临翔区")
    assert row.count("report-timing--late") == 2 and "逾期未报" not in row


def test_a_county_that_has_sent_nothing_after_the_due_date_is_overdue(as_user, session, campaign):
    set_due(session, campaign, -1)
    page = page_text(as_user("city").get("/reports/work", query_string={"campaign": campaign.id}))
    row = county_row(page, "凤庆县")
    assert row.count("逾期未报") == 2 and "report.docx" not in row
    assert "逾期未报 8" in page  # every county of 临沧 is late with both


def test_the_deadline_is_judged_by_the_day_in_china(campaign):
    due = date(2026, 3, 4)
    late_evening = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)  # 23:30 in China, still the 4th
    after_midnight = datetime(2026, 3, 4, 16, 10, tzinfo=UTC)  # 00:10 on the 5th in China
    assert work_report.timing(late_evening, due, date(2026, 3, 9)) == "on_time"
    assert work_report.timing(after_midnight, due, date(2026, 3, 9)) == "late"
    assert work_report.timing(None, due, date(2026, 3, 4)) == "pending"
    assert work_report.timing(None, due, date(2026, 3, 5)) == "overdue"
    assert work_report.timing(None, None, date(2026, 3, 5)) == "pending"


def test_a_submitted_report_is_read_only_until_the_city_returns_it(as_user, client, session, world, campaign):
    county = as_user("county")
    post(county, campaign, "submit", 0)
    page = page_text(county.get(page_url(campaign)))
    assert 'name="measures"' not in page and "逐户建立台账" in page
    refused = post(county, campaign, "save", 1, measures="改一改")
    assert "报告已提交，不能再修改" in page_text(refused, 409)
    login(client, world.city)
    reason = {"version": 1, "reason": "请补充临时救助的具体数字"}
    returned = client.post(page_url(campaign, tail="/return"), data=reason)
    assert returned.status_code == 302
    assert "已退回" in county_row(page_text(client.get(returned.headers["Location"])), "临翔区")
    login(county, world.county)
    page = page_text(county.get(page_url(campaign)))
    assert "退回修改" in page and "请补充临时救助的具体数字" in page and 'name="measures"' in page
    assert post(county, campaign, "save", 2, measures="改好了").status_code == 302
    report = stored(session, campaign)
    assert report.measures == "改好了" and report.report_submitted_at is None
    assert report.statistics_snapshot is not None  # the table stays sent unless the city returns it too


def test_the_city_may_return_the_table_too(as_user, client, session, world, campaign):
    post(as_user("county"), campaign, "submit", 0)
    login(client, world.city)
    client.post(page_url(campaign, tail="/return"), data={"version": 1, "reason": "数字有误", "statistics": "1"})
    report = stored(session, campaign)
    assert report.statistics_snapshot is None and report.statistics_submitted_at is None


def test_returning_needs_a_reason(as_user, client, session, world, campaign):
    post(as_user("county"), campaign, "submit", 0)
    login(client, world.city)
    response = client.post(page_url(campaign, tail="/return"), data={"version": 1, "reason": " "})
    assert "请写明退回的原因" in page_text(response, 400)
    assert stored(session, campaign).report_submitted_at is not None


def still_submitted(session, campaign) -> bool:
    """Tell whether the county's report is still submitted and was never returned (nor the return audited)."""
    report = stored(session, campaign)
    returned = session.exec(select(AuditEvent).where(AuditEvent.action == "work_report.returned")).all()
    return report.report_submitted_at is not None and report.returned_at is None and returned == []


def test_returning_requires_login_and_changes_nothing(app, as_user, session, campaign):
    post(as_user("county"), campaign, "submit", 0)
    response = app.test_client().post(page_url(campaign, tail="/return"), data={"version": 1, "reason": "补充"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert still_submitted(session, campaign)


def test_returning_another_countys_report_gets_404(as_user, session, campaign):
    post(as_user("county"), campaign, "submit", 0)
    other = as_user("other_county")
    assert other.post(page_url(campaign, tail="/return"), data={"version": 1, "reason": "补充"}).status_code == 404
    assert still_submitted(session, campaign)


@pytest.mark.parametrize("area_code", ["530999000000", TOWNSHIP])  # no such county; a township, not a county
def test_returning_the_report_of_a_county_that_does_not_exist_gets_404(as_user, session, campaign, area_code):
    post(as_user("county"), campaign, "submit", 0)
    city = as_user("city")
    response = city.post(page_url(campaign, area_code, tail="/return"), data={"version": 1, "reason": "补充"})
    assert response.status_code == 404
    assert still_submitted(session, campaign)


def test_only_county_officers_write_and_only_the_city_returns(as_user, session, campaign):
    city = as_user("city")
    assert post(city, campaign, "save", 0).status_code == 403
    assert stored(session, campaign) is None
    county = as_user("county")
    post(county, campaign, "submit", 0)
    assert county.post(page_url(campaign, tail="/return"), data={"version": 1, "reason": "x"}).status_code == 403


def docx_of(response) -> Document:
    assert response.status_code == 200
    return Document(BytesIO(response.data))


def table_row(table, index: int) -> list[str]:
    return [cell.text for cell in table.rows[index].cells]


def test_the_word_report_holds_the_four_parts_the_table_and_chinese_fonts(as_user, client, session, world, campaign):
    post(as_user("county"), campaign, "submit", 0)
    login(client, world.city)
    response = client.get(page_url(campaign, tail="/report.docx"))
    assert f'filename="work-report-{campaign.id}-{COUNTY}.docx"' in response.headers["Content-Disposition"]
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    document = docx_of(response)
    lines = [paragraph.text for paragraph in document.paragraphs]
    assert lines[0] == "临翔区加强困难群众兜底保障工作情况报告"
    assert "春节前排查回访" in lines[1]
    for heading in ("一、对象基本情况", "二、解决措施", "三、存在困难", "四、下步工作建议"):
        assert heading in lines
    assert {"一是逐户建立台账。", "二是及时实施临时救助。", "山区路远，协理员人手不足。"} <= set(lines)
    table = document.tables[0]
    labels, total = table_row(table, 1), table_row(table, len(table.rows) - 1)
    figures = dict(zip(labels, total, strict=True))
    expected = statistics_now(session, world, campaign).total
    assert total[0] == "合计" and table_row(table, 2)[0] == "博尚镇"
    assert figures["应排查户数"] == str(expected.tally.households_due) == "2"
    assert figures["已排查户数"] == str(expected.tally.households_visited) == "1"
    assert figures["应排查人数"] == str(expected.tally.persons_due)
    assert figures["低保"] == str(expected.persons_by_category["dibao"]) == "1"
    assert figures["医疗"] == "1" and figures["已解决（个）"] == str(expected.needs_resolved) == "1"
    assert {"排查情况", "对象类别（人）", "发现问题（个）", "解决情况"} <= set(table_row(table, 0))
    assert document.sections[1].page_width > document.sections[1].page_height  # the table's page is landscape
    east_asian = {
        name: document.styles[name].element.rPr.rFonts.get(qn("w:eastAsia")) for name in ("Normal", "Heading 1", "附表")
    }
    assert east_asian == {"Normal": "仿宋", "Heading 1": "黑体", "附表": "宋体"}
    assert document.styles["Heading 1"].element.rPr.rFonts.get(qn("w:eastAsiaTheme")) is None
    events = session.exec(select(AuditEvent.action, AuditEvent.user_id)).all()
    assert ("work_report.downloaded", world.city.id) in events


def test_the_word_report_keeps_37_columns_and_sets_discovery_in_a_second_legible_table(
    as_user, session, world, campaign
):
    checked = IN_WINDOW.astimezone(UTC)
    add_alert(session, world.household_a, checked, outcome="dibao", checked_at=checked)
    add_alert(session, world.household_a, IN_WINDOW.astimezone(UTC))  # raised, not yet checked
    add_candidate(session, world.household_a.area_code, IN_WINDOW.astimezone(UTC))
    session.commit()
    document = docx_of(as_user("county").get(page_url(campaign, tail="/report.docx")))
    main, discovery = document.tables
    assert len(main.columns) == 37 and "主动发现（个）" not in table_row(main, 0)
    lines = [paragraph.text for paragraph in document.paragraphs]
    assert "临翔区春节前排查回访主动发现情况统计表" in lines
    assert len(discovery.columns) == 12 and len(discovery.rows) == 3 + 2  # three header rows, 博尚镇 and 合计
    assert table_row(discovery, 0) == ["地区", *["主动发现（个）"] * 11]
    assert table_row(discovery, 1)[1:] == [*["预警核实"] * 4, *["核实结果"] * 6, "待核实对象"]
    labels = table_row(discovery, 2)
    assert labels[1:] == [
        "发出预警",
        "已核实",
        "未核实",
        "其中逾期",
        "纳入低保",
        "纳入特困",
        "临时救助",
        "转介",
        "已解决",
        "排除",
        "待核实对象",
    ]
    expected = statistics_now(session, world, campaign)
    for index, row in ((3, expected.children[0]), (4, expected.total)):
        figures = dict(zip(labels[1:], table_row(discovery, index)[1:], strict=True))
        assert figures["发出预警"] == str(row.alerts_raised) == "2" and figures["未核实"] == "1"
        assert figures["已核实"] == figures["纳入低保"] == "1" and figures["纳入特困"] == "0"
        assert figures["待核实对象"] == str(row.candidates_found) == "1"
    assert table_row(discovery, 3)[0] == "博尚镇" and table_row(discovery, 4)[0] == "合计"
    assert discovery.rows[4].cells[1].paragraphs[0].runs[0].bold  # 合计 in bold
    sizes = {cell.paragraphs[0].style.font.size.pt for row in discovery.rows for cell in row.cells}
    assert sizes == {10.5} and document.styles["附表"].font.size.pt == 6.5  # 12 columns take 五号, 37 stay small
    assert all(row._tr.trPr.find(qn("w:tblHeader")) is not None for row in discovery.rows[:3])


def test_an_unsaved_report_exports_with_the_draft(as_user, session, world, campaign):
    document = docx_of(as_user("county").get(page_url(campaign, tail="/report.docx")))
    lines = [paragraph.text for paragraph in document.paragraphs]
    assert "（未填写）" in lines and any(line.startswith("临翔区共有在册困难群众2户2人") for line in lines)
    assert any("统计表尚未报送" in line for line in lines)


def test_the_sent_table_does_not_change_after_new_visits(as_user, client, session, world, campaign):
    county = as_user("county")
    assert post(county, campaign, "send_statistics", 0).status_code == 302
    visit(session, world.assistant_b, world.household_b)
    assert statistics_now(session, world, campaign).total.tally.households_visited == 2
    document = docx_of(county.get(page_url(campaign, tail="/report.docx")))
    table = document.tables[0]
    figures = dict(zip(table_row(table, 1), table_row(table, len(table.rows) - 1), strict=True))
    assert figures["已排查户数"] == "1"
    assert any("报送时的数据" in paragraph.text for paragraph in document.paragraphs)
    login(client, world.city)
    response = client.get(page_url(campaign, tail="/statistics.xlsx"))
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.data)).active
    total_row = next(row for row in sheet.iter_rows(values_only=True) if row[0] == "合计")
    labels = next(row for row in sheet.iter_rows(values_only=True) if row and "已排查户数" in row)
    assert total_row[labels.index("已排查户数")] == 1


def test_sending_the_table_twice_is_refused(as_user, session, campaign):
    county = as_user("county")
    post(county, campaign, "send_statistics", 0)
    response = post(county, campaign, "send_statistics", 1)
    assert "统计表已报送" in page_text(response, 409)


def test_regenerate_redrafts_from_the_latest_data_without_saving(as_user, session, world, campaign):
    county = as_user("county")
    post(county, campaign, "save", 0, basic_situation="旧的情况")
    visit(session, world.assistant_b, world.household_b)
    page = page_text(post(county, campaign, "regenerate", 1, basic_situation="旧的情况"))
    assert "共排查回访2户2人，户排查率100.0%，做到不漏一户一人" in page and "旧的情况" not in page
    assert "已按最新数据重新生成" in page
    assert stored(session, campaign).basic_situation == "旧的情况"


def test_a_county_officer_lands_on_their_own_report(as_user, campaign):
    response = as_user("county").get("/reports/work", query_string={"campaign": campaign.id})
    assert response.status_code == 302 and response.headers["Location"].endswith(page_url(campaign))


def test_another_countys_officer_gets_404(as_user, campaign):
    post(as_user("county"), campaign, "submit", 0)
    other = as_user("other_county")
    for tail in ("", "/report.docx", "/statistics.xlsx"):
        assert other.get(page_url(campaign, tail=tail)).status_code == 404
    assert post(other, campaign, "save", 0).status_code == 404
    assert "临翔区" not in page_text(other.get(page_url(campaign, OTHER_COUNTY)))


def test_a_township_code_is_not_a_county_report(as_user, campaign):
    assert as_user("county").get(page_url(campaign, TOWNSHIP)).status_code == 404


@pytest.mark.parametrize("role", ["township", "assistant_a"])
def test_townships_and_villages_get_403(as_user, campaign, role):
    client = as_user(role)
    assert client.get("/reports/work").status_code == 403
    for tail in ("", "/report.docx"):
        assert client.get(page_url(campaign, tail=tail)).status_code == 403


@pytest.mark.parametrize("tail", ["", "/report.docx", "/statistics.xlsx"])
def test_report_pages_require_login(client, campaign, tail):
    response = client.get(page_url(campaign, tail=tail))
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "/login" in client.get("/reports/work").headers["Location"]


def test_without_campaigns_the_list_says_so(as_user, world):
    assert "还没有排查专项" in page_text(as_user("city").get("/reports/work"))


def test_every_save_submit_and_return_is_audited(as_user, client, session, world, campaign):
    county = as_user("county")
    post(county, campaign, "save", 0)
    post(county, campaign, "send_statistics", 1)
    post(county, campaign, "submit", 2)
    login(client, world.city)
    client.post(page_url(campaign, tail="/return"), data={"version": 3, "reason": "补充"})
    actions = [event.action for event in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
    work = [action for action in actions if action.startswith("work_report.")]
    assert work == ["work_report.saved", "work_report.statistics_sent", "work_report.submitted", "work_report.returned"]


def test_the_city_page_links_each_county(as_user, campaign):
    page = page_text(as_user("city").get("/reports/work", query_string={"campaign": campaign.id}))
    assert len(re.findall(r'class="report-row"', page)) == 8
    assert f'href="/reports/work/{campaign.id}/{COUNTY}"' in page
