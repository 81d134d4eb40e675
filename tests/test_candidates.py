"""待核实对象: the list and the page (scoped, login required, 404 outside), the township's answer, the 首页 cell,
and the field report's form."""

import io
import uuid

import pytest
from sqlmodel import select

from models import AuditEvent, Candidate, CandidatePhoto
from tests.conftest import COUNTY, VILLAGE_A, VILLAGE_B, page_text
from tests.test_photos import jpeg


def add_candidate(session, area=VILLAGE_A, name="陈秋菊", **extra) -> Candidate:
    candidate = Candidate(
        area_code=area,
        name=name,
        id_number=extra.pop("id_number", "530902197503040028"),
        description=extra.pop("description", "医保名单：住院，个人自付 12,000 元"),
        source=extra.pop("source", "medical"),
        **extra,
    )
    session.add(candidate)
    session.commit()
    return candidate


@pytest.fixture
def candidate(session, world):
    return add_candidate(session)


# ---- the list ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["township", "county", "city", "assistant_a"])
def test_the_list_shows_the_candidates_in_scope(as_user, candidate, who):
    body = page_text(as_user(who).get("/candidates/"))
    assert "陈秋菊" in body and "医保名单" in body and "待核实" in body
    assert "530902197503040028" not in body


@pytest.mark.parametrize("who", ["assistant_b", "other_county"])
def test_the_list_leaves_out_other_areas(as_user, candidate, who):
    assert "陈秋菊" not in page_text(as_user(who).get("/candidates/"))


def test_the_list_requires_login(client):
    response = client.get("/candidates/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_list_filters_by_status_and_pages(as_user, session, world):
    for n in range(23):
        add_candidate(session, name=f"对象{n:02d}", id_number=None)
    add_candidate(session, name="已排除的", status="dismissed", id_number=None)
    client = as_user("township")
    first = page_text(client.get("/candidates/"))
    assert first.count("need-item__household") == 20 and "加载更多" in first and "已排除的" not in first
    more = page_text(client.get("/candidates/?page=2", headers={"HX-Request": "true"}))
    assert more.count("need-item__household") == 3 and "<html" not in more
    assert "已排除的" in page_text(client.get("/candidates/?status=dismissed"))
    assert "已排除的" in page_text(client.get("/candidates/?status=all"))  # newest first


# ---- one candidate -------------------------------------------------------------------------


def test_the_page_shows_the_candidate_with_the_id_number_masked(as_user, candidate):
    body = page_text(as_user("township").get(f"/candidates/{candidate.id}"))
    assert "陈秋菊" in body and "530902********0028" in body and "530902197503040028" not in body
    assert "碗窑村" in body and "已登记" in body and "排除" in body


def test_the_full_id_number_is_shown_on_request_and_audited(as_user, session, candidate):
    response = as_user("township").post(f"/candidates/{candidate.id}/id-number", headers={"HX-Request": "true"})
    assert "530902197503040028" in page_text(response)
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "candidate.id_viewed")).one()


def test_the_page_requires_login(client, candidate):
    response = client.get(f"/candidates/{candidate.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("who", ["assistant_b", "other_county"])
def test_the_page_is_404_outside_its_scope(as_user, candidate, who):
    client = as_user(who)
    assert client.get(f"/candidates/{candidate.id}").status_code == 404
    assert client.post(f"/candidates/{candidate.id}/id-number").status_code == 404
    assert client.post(f"/candidates/{candidate.id}/dismissed", data={"reason": "x"}).status_code == 404
    assert client.get("/candidates/999999").status_code == 404


def test_a_county_level_candidate_is_the_county_s(as_user, session, world):
    far = add_candidate(session, area=COUNTY, name="地址不明")
    assert as_user("township").get(f"/candidates/{far.id}").status_code == 404
    assert "地址不明" in page_text(as_user("county").get(f"/candidates/{far.id}"))


# ---- the township's answer -----------------------------------------------------------------


def test_the_township_marks_a_candidate_registered(as_user, session, candidate):
    client = as_user("township")
    assert "/households/new" in page_text(client.get(f"/candidates/{candidate.id}"))
    response = client.post(f"/candidates/{candidate.id}/registered")
    assert response.status_code == 302
    session.refresh(candidate)
    assert candidate.status == "registered" and candidate.settled_by_id is not None
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "candidate.registered")).one()
    assert client.post(f"/candidates/{candidate.id}/registered").status_code == 409


