"""The relief JSON API: applications stored once per UUID, decisions naming the version they saw (409 when stale),
403 when the role may not, 404 outside the scope, evidence photos by the visit photo rules, all in the OpenAPI
description."""

import io
import re
from uuid import uuid4

import pytest
from sqlmodel import select

from models import AuditEvent, Person, ReliefApplication, ReliefEvent, ReliefPhoto
from services.visits.photos import path_for
from tests.conftest import login
from tests.test_api import assert_described
from tests.test_photos import jpeg, stored_files
from tests.test_relief_rules import BAD_AMOUNTS, balance_yuan, count, give_fund, relief_payload

RELIEF = "/api/v1/relief"


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").get_json()


@pytest.fixture
def fund(session):
    return give_fund(session)


def raise_via_api(client, world, **changes) -> dict:
    """Raise an application through the API and return its body."""
    response = client.post(RELIEF, json=relief_payload(world, **changes))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def application(app, world, fund) -> dict:
    """A submitted 600 元 application for household A, raised by assistant A on a client of their own."""
    raiser = app.test_client()
    login(raiser, world.assistant_a)
    return raise_via_api(raiser, world)


def decide(client, application: dict, action: str, version: int | None = None, **details):
    body = {"action": action, "version": application["version"] if version is None else version, **details}
    return client.post(f"{RELIEF}/{application['id']}/decisions", json=body)


def picked(body: dict, *keys) -> tuple:
    return tuple(body[key] for key in keys)


def upload(client, application_uuid: str, data: bytes, photo_uuid: str | None = None, caption: str = "火灾现场"):
    form = {"file": (io.BytesIO(data), "photo.jpg"), "uuid": photo_uuid or str(uuid4()), "caption": caption}
    return client.post(f"{RELIEF}/{application_uuid}/photos", data=form, content_type="multipart/form-data")


# ---- raising -------------------------------------------------------------------------------------


def test_same_application_sent_five_times_is_stored_once(as_user, world, session, fund, document):
    client = as_user("assistant_a")
    payload = relief_payload(world, urgent=True)
    responses = [client.post(RELIEF, json=payload) for _ in range(5)]
    assert [r.status_code for r in responses] == [201, 200, 200, 200, 200]
    assert len({r.get_json()["id"] for r in responses}) == 1
    body = responses[0].get_json()
    assert picked(body, "uuid", "state", "state_label", "version") == (payload["uuid"], "submitted", "待乡镇审批", 2)
    assert (body["amount_requested_yuan"], body["amount_approved_yuan"], body["urgent"]) == ("600.00", None, True)
    assert body["reason_label"] == "急难型·火灾" and body["circumstances"] == "厨房失火，被褥衣物烧毁"
    assert body["allowed_actions"] == [] and body["photos"] == []
    assert [(h["action"], h["to_state"], h["user"]) for h in body["history"]] == [("submit", "submitted", "李协理")]
    assert_described(document, "post", RELIEF, 201, body)
    assert_described(document, "post", RELIEF, 200, responses[1].get_json())
    assert count(session, ReliefApplication) == 1 and count(session, ReliefEvent) == 1


def test_draft_is_kept_unsubmitted_until_the_assistant_submits(as_user, world, session, fund):
    client = as_user("assistant_a")
    body = raise_via_api(client, world, submit=False)
    assert (body["state"], body["version"], body["allowed_actions"]) == ("draft", 1, ["submit"])
    submitted = decide(client, body, "submit")
    assert submitted.status_code == 200 and submitted.get_json()["state"] == "submitted"


def test_same_uuid_with_other_content_is_a_conflict(as_user, world, session, fund):
    client = as_user("assistant_a")
    payload = relief_payload(world)
    assert client.post(RELIEF, json=payload).status_code == 201
    response = client.post(RELIEF, json={**payload, "amount_yuan": "900"})
    assert response.status_code == 409
    assert response.get_json() == {"error": "relief_conflict", "message": "这份申请已经提交过，内容与已保存的不同"}
    assert count(session, ReliefApplication) == 1
    assert session.exec(select(ReliefApplication.amount_requested_fen)).one() == 60000


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"uuid": "not-a-uuid"}, "uuid", "申请编号的格式不对"),
        ({"payment_form": "bank"}, "payment_form", "发放方式的选项不对"),
        ({"amount_yuan": ""}, "amount_yuan", "金额的长度不对"),
        ({"circumstances": ""}, "circumstances", "困难情况的长度不对"),
        ({"urgent": "maybe"}, "urgent", "是否紧急的格式不对"),
        ({"bank_account": "6222"}, "bank_account", "不认识的字段：bank_account"),
    ],
)
def test_invalid_application_is_refused_field_by_field_in_chinese(
    as_user, world, session, fund, document, change, field, message
):
    response = as_user("assistant_a").post(RELIEF, json=relief_payload(world, **change))
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid" and {"field": field, "message": message} in body["fields"]
    assert_described(document, "post", RELIEF, 422, body)
    assert count(session, ReliefApplication) == 0


