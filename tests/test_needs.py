"""Needs (诉求): scoped lists with filters, 低保转介, and open → in progress → resolved with who, when and why."""

import json
from uuid import uuid4

import pytest
from sqlmodel import select

from models import AuditEvent, Need
from services.api.schemas import NeedIn, VisitIn
from services.audit import Actor
from services.errors import Invalid
from services.visits import needs
from services.visits.visits import record_visit
from tests.conftest import login


def raise_needs(session, user, household, *pairs, changes=()):
    """Record a visit that raises needs of these (type, description) pairs; return the needs."""
    payload = VisitIn(
        uuid=uuid4(),
        household_id=household.id,
        kind="routine",
        needs=[NeedIn(type=t, description=d) for t, d in pairs],
        changes=list(changes),
    )
    visit, _created = record_visit(session, Actor(user), payload)
    session.commit()
    return list(session.exec(select(Need).where(Need.visit_id == visit.id).order_by(Need.id)))


@pytest.fixture
def raised(session, world):
    """A medical need and a 低保 referral in 碗窑村, a housing need in 勐准村, one in 凤庆县."""
    medical, dibao = raise_needs(
        session,
        world.assistant_a,
        world.household_a,
        ("medical", "慢性病用药报销"),
        ("dibao", "家庭收入下降，申请低保"),
    )
    (housing,) = raise_needs(session, world.assistant_b, world.household_b, ("housing", "房屋漏雨"))
    (other,) = raise_needs(session, world.other_county, world.household_other, ("supplies", "缺过冬棉被"))
    return {"medical": medical, "dibao": dibao, "housing": housing, "other": other}


# ---- the list --------------------------------------------------------------------------------


def test_township_lists_the_needs_of_both_villages(as_user, raised):
    body = as_user("township").get("/needs/").get_data(as_text=True)
    assert "慢性病用药报销" in body and "家庭收入下降，申请低保" in body and "房屋漏雨" in body
    assert "缺过冬棉被" not in body
    assert "张明华" in body and "碗窑村 · 0001号" in body and "李协理 提出" in body
    assert '<span class="tag tag--status-open">待处理</span>' in body


def test_each_row_links_to_the_household_and_the_need(as_user, world, raised):
    body = as_user("township").get("/needs/").get_data(as_text=True)
    assert f'href="/households/{world.household_a.id}"' in body
    assert f'href="/needs/{raised["medical"].id}"' in body


def test_assistant_sees_only_their_own_villages_needs(as_user, raised):
    body = as_user("assistant_a").get("/needs/").get_data(as_text=True)
    assert "慢性病用药报销" in body and "房屋漏雨" not in body and "缺过冬棉被" not in body


