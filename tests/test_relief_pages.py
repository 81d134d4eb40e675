"""The relief pages: the application form, the approver's one screen, decisions, the 审批 tab and its badge."""

import io
import re
import uuid
from datetime import timedelta

import pytest
from PIL import Image
from sqlmodel import func, select

from models import Area, AuditEvent, Need, Person, ReliefApplication, ReliefEvent, TownshipFund, utcnow
from services.api.relief_schemas import ReliefIn
from services.api.schemas import VisitIn
from services.audit import Actor
from services.relief.apply import create_application
from services.relief.evidence import add_relief_photo
from services.relief.machine import Decision, decide
from services.visits.visits import record_visit
from tests.conftest import COUNTY, TOWNSHIP, page_text


def add_fund(session, balance_yuan=10_000, limit_yuan=1_000):
    fund = TownshipFund(
        area_code=TOWNSHIP,
        year=utcnow().year,
        reserve_fen=balance_yuan * 100,
        balance_fen=balance_yuan * 100,
        approval_limit_fen=limit_yuan * 100,
    )
    session.add(fund)
    session.commit()
    return fund


def raised(session, world, amount="600", urgent=False, submit=True, household=None, by=None):
    """Store an application (for the household's head) through the same service the form uses."""
    household = household or world.household_a
    head = session.exec(select(Person.id).where(Person.household_id == household.id, Person.is_head)).one()
    payload = ReliefIn(
        uuid=uuid.uuid4(),
        household_id=household.id,
        person_id=head,
        reason="fire",
        circumstances="房屋失火，衣物被褥全部烧毁",
        amount_yuan=amount,
        payment_form="cash",
        urgent=urgent,
        submit=submit,
    )
    application, _created = create_application(session, Actor(user=by or world.assistant_a, ip="127.0.0.1"), payload)
    session.commit()
    return application


def decided(session, user, application, action, **details):
    application = session.get(ReliefApplication, application.id)
    session.refresh(application)
    decide(session, Actor(user=user, ip="127.0.0.1"), application, Decision(action, application.version, **details))
    session.commit()
    return application


def form_uuid(body: str) -> str:
    return re.search(r'name="uuid" value="([0-9a-f-]{36})"', body).group(1)


def version_in(body: str) -> int:
    return int(re.search(r'name="version" value="(\d+)"', body).group(1))


def application_fields(**changes):
    fields = {
        "person_id": "",
        "reason": "fire",
        "circumstances": "房屋失火，衣物被褥全部烧毁",
        "amount_yuan": "600",
        "payment_form": "cash",
        "urgent": "1",
        "submit": "submit",
    }
    fields.update(changes)
    return fields


def post_form(client, world, household=None, need=None, **changes):
    household = household or world.household_a
    url = f"/relief/new?household={household.id}" + (f"&need={need.id}" if need else "")
    body = page_text(client.get(url))
    person = re.search(r'<option value="(\d+)"', body).group(1)
    fields = application_fields(**{"person_id": person, **changes})
    return client.post(url, data={"uuid": form_uuid(body), **fields}), url, fields


def count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def show(client, application):
    return client.get(f"/relief/{application.id}")


def decide_by_form(client, application, action, version, **fields):
    return client.post(f"/relief/{application.id}/decisions", data={"action": action, "version": version, **fields})


# ---- the application form ------------------------------------------------------------------


def test_form_offers_the_members_grouped_reasons_payment_forms_and_the_urgent_switch(as_user, world):
    body = page_text(as_user("assistant_a").get(f"/relief/new?household={world.household_a.id}"))
    assert "碗窑村 0001号" in body and "张明华（本人）" in body
    assert '<optgroup label="急难型">' in body and '<optgroup label="疫情影响">' in body
    assert "支出型·医疗" in body and "疫情影响·返乡失业" in body
    assert 'inputmode="decimal"' in body
    for words in ("一卡通", "现金", "实物", "先行救助", "存为草稿", "提交申请"):
        assert words in body
    assert uuid.UUID(form_uuid(body))