def test_missing_fields_are_named_in_chinese(as_user, session):
    body = as_user("assistant_a").post(RELIEF, data="nonsense").get_json()
    assert {"field": "reason", "message": "请填写救助原因"} in body["fields"]
    assert {"field": "person_id", "message": "请填写困难人员"} in body["fields"]
    assert {"field": "amount_yuan", "message": "请填写金额"} in body["fields"]


@pytest.mark.parametrize(("amount", "message"), [a for a in BAD_AMOUNTS if a[0]])
def test_bad_amount_is_refused_with_a_chinese_message_and_nothing_is_stored(
    as_user, world, session, fund, document, amount, message
):
    response = as_user("assistant_a").post(RELIEF, json=relief_payload(world, amount_yuan=amount))
    assert response.status_code == 400
    assert response.get_json()["error"] == "relief_refused" and message in response.get_json()["message"]
    assert_described(document, "post", RELIEF, 400, response.get_json())
    assert count(session, ReliefApplication) == 0 and count(session, AuditEvent) == 0


def test_reason_off_the_list_and_a_person_of_another_household_are_refused(as_user, world, session, fund):
    client = as_user("township")
    response = client.post(RELIEF, json=relief_payload(world, reason="lottery"))
    assert response.status_code == 422  # the schema's enum refuses it, as the OpenAPI document says it will
    assert {"field": "reason", "message": "救助原因的选项不对"} in response.get_json()["fields"]
    head_b = session.exec(select(Person).where(Person.household_id == world.household_b.id)).one()
    response = client.post(RELIEF, json=relief_payload(world, person_id=head_b.id))
    assert response.status_code == 400 and response.get_json()["message"] == "请选择这户家庭里的成员"
    assert count(session, ReliefApplication) == 0


@pytest.mark.parametrize("who", ["county", "city", "admin"])
def test_only_assistants_and_township_officers_may_raise_an_application(as_user, world, session, fund, who):
    response = as_user(who).post(RELIEF, json=relief_payload(world))
    assert response.status_code == 403
    assert response.get_json() == {"error": "not_allowed", "message": "只有村协理员和乡镇经办员可以提出临时救助申请"}
    assert count(session, ReliefApplication) == 0


def test_other_village_cannot_raise_for_the_household(as_user, world, session, fund):
    response = as_user("assistant_b").post(RELIEF, json=relief_payload(world))
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    assert count(session, ReliefApplication) == 0


def test_other_village_replaying_someone_elses_uuid_learns_nothing(client, world, session, application):
    login(client, world.assistant_b)
    replay = relief_payload(world)
    replay["uuid"] = application["uuid"]
    response = client.post(RELIEF, json=replay)
    assert response.status_code == 404 and "张明华" not in response.get_data(as_text=True)


# ---- reading -------------------------------------------------------------------------------------