def test_needs_list_requires_login(client):
    response = client.get("/needs/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_another_countys_officer_sees_none_of_our_needs(client, world, raised):
    login(client, world.other_county)
    body = client.get("/needs/").get_data(as_text=True)
    assert "缺过冬棉被" in body and "慢性病用药报销" not in body and "房屋漏雨" not in body


def test_filter_by_type_and_status(as_user, session, world, raised):
    needs.change_status(session, Actor(world.township), raised["housing"], "resolved", "已协调危房改造")
    session.commit()
    client = as_user("township")
    medical = client.get("/needs/?type=medical").get_data(as_text=True)
    assert "慢性病用药报销" in medical and "房屋漏雨" not in medical and "申请低保" not in medical
    unresolved = client.get("/needs/").get_data(as_text=True)
    assert "房屋漏雨" not in unresolved  # 未解决 is the default
    resolved = client.get("/needs/?status=resolved").get_data(as_text=True)
    assert "房屋漏雨" in resolved and "解决：已协调危房改造" in resolved and "慢性病用药报销" not in resolved
    everything = client.get("/needs/?status=all").get_data(as_text=True)
    assert "房屋漏雨" in everything and "慢性病用药报销" in everything


def test_filter_by_village(as_user, world, raised):
    body = as_user("township").get("/needs/?village=530902100202").get_data(as_text=True)
    assert "房屋漏雨" in body and "慢性病用药报销" not in body


def test_htmx_gets_only_the_rows_from_the_same_url(as_user, raised):
    response = as_user("township").get("/needs/?type=housing", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert "<html" not in body and "房屋漏雨" in body and "HX-Request" in response.headers["Vary"]


def test_more_needs_load_page_by_page(as_user, session, world):
    for batch in range(5):
        raise_needs(session, world.assistant_a, world.household_a, *[("other", f"第{batch}-{n}条") for n in range(5)])
    client = as_user("township")
    first = client.get("/needs/").get_data(as_text=True)
    assert first.count('class="need-item"') == 20 and "/needs/?page=2" in first
    more = client.get("/needs/?page=2&status=pending", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert more.count('class="need-item"') == 5 and "加载更多" not in more


def test_dibao_referrals_have_their_own_tab(as_user, raised):
    client = as_user("township")
    assert 'href="/needs/?type=dibao"' in client.get("/needs/").get_data(as_text=True)
    body = client.get("/needs/?type=dibao").get_data(as_text=True)
    assert "<title>诉求 · 兜底通</title>" in body and ">低保转介</h1>" in body and "应保尽保" in body
    assert "家庭收入下降，申请低保" in body and "慢性病用药报销" not in body


def test_review_needs_from_household_changes_reach_the_township(as_user, session, world):
    raise_needs(session, world.assistant_a, world.household_a, changes=["died"])
    body = as_user("township").get("/needs/?type=review").get_data(as_text=True)
    assert "走访发现：有成员去世，请复核保障资格" in body and "复核" in body


# ---- one need ------------------------------------------------------------------------------


def test_need_page_shows_household_visit_and_state(as_user, world, raised):
    need = raised["medical"]
    body = as_user("township").get(f"/needs/{need.id}").get_data(as_text=True)
    assert "慢性病用药报销" in body and "张明华" in body and "碗窑村 · 0001号" in body
    assert f'href="/visits/{need.visit_id}"' in body and "李协理" in body
    assert 'name="status" value="in_progress"' in body and 'name="status" value="resolved"' in body


def test_need_page_requires_login(client, raised):
    response = client.get(f"/needs/{raised['medical'].id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_another_villages_need_gets_404(as_user, raised):
    client = as_user("assistant_a")
    assert client.get(f"/needs/{raised['housing'].id}").status_code == 404
    assert client.get("/needs/999999").status_code == 404


def test_assistant_reads_a_need_but_gets_no_status_form(as_user, raised):
    body = as_user("assistant_a").get(f"/needs/{raised['medical'].id}").get_data(as_text=True)
    assert "慢性病用药报销" in body and 'name="status"' not in body and "乡镇经办员核实处理后" in body


# ---- changing status -------------------------------------------------------------------------


def test_township_moves_a_need_to_in_progress_then_resolved_and_both_are_audited(as_user, session, world, raised):
    need = raised["medical"]
    client = as_user("township")
    response = client.post(f"/needs/{need.id}/status", data={"status": "in_progress", "note": "已联系卫生院"})
    assert response.status_code == 302
    response = client.post(f"/needs/{need.id}/status", data={"status": "resolved", "note": "已办理慢病门诊报销"})
    assert response.status_code == 302
    session.expire_all()
    stored = session.get(Need, need.id)
    assert stored.status == "resolved" and stored.resolution == "已办理慢病门诊报销"
    assert stored.updated_by_id == world.township.id and stored.resolved_at is not None
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "need.updated").order_by(AuditEvent.id)).all()
    assert [json.loads(e.detail)["status"] for e in events] == [["open", "in_progress"], ["in_progress", "resolved"]]
    assert all(e.object_id == str(need.id) and e.user_id == world.township.id for e in events)
    page = client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert "已改为“已解决”" in page and "处理经过" in page and "已联系卫生院" in page and "赵经办" in page
    assert "待处理 → 处理中" in page and "处理中 → 已解决" in page


def test_resolving_without_a_note_is_refused(as_user, session, raised):
    need = raised["medical"]
    response = as_user("township").post(f"/needs/{need.id}/status", data={"status": "resolved", "note": "  "})
    assert response.status_code == 400 and "请写明是怎样解决的" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Need, need.id).status == "open"
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "need.updated")).all() == []


