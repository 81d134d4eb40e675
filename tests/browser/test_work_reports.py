"""The work-report pages on a 360 px phone: the county writes and submits, the city sees who sent what."""

from tests.conftest import login
from tests.test_work_reports import PARTS, page_url, post, set_due
from tests.test_work_reports import campaign as campaign  # the fixture: a campaign with a visit and a need

WIDTH, MIN_TAP = 360, 44


def scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def short_targets(page, selector: str) -> list[str]:
    """Return the text of visible targets lower than a thumb needs."""
    boxes = [(element.inner_text().strip(), element.bounding_box()) for element in page.locator(selector).all()]
    return [name for name, box in boxes if box is not None and box["height"] < MIN_TAP]


def test_a_county_officer_fills_in_and_submits_the_report_on_a_phone(page, live_server, sign_in, world, campaign):
    sign_in(world.county)
    page.goto(live_server + page_url(campaign))
    assert "临翔区共有在册困难群众2户2人" in page.locator("#part-basic_situation").input_value()
    assert scroll_width(page) <= WIDTH
    assert short_targets(page, ".btn-area .weui-btn, .report-part__head .link-button, .report-files a") == []
    for key in ("measures", "difficulties", "suggestions"):
        page.locator(f"#part-{key}").fill(PARTS[key])
    with page.expect_navigation():
        page.get_by_role("button", name="提交报告").tap()
    assert "工作报告已提交市民政局" in page.content()
    assert page.locator("textarea").count() == 0 and "逐户建立台账" in page.content()
    assert scroll_width(page) <= WIDTH


def test_a_missing_part_is_marked_and_focused(page, live_server, sign_in, world, campaign, page_errors):
    page_errors.expect("400")  # the form is answered with 400 on purpose
    sign_in(world.county)
    page.goto(live_server + page_url(campaign))
    with page.expect_navigation():
        page.get_by_role("button", name="提交报告").tap()
    assert page.locator("#measures-error").inner_text() == "请填写“解决措施”"
    assert page.evaluate("document.activeElement.id") == "part-measures"


def test_the_city_sees_each_county_on_a_phone(page, live_server, sign_in, world, session, client, campaign):
    set_due(session, campaign, -1)
    login(client, world.county)
    post(client, campaign, "submit", 0)
    sign_in(world.city)
    page.goto(f"{live_server}/reports/work?campaign={campaign.id}")
    first = page.locator(".report-row").first
    assert "临翔区" in first.inner_text() and first.locator(".report-timing--late").count() == 2
    assert page.locator(".report-timing--overdue").count() == 14  # the seven other counties, both parts
    assert scroll_width(page) <= WIDTH
    assert short_targets(page, ".report-row__name, .report-row__file, .filters .weui-btn") == []
    page.goto(live_server + page_url(campaign))
    assert page.get_by_role("button", name="退回临翔区修改").is_visible()
    assert scroll_width(page) <= WIDTH