def test_township_reads_the_application_with_its_actions_and_history(as_user, world, application, document):
    response = as_user("township").get(f"{RELIEF}/{application['id']}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == application["id"] and body["household_id"] == world.household_a.id
    assert body["allowed_actions"] == ["approve", "reject", "return", "forward"]
    [event] = body["history"]
    assert picked(event, "user", "from_state", "to_state", "amount_yuan") == ("李协理", "draft", "submitted", "600.00")
    assert_described(document, "get", "/api/v1/relief/{application_id}", 200, body)


def test_county_sees_it_but_may_not_decide_before_the_township(as_user, application):
    body = as_user("county").get(f"{RELIEF}/{application['id']}").get_json()
    assert body["state"] == "submitted" and body["allowed_actions"] == []


@pytest.mark.parametrize("who", ["assistant_b", "other_county"])
def test_outside_the_scope_the_application_is_404_json(as_user, application, document, who):
    client = as_user(who)
    for response in (client.get(f"{RELIEF}/{application['id']}"), decide(client, application, "approve")):
        assert response.status_code == 404
        assert response.get_json() == {"error": "not_found", "message": "没有找到，或不在您的辖区内"}
    assert_described(document, "get", "/api/v1/relief/{application_id}", 404, response.get_json())


def test_unknown_application_is_404_json(as_user, world):
    assert as_user("township").get(f"{RELIEF}/999999").get_json()["error"] == "not_found"


def test_without_a_session_relief_answers_401_json(client, application):
    for response in (
        client.get(f"{RELIEF}/{application['id']}"),
        client.post(RELIEF, json={}),
        decide(client, application, "approve"),
        client.post(f"{RELIEF}/{application['uuid']}/photos"),
    ):
        assert response.status_code == 401 and response.get_json()["error"] == "login_required"


# ---- deciding ------------------------------------------------------------------------------------


def test_township_approves_and_pays_within_its_limit(as_user, world, session, application, document):
    client = as_user("township")
    response = decide(client, application, "approve")
    body = response.get_json()
    assert response.status_code == 200 and picked(body, "state", "version") == ("approved", 3)
    assert body["amount_approved_yuan"] == "600.00" and body["decided_level"] == "township"
    assert body["allowed_actions"] == ["pay"] and [h["action"] for h in body["history"]] == ["submit", "approve"]
    assert_described(document, "post", "/api/v1/relief/{application_id}/decisions", 200, body)
    assert balance_yuan(session) == 4400
    paid = decide(client, body, "pay", payment_method="cash", payment_reference="现金-017").get_json()
    assert (paid["state"], paid["payment_method"], paid["payment_reference"]) == ("paid", "cash", "现金-017")
    assert paid["paid_at"] is not None and paid["history"][-1]["user"] == "赵经办"


def test_a_stale_version_answers_409_with_the_state_now(as_user, world, session, application, document):
    client = as_user("township")
    assert decide(client, application, "approve").status_code == 200
    response = decide(client, application, "reject", comment="重复申请")  # the version the officer saw before
    assert response.status_code == 409
    body = response.get_json()
    assert body["error"] == "stale_version" and "这份申请已被处理" in body["message"]
    assert (body["state"], body["state_label"], body["version"]) == ("approved", "已批准，待发放", 3)
    assert_described(document, "post", "/api/v1/relief/{application_id}/decisions", 409, body)
    assert list(session.exec(select(ReliefEvent.action).order_by(ReliefEvent.id))) == ["submit", "approve"]
    assert balance_yuan(session) == 4400


@pytest.mark.parametrize(("who", "message"), [("county", "您现在不能审批"), ("assistant_a", "您现在不能审批")])
def test_a_role_that_may_not_decide_gets_403(as_user, session, application, document, who, message):
    response = decide(as_user(who), application, "approve")
    assert response.status_code == 403
    assert response.get_json()["error"] == "not_allowed" and message in response.get_json()["message"]
    assert_described(document, "post", "/api/v1/relief/{application_id}/decisions", 403, response.get_json())
    assert count(session, ReliefEvent) == 1 and balance_yuan(session) == 5000


def test_approval_above_the_limit_is_403_and_the_county_approves_the_forwarded_one(client, world, session, fund):
    login(client, world.assistant_a)
    application = raise_via_api(client, world, amount_yuan="3000")
    login(client, world.township)
    refused = decide(client, application, "approve")
    assert refused.status_code == 403 and "超过乡镇审批额度" in refused.get_json()["message"]
    forwarded = decide(client, application, "forward", comment="因病致贫，建议批准").get_json()
    assert forwarded["state"] == "forwarded" and forwarded["state_label"] == "待县级审批"
    login(client, world.county)
    approved = decide(client, forwarded, "approve", amount_yuan="2800", comment="扣除已报销部分").get_json()
    assert picked(approved, "state", "amount_approved_yuan", "decided_level") == ("approved", "2800.00", "county")
    assert balance_yuan(session) == 5000  # the county's money, not the township reserve


@pytest.mark.parametrize(
    ("details", "message"),
    [
        ({"action": "reject"}, "不批准请写明理由"),
        ({"action": "approve", "amount_yuan": "abc"}, "金额格式不对"),
        ({"action": "approve", "amount_yuan": "400"}, "降低金额时请写明理由"),
        ({"action": "approve", "amount_yuan": "700", "comment": "多给"}, "批准金额不能高于申请金额"),
    ],
)
def test_an_invalid_decision_is_400_and_changes_nothing(as_user, session, application, document, details, message):
    client = as_user("township")
    response = client.post(f"{RELIEF}/{application['id']}/decisions", json={"version": 2, **details})
    assert response.status_code == 400
    assert response.get_json()["error"] == "relief_refused" and message in response.get_json()["message"]
    assert_described(document, "post", "/api/v1/relief/{application_id}/decisions", 400, response.get_json())
    after = client.get(f"{RELIEF}/{application['id']}").get_json()
    assert (after["state"], after["version"], len(after["history"])) == ("submitted", 2, 1)
    assert balance_yuan(session) == 5000


def test_approval_the_balance_cannot_cover_names_the_balance(client, world, session):
    give_fund(session, balance_yuan="500")
    login(client, world.assistant_a)
    application = raise_via_api(client, world)
    login(client, world.township)
    response = decide(client, application, "approve")
    assert response.status_code == 400
    assert response.get_json()["message"] == "乡镇备用金余额不足：还剩 500 元，不够批准这笔救助"
    assert client.get(f"{RELIEF}/{application['id']}").get_json()["state"] == "submitted"
    assert balance_yuan(session) == 500


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"action": "delete", "version": 2}, "action", "操作的选项不对"),
        ({"action": "approve"}, "version", "请填写版本号"),
        ({"action": "pay", "version": 2, "payment_method": "bitcoin"}, "payment_method", "发放方式的选项不对"),
    ],
)
def test_a_malformed_decision_is_422_field_by_field(as_user, application, document, body, field, message):
    response = as_user("township").post(f"{RELIEF}/{application['id']}/decisions", json=body)
    assert response.status_code == 422
    assert {"field": field, "message": message} in response.get_json()["fields"]
    assert_described(document, "post", "/api/v1/relief/{application_id}/decisions", 422, response.get_json())