def test_dismissing_needs_a_reason(as_user, session, candidate):
    client = as_user("township")
    body = page_text(client.post(f"/candidates/{candidate.id}/dismissed", data={"reason": "  "}), 400)
    assert "请写明排除的原因" in body
    session.refresh(candidate)
    assert candidate.status == "open"
    client.post(f"/candidates/{candidate.id}/dismissed", data={"reason": "家庭收入超过低保标准"})
    session.refresh(candidate)
    assert (candidate.status, candidate.settle_note) == ("dismissed", "家庭收入超过低保标准")
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "candidate.dismissed")).one()
    assert "家庭收入" in event.detail
    assert "家庭收入超过低保标准" in page_text(client.get(f"/candidates/{candidate.id}"))


@pytest.mark.parametrize("who", ["assistant_a", "city"])
def test_only_officers_who_settle_may_answer(as_user, session, candidate, who):
    client = as_user(who)
    assert client.post(f"/candidates/{candidate.id}/registered").status_code == 403
    assert client.post(f"/candidates/{candidate.id}/dismissed", data={"reason": "不符合"}).status_code == 403
    assert "排除原因" not in page_text(client.get(f"/candidates/{candidate.id}"))


# ---- 首页 ----------------------------------------------------------------------------------


def test_the_township_home_counts_the_candidates_waiting(as_user, session, candidate):
    add_candidate(session, area=VILLAGE_B, name="第二个", id_number=None)
    add_candidate(session, area=VILLAGE_B, name="处理过的", status="dismissed", id_number=None)
    body = page_text(as_user("township").get("/"))
    assert "待核实对象" in body and "2 人" in body and "/candidates/" in body


def test_the_assistant_home_offers_the_field_report(as_user):
    body = page_text(as_user("assistant_a").get("/"))
    assert "上报疑似困难户" in body and "/candidates/report" in body
    assert "上报疑似困难户" in page_text(as_user("assistant_a").get("/households/"))


# ---- the field report's form (without the outbox: the plain POST) --------------------------


def report_form(**extra):
    return {
        "uuid": str(uuid.uuid4()),
        "name": "陈秋菊",
        "area_code": VILLAGE_A,
        "description": "独居，房屋漏雨",
        **extra,
    }


def test_the_form_defaults_to_the_assistant_s_village(as_user):
    body = page_text(as_user("assistant_a").get("/candidates/report"))
    assert f'value="{VILLAGE_A}" selected' in body and "看到的情况" in body and 'name="photo"' in body


def test_the_form_requires_login_and_is_the_assistants(client, as_user):
    response = client.get("/candidates/report")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert as_user("township").get("/candidates/report").status_code == 403


def test_a_posted_report_becomes_a_candidate_for_the_township(as_user, session, world):
    form = report_form(photo=(io.BytesIO(jpeg("green")), "p.jpg"))
    response = as_user("assistant_a").post("/candidates/report", data=form, content_type="multipart/form-data")
    assert response.status_code == 302
    candidate = session.exec(select(Candidate)).one()
    assert (candidate.source, candidate.area_code, candidate.reported_by_id) == (
        "field_report",
        VILLAGE_A,
        world.assistant_a.id,
    )
    assert session.exec(select(CandidatePhoto)).one().candidate_id == candidate.id
    assert "陈秋菊" in page_text(as_user("township").get("/candidates/"))


def test_a_report_for_another_village_is_refused(as_user, session):
    body = page_text(as_user("assistant_a").post("/candidates/report", data=report_form(area_code=VILLAGE_B)), 400)
    assert "请选择您负责的村" in body and "独居，房屋漏雨" in body  # what was typed stays
    assert session.exec(select(Candidate)).first() is None


def test_a_report_without_what_was_seen_is_refused(as_user, session):
    body = page_text(as_user("assistant_a").post("/candidates/report", data=report_form(description="")), 400)
    assert "请写下看到的情况" in body


def test_a_report_with_a_broken_photo_keeps_nothing(as_user, session):
    form = report_form(photo=(io.BytesIO(b"not a picture"), "p.jpg"))
    response = as_user("assistant_a").post("/candidates/report", data=form, content_type="multipart/form-data")
    assert response.status_code == 400
    assert session.exec(select(Candidate)).first() is None


def test_another_county_cannot_report_into_village_a(as_user, session):
    assert as_user("other_county").post("/candidates/report", data=report_form()).status_code == 403
    assert session.exec(select(Candidate)).first() is None


def test_an_expired_form_is_refused_with_a_fresh_one(as_user, session):
    body = page_text(as_user("assistant_a").post("/candidates/report", data=report_form(uuid="not-a-uuid")), 400)
    assert "页面已过期" in body and "not-a-uuid" not in body and "独居，房屋漏雨" in body
    assert session.exec(select(Candidate)).first() is None