def test_each_opening_of_the_form_gets_its_own_uuid(as_user, world):
    client = as_user("assistant_a")
    url = f"/relief/new?household={world.household_a.id}"
    first, second = (form_uuid(page_text(client.get(url))) for _ in range(2))
    assert first != second


def test_form_requires_login(client, world):
    response = client.get(f"/relief/new?household={world.household_a.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_form_for_another_villages_household_gets_404(as_user, world, session):
    assert as_user("assistant_b").get(f"/relief/new?household={world.household_a.id}").status_code == 404
    assert as_user("other_county").get(f"/relief/new?household={world.household_a.id}").status_code == 404
    assert count(session, ReliefApplication) == 0


def test_county_officers_do_not_raise_applications(as_user, world):
    assert as_user("county").get(f"/relief/new?household={world.household_a.id}").status_code == 403


def test_an_exited_household_cannot_apply(as_user, world, session):
    household = session.get(type(world.household_a), world.household_a.id)
    household.status = "exited"
    session.add(household)
    session.commit()
    response = as_user("assistant_a").get(f"/relief/new?household={world.household_a.id}")
    assert "已退出在册" in page_text(response, 409)


def test_assistant_submits_an_application_and_lands_on_it(as_user, world, session):
    client = as_user("assistant_a")
    response, _url, _fields = post_form(client, world)
    application = session.exec(select(ReliefApplication)).one()
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/relief/{application.id}")
    assert application.state == "submitted" and application.amount_requested_fen == 60000 and application.urgent
    assert "已提交，等待乡镇审批" in page_text(client.get(response.headers["Location"]))


def test_a_double_submit_makes_one_application(as_user, world, session):
    client = as_user("assistant_a")
    url = f"/relief/new?household={world.household_a.id}"
    body = page_text(client.get(url))
    data = {"uuid": form_uuid(body), **application_fields(person_id=str(world.head_a.id))}
    first, second = client.post(url, data=data), client.post(url, data=data)
    assert count(session, ReliefApplication) == 1
    assert first.headers["Location"] == second.headers["Location"]
    assert "没有重复保存" in page_text(client.get(second.headers["Location"]))


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "金额必须大于 0"),
        ("-5", "金额必须大于 0"),
        ("1000001", "金额不能超过 100 万元"),
        ("abc", "金额格式不对"),
        ("1.234", "金额最多保留两位小数"),
        ("", "请填写申请金额"),
    ],
)
def test_bad_amounts_are_refused_next_to_the_field_and_nothing_is_stored(as_user, world, session, amount, message):
    response, _url, _fields = post_form(as_user("assistant_a"), world, amount_yuan=amount)
    body = page_text(response, 400)
    assert f'<p class="field-error" id="amount_yuan-error" role="alert">{message}' in body
    assert f'value="{amount}"' in body and "房屋失火" in body  # what was typed stays
    assert count(session, ReliefApplication) == 0 and count(session, ReliefEvent) == 0


def test_missing_fields_are_named_each_next_to_its_field(as_user, world, session):
    response, _url, _fields = post_form(
        as_user("assistant_a"), world, reason="", circumstances=" ", payment_form="", person_id="999999"
    )
    body = page_text(response, 400)
    assert "有 4 处需要修改" in body
    for message in ("请选择遇到困难的家庭成员", "请选择救助原因", "请写明困难情况", "请选择发放方式"):
        assert message in body
    assert count(session, ReliefApplication) == 0


def test_a_relief_need_starts_the_form_prefilled_and_is_linked(as_user, world, session):
    need = Need(
        household_id=world.household_a.id,
        area_code=world.household_a.area_code,
        type="temporary_relief",
        description="老人突发重病住院，家中无钱缴费",
        created_by_id=world.assistant_a.id,
    )
    session.add(need)
    session.commit()
    client = as_user("assistant_a")
    need_page = page_text(client.get(f"/needs/{need.id}"))
    assert f"/relief/new?household={world.household_a.id}&amp;need={need.id}" in need_page
    body = page_text(client.get(f"/relief/new?household={world.household_a.id}&need={need.id}"))
    assert "老人突发重病住院，家中无钱缴费</textarea>" in body
    post_form(client, world, need=need)
    assert session.exec(select(ReliefApplication)).one().need_id == need.id