def test_decisions_need_the_csrf_header_when_checks_are_on(make_app, world, session, fund):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    login(client, world.township)
    page = client.get("/households/").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    created = client.post(RELIEF, json=relief_payload(world), headers={"X-CSRFToken": token}).get_json()
    refused = decide(client, created, "approve")
    assert refused.status_code == 400 and refused.get_json()["error"] == "csrf"
    assert balance_yuan(session) == 5000
    url = f"{RELIEF}/{created['id']}/decisions"
    accepted = client.post(url, json={"action": "approve", "version": 2}, headers={"X-CSRFToken": token})
    assert accepted.status_code == 200 and balance_yuan(session) == 4400


# ---- evidence photos -----------------------------------------------------------------------------


def test_evidence_photo_is_stored_once_per_uuid_and_shown_with_the_application(
    app, as_user, world, session, application, document
):
    client = as_user("assistant_a")
    photo_uuid = str(uuid4())
    first = upload(client, application["uuid"], jpeg("red"), photo_uuid)
    again = upload(client, application["uuid"], jpeg("red"), photo_uuid)
    assert (first.status_code, again.status_code) == (201, 200) and first.get_json() == again.get_json()
    body = first.get_json()
    assert body["caption"] == "火灾现场" and body["url"].startswith("/photos/relief/")
    assert_described(document, "post", "/api/v1/relief/{uuid}/photos", 201, body)
    assert count(session, ReliefPhoto) == 1 and len(stored_files(app)) == 2
    shown = client.get(f"{RELIEF}/{application['id']}").get_json()["photos"]
    assert shown == [body]


def test_evidence_photo_uuid_with_another_picture_is_a_conflict(as_user, session, application):
    client = as_user("assistant_a")
    photo_uuid = str(uuid4())
    assert upload(client, application["uuid"], jpeg("red"), photo_uuid).status_code == 201
    response = upload(client, application["uuid"], jpeg("blue"), photo_uuid)
    assert response.status_code == 409 and response.get_json()["error"] == "photo_conflict"
    assert count(session, ReliefPhoto) == 1