def test_a_resolved_need_cannot_slip_back_to_in_progress(as_user, session, world, raised):
    need = raised["medical"]
    needs.change_status(session, Actor(world.township), need, "resolved", "已解决")
    session.commit()
    response = as_user("township").post(f"/needs/{need.id}/status", data={"status": "in_progress"})
    assert response.status_code == 400 and "不能从“已解决”改为“处理中”" in response.get_data(as_text=True)


def test_reopening_a_resolved_need_takes_a_reason(as_user, session, world, raised):
    need = raised["dibao"]
    needs.change_status(session, Actor(world.township), need, "resolved", "经核实收入超标")
    session.commit()
    client = as_user("township")
    refused = client.post(f"/needs/{need.id}/status", data={"status": "open"})
    assert refused.status_code == 400 and "重新打开请写明原因" in refused.get_data(as_text=True)
    assert (
        client.post(f"/needs/{need.id}/status", data={"status": "open", "note": "户主住院，收入再核"}).status_code
        == 302
    )
    session.expire_all()
    stored = session.get(Need, need.id)
    assert stored.status == "open" and stored.resolution is None and stored.resolved_at is None
    last = session.exec(select(AuditEvent).where(AuditEvent.action == "need.updated").order_by(AuditEvent.id.desc()))
    assert json.loads(last.first().detail) == {
        "household_id": world.household_a.id,
        "status": ["resolved", "open"],
        "note": "户主住院，收入再核",
    }


def test_the_same_status_again_is_refused(session, world, raised):
    with pytest.raises(Invalid, match="已经是"):
        needs.change_status(session, Actor(world.township), raised["medical"], "open", "")


def test_an_unknown_status_is_refused(session, world, raised):
    with pytest.raises(Invalid, match="请选择"):
        needs.change_status(session, Actor(world.township), raised["medical"], "done", "")


def test_assistants_may_not_change_status(as_user, session, raised):
    need = raised["medical"]
    response = as_user("assistant_a").post(f"/needs/{need.id}/status", data={"status": "in_progress"})
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Need, need.id).status == "open"


def test_changing_another_countys_need_gets_404(as_user, client, session, world, raised):
    login(client, world.other_county)
    response = client.post(f"/needs/{raised['medical'].id}/status", data={"status": "resolved", "note": "x"})
    assert response.status_code == 404
    session.expire_all()
    assert session.get(Need, raised["medical"].id).status == "open"


def test_changing_status_requires_login(client, raised):
    response = client.post(f"/needs/{raised['medical'].id}/status", data={"status": "in_progress"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_resolved_status_shows_on_the_household_timeline(as_user, session, world, raised):
    needs.change_status(session, Actor(world.township), raised["medical"], "resolved", "已报销")
    session.commit()
    body = as_user("assistant_a").get(f"/households/{world.household_a.id}").get_data(as_text=True)
    assert '<span class="tag tag--status-resolved">已解决</span>' in body


# ---- 首页 and 我的 ---------------------------------------------------------------------------


def test_township_home_counts_unresolved_needs(as_user, raised):
    body = as_user("township").get("/").get_data(as_text=True)
    assert "未解决的诉求" in body and "3 条" in body and 'href="/needs/"' in body


def test_me_links_to_needs_for_every_role(as_user):
    assert 'href="/needs/"' in as_user("assistant_a").get("/me").get_data(as_text=True)