def test_a_draft_is_kept_then_edited_and_submitted_by_its_creator(as_user, world, session):
    client = as_user("assistant_a")
    post_form(client, world, submit="draft", amount_yuan="500")
    application = session.exec(select(ReliefApplication)).one()
    assert application.state == "draft"
    page = page_text(show(client, application))
    assert "修改" in page and f"/relief/{application.id}/edit" in page
    form = page_text(client.get(f"/relief/{application.id}/edit"))
    assert 'value="500.00"' in form
    response = client.post(
        f"/relief/{application.id}/edit",
        data={"version": version_in(form), **application_fields(person_id=str(world.head_a.id), amount_yuan="450")},
    )
    assert response.status_code == 302
    session.refresh(application)
    assert application.state == "submitted" and application.amount_requested_fen == 45000
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "relief.edited")).first() is not None


def test_only_the_creator_edits_and_only_drafts_or_returned_ones(as_user, world, session):
    application = raised(session, world)
    assert as_user("assistant_a").get(f"/relief/{application.id}/edit").status_code == 403  # submitted
    draft = raised(session, world, submit=False)
    assert as_user("township").get(f"/relief/{draft.id}/edit").status_code == 403
    assert as_user("assistant_b").get(f"/relief/{draft.id}/edit").status_code == 404


def test_edit_requires_login_and_changes_nothing(client, world, session):
    draft = raised(session, world, submit=False)
    url = f"/relief/{draft.id}/edit"
    fields = {"version": draft.version, **application_fields(person_id=str(world.head_a.id), amount_yuan="450")}
    for response in (client.get(url), client.post(url, data=fields)):
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    session.refresh(draft)
    assert draft.amount_requested_fen == 60000 and draft.state == "draft" and draft.version == fields["version"]
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "relief.edited")).first() is None


def test_edit_refuses_a_bad_amount_and_changes_nothing(as_user, world, session):
    draft = raised(session, world, submit=False)
    response = as_user("assistant_a").post(
        f"/relief/{draft.id}/edit", data={"version": draft.version, **application_fields(amount_yuan="-5")}
    )
    assert "金额必须大于 0" in page_text(response, 400)
    session.refresh(draft)
    assert draft.amount_requested_fen == 60000 and draft.state == "draft"


def test_a_returned_application_is_fixed_and_submitted_again(as_user, world, session):
    add_fund(session)
    application = raised(session, world)
    decided(session, world.township, application, "return", comment="请补充医院诊断书")
    client = as_user("assistant_a")
    page = page_text(show(client, application))
    assert "退回补充材料" in page and "请补充医院诊断书" in page
    form = page_text(client.get(f"/relief/{application.id}/edit"))
    assert "重新提交" in form
    client.post(
        f"/relief/{application.id}/edit",
        data={"version": version_in(form), **application_fields(person_id=str(world.head_a.id))},
    )
    session.refresh(application)
    assert application.state == "submitted"


# ---- the approver's one screen -------------------------------------------------------------


def visited(session, world):
    payload = VisitIn(
        uuid=uuid.uuid4(),
        household_id=world.household_a.id,
        kind="adhoc",
        risk="urgent",
        location={"lat": 23.88, "lon": 100.08, "accuracy": 12},
        needs=[{"type": "temporary_relief", "description": "房屋失火，需要临时救助"}],
    )
    visit, _created = record_visit(session, Actor(user=world.assistant_a, ip="127.0.0.1"), payload)
    session.commit()
    return visit


def test_approver_screen_shows_who_why_evidence_past_relief_reserve_and_limit(as_user, world, session):
    add_fund(session)
    visited(session, world)
    earlier = raised(session, world, amount="300")
    decided(session, world.township, earlier, "approve")
    application = raised(session, world, urgent=True)
    body = page_text(show(as_user("township"), application))
    assert "张明华" in body and "530902********8663" in body and "530902194505168663" not in body
    assert "碗窑村 · 0001号" in body or "碗窑村 · 0001号" in body.replace("博尚镇 · ", "")
    assert "低保" in body and "重病" in body
    assert "紧急 · 先行救助" in body and "急难型·火灾" in body
    assert '申请 <span class="relief-money__num">600</span> 元 / 乡镇额度 1,000 元' in body
    assert '余额 <strong class="relief-balance">9,700 元</strong>' in body
    assert "临时探视" in body and "有定位 ±12 米" in body
    assert "近 12 个月的临时救助（已批准共 300 元）" in body and "300 元 · 已批准，待发放" in body
    assert "提出申请" in body and "李协理" in body
    assert 'href="#do-approve"' in body and 'id="do-approve"' in body and "weui-dialog" in body
    assert 'id="do-reject"' in body and 'id="do-return"' in body and 'id="do-forward"' in body
    assert 'value="600.00"' in body  # the approve dialog's amount, prefilled