def test_an_evidence_photo_uuid_cannot_be_reused_for_another_application(as_user, world, session, application):
    client = as_user("assistant_a")
    photo_uuid = str(uuid4())
    assert upload(client, application["uuid"], jpeg("red"), photo_uuid).status_code == 201
    other = client.post(RELIEF, json=relief_payload(world)).get_json()
    response = upload(client, other["uuid"], jpeg("red"), photo_uuid)  # the same photo UUID, another application
    assert response.status_code == 409 and count(session, ReliefPhoto) == 1


def test_bad_evidence_upload_is_refused_in_plain_words_and_nothing_is_stored(app, as_user, session, application):
    client = as_user("assistant_a")
    response = upload(client, application["uuid"], "这不是照片\n".encode() * 200)
    assert response.status_code == 400 and "这不是照片文件" in response.get_json()["message"]
    missing = client.post(f"{RELIEF}/{application['uuid']}/photos", data={"uuid": str(uuid4())})
    assert missing.status_code == 400 and "照片文件" in missing.get_json()["message"]
    assert count(session, ReliefPhoto) == 0 and stored_files(app) == []


def test_city_may_look_but_not_add_evidence(as_user, session, application):
    response = upload(as_user("city"), application["uuid"], jpeg("red"))
    assert response.status_code == 403 and "证明材料" in response.get_json()["message"]
    assert count(session, ReliefPhoto) == 0


def test_other_village_cannot_add_evidence_or_see_it(client, world, session, application):
    login(client, world.assistant_a)
    body = upload(client, application["uuid"], jpeg("red")).get_json()
    login(client, world.assistant_b)
    response = upload(client, application["uuid"], jpeg("green"))
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    for url in (body["url"], body["thumb_url"]):
        assert client.get(url).status_code == 404
    assert upload(client, str(uuid4()), jpeg("green")).status_code == 404
    assert count(session, ReliefPhoto) == 1


def test_evidence_photo_is_served_privately_to_the_township_and_needs_login(app, client, world, session, application):
    login(client, world.assistant_a)
    body = upload(client, application["uuid"], jpeg("red")).get_json()
    photo = session.exec(select(ReliefPhoto)).one()
    login(client, world.township)
    for url, thumb in ((body["url"], False), (body["thumb_url"], True)):
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        assert response.headers["Cache-Control"].startswith("private")
        assert response.data == path_for(app.config["PHOTO_FOLDER"], photo.sha256, thumb=thumb).read_bytes()
        anonymous = app.test_client().get(url)
        assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


# ---- the description -----------------------------------------------------------------------------


def test_openapi_describes_the_relief_operations(document):
    paths = document["paths"]
    assert set(paths[RELIEF]) == {"post"} and set(paths["/api/v1/relief/{application_id}"]) == {"get"}
    decisions = paths["/api/v1/relief/{application_id}/decisions"]["post"]
    assert decisions["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/DecisionIn")
    assert decisions["responses"]["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/StaleOut")
    assert "已被别人处理" in decisions["responses"]["409"]["description"]
    photos = paths["/api/v1/relief/{uuid}/photos"]["post"]
    assert "multipart/form-data" in photos["requestBody"]["content"]
    actions = document["components"]["schemas"]["DecisionIn"]["properties"]["action"]["enum"]
    assert {"approve", "reject", "return", "forward", "pay"} <= set(actions)


def schema_of(document: dict, name: str) -> dict:
    return document["components"]["schemas"][name]


def test_the_openapi_document_lists_the_reasons_payment_forms_and_actions_the_server_accepts(document):
    from services.relief.rules import ACTIONS, PAYMENT_FORMS, REASONS

    relief_in = schema_of(document, "ReliefIn")["properties"]
    assert relief_in["reason"]["enum"] == list(REASONS)
    assert relief_in["payment_form"]["enum"] == list(PAYMENT_FORMS)
    decision = schema_of(document, "DecisionIn")["properties"]
    assert decision["action"]["enum"] == list(ACTIONS)
    assert {"enum": list(PAYMENT_FORMS), "type": "string"} in decision["payment_method"]["anyOf"]


def test_a_client_built_only_from_the_openapi_document_raises_an_application(as_user, world, fund, document):
    properties = schema_of(document, "ReliefIn")["properties"]
    body = relief_payload(world, reason=properties["reason"]["enum"][-1])
    body["payment_form"] = properties["payment_form"]["enum"][0]
    response = as_user("assistant_a").post(RELIEF, json=body)
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["state"], response.get_json()["reason"]) == ("submitted", body["reason"])
    assert_described(document, "post", RELIEF, 201, response.get_json())