def test_approver_screen_requires_login(client, world, session):
    application = raised(session, world)
    response = show(client, application)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_another_villages_assistant_and_another_countys_officer_get_404(as_user, world, session):
    application = raised(session, world)
    assert show(as_user("assistant_b"), application).status_code == 404
    assert show(as_user("other_county"), application).status_code == 404
    response = decide_by_form(as_user("other_county"), application, "reject", application.version, comment="x")
    assert response.status_code == 404
    session.refresh(application)
    assert application.state == "submitted"


def test_the_creator_sees_no_decision_buttons(as_user, world, session):
    application = raised(session, world)
    body = page_text(show(as_user("assistant_a"), application))
    assert "待乡镇审批" in body and 'id="do-approve"' not in body and "decision-bar" not in body


def test_urgent_paperwork_counts_down_and_then_shows_overdue(as_user, world, session):
    add_fund(session)
    application = raised(session, world, urgent=True)
    decided(session, world.township, application, "approve")
    client = as_user("township")
    assert "还剩 5 天补齐材料" in page_text(show(client, application))
    session.refresh(application)
    application.paperwork_due_at = utcnow() - timedelta(days=2, hours=1)
    session.add(application)
    session.commit()
    assert "已逾期 2 天" in page_text(show(client, application))


def test_evidence_photos_are_shown_and_more_can_be_added(as_user, world, session, app, tmp_path):
    application = raised(session, world)
    image = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(image, "JPEG")
    photo, _created = add_relief_photo(
        session,
        Actor(user=world.assistant_a, ip="127.0.0.1"),
        application,
        uuid=str(uuid.uuid4()),
        caption="诊断书",
        data=image.getvalue(),
        folder=tmp_path / "photos",
    )
    session.commit()
    body = page_text(show(as_user("township"), application))
    assert "证明材料（1 张）" in body and f"/photos/relief/{photo.id}_t.jpg" in body and "诊断书" in body
    assert f'data-upload-url="/api/v1/relief/{application.uuid}/photos"' in body and "/static/js/relief.js" in body


# ---- the township's reserve, before the dialog ------------------------------------------------


def test_a_reserve_too_small_is_said_before_the_dialog_with_the_county_to_call(as_user, world, session):
    add_fund(session, balance_yuan=500)
    county = session.get(Area, COUNTY)
    county.hotline = "0883-2123456"
    session.add(county)
    session.commit()
    application = raised(session, world)
    page = page_text(show(as_user("township"), application))
    assert "乡镇备用金余额不足：还剩 500 元，不够批准这笔救助" in page and "请联系临翔区民政局追加备用金" in page
    assert 'href="tel:0883-2123456"' in page and "在乡镇审批额度内：乡镇可以直接审批" not in page
    assert "已批出 9,500 元" not in page and "已批出 0 元" in page  # nothing approved yet this year
    assert 'href="#do-approve"' in page  # a lower amount may still be approved


def test_a_township_without_a_reserve_is_told_it_is_not_limited_by_one_and_approves(as_user, world, session):
    application = raised(session, world)
    township = as_user("township")
    page = page_text(show(township, application))
    assert "县（区）尚未设置备用金：乡镇在审批额度内审批，不受备用金限制" in page and "余额不足" not in page
    response = decide_by_form(township, application, "approve", application.version)
    assert response.status_code == 302
    done = page_text(township.get(response.headers["Location"]))
    assert "已批准 600 元" in done and "已从乡镇备用金中支出" not in done
