"""The JSON API: visits recorded exactly once, Chinese validation messages, JSON auth errors, scope, and a
description generated from the same models, so that it cannot drift."""

import io
import json
import re
import threading
from uuid import uuid4

import jsonschema
import pytest
from openapi_spec_validator import validate as validate_openapi
from sqlmodel import func, select

from models import AuditEvent, Card, Need, Photo, Visit, utcnow
from services.api import openapi
from services.api.household_schemas import HouseholdOut, MemberOut
from services.api.schemas import VisitIn, VisitOut
from tests.conftest import login

FULL_ID_NUMBERS = ("530902194505168663", "53090219551221719X", "530902194810125248")


def visit_payload(household, **changes) -> dict:
    """Return a visit as the form sends it: a fresh UUID, a problem, a change and a need."""
    payload = {
        "uuid": str(uuid4()),
        "household_id": household.id,
        "kind": "routine",
        "checklist": {"housing": {"ok": True}, "water": {"ok": False, "note": "水管冻裂，靠邻居送水"}},
        "self_checks": {"payment_received": True},
        "changes": ["started_work"],
        "needs": [{"type": "medical", "description": "需要降压药"}],
        "risk": "attention",
        "notes": "老人独居",
        "location": {"lat": 23.89, "lon": 100.09, "accuracy": 25},
    }
    payload.update(changes)
    return payload


def count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def photo_upload(data: bytes = b"not a photo") -> dict:
    return {"file": (io.BytesIO(data), "photo.jpg"), "uuid": str(uuid4()), "caption": "住房"}


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").get_json()


def assert_described(document, method: str, path: str, status: int, body) -> None:
    """Check a real response body against the schema the document gives for it."""
    operation = document["paths"][path][method]
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    jsonschema.Draft202012Validator({**schema, "components": document["components"]}).validate(body)


# ---- never twice -------------------------------------------------------------------------------


def test_same_visit_submitted_five_times_is_stored_once(as_user, world, session, document):
    client = as_user("assistant_a")
    payload = visit_payload(world.household_a)
    responses = [client.post("/api/v1/visits", json=payload) for _ in range(5)]
    assert [r.status_code for r in responses] == [201, 200, 200, 200, 200]
    assert len({r.get_json()["id"] for r in responses}) == 1
    assert responses[0].get_json()["uuid"] == payload["uuid"]
    assert_described(document, "post", "/api/v1/visits", 201, responses[0].get_json())
    assert count(session, Visit) == 1
    needs = session.exec(select(Need).order_by(Need.id)).all()
    assert [(n.type, n.status) for n in needs] == [("medical", "open"), ("review", "open")]
    assert "复核" in needs[1].description
    session.refresh(world.household_a)
    assert world.household_a.last_risk == "attention" and world.household_a.last_visit_at is not None
    created = session.exec(select(AuditEvent).where(AuditEvent.action == "visit.created")).all()
    assert len(created) == 1


def test_same_visit_from_five_connections_at_once_is_stored_once(app, world, session):
    payload = visit_payload(world.household_a)
    clients = [app.test_client() for _ in range(5)]
    for client in clients:
        login(client, world.assistant_a)
    start, results = threading.Barrier(5), []

    def submit(client):
        start.wait()
        response = client.post("/api/v1/visits", json=payload)
        results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=submit, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(status for status, _ in results) == [200, 200, 200, 200, 201]
    assert len({body["id"] for _, body in results}) == 1
    assert count(session, Visit) == 1
    assert sorted(n.type for n in session.exec(select(Need))) == ["medical", "review"]


def test_same_uuid_with_other_content_is_a_conflict(as_user, world, session):
    client = as_user("assistant_a")
    payload = visit_payload(world.household_a)
    assert client.post("/api/v1/visits", json=payload).status_code == 201
    response = client.post("/api/v1/visits", json={**payload, "risk": "urgent"})
    assert response.status_code == 409
    assert response.get_json()["error"] == "visit_conflict"
    assert "已经提交过" in response.get_json()["message"]
    assert count(session, Visit) == 1 and count(session, Need) == 2
    session.refresh(world.household_a)
    assert world.household_a.last_risk == "attention"


def test_visit_without_changes_or_needs_raises_none(as_user, world, session):
    payload = visit_payload(world.household_a, changes=[], needs=[], risk="normal")
    assert as_user("assistant_a").post("/api/v1/visits", json=payload).status_code == 201
    assert count(session, Need) == 0


# ---- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"uuid": "not-a-uuid"}, "uuid", "走访编号的格式不对"),
        ({"kind": "party"}, "kind", "走访类型的选项不对"),
        ({"checklist": {"water": {"ok": False}}}, "checklist.water", "有问题的项目请简单写明情况"),
        ({"weather": "晴"}, "weather", "不认识的字段：weather"),
        ({"needs": [{"type": "medical", "description": ""}]}, "needs.0.description", "说明的长度不对"),
    ],
)
def test_invalid_visit_is_refused_field_by_field_in_chinese(as_user, world, session, document, change, field, message):
    response = as_user("assistant_a").post("/api/v1/visits", json=visit_payload(world.household_a, **change))
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid" and "请检查" in body["message"]
    assert {"field": field, "message": message} in body["fields"]
    assert_described(document, "post", "/api/v1/visits", 422, body)
    assert count(session, Visit) == 0 and count(session, Need) == 0


def test_missing_body_names_each_required_field(as_user, session):
    body = as_user("assistant_a").post("/api/v1/visits", data="nonsense").get_json()
    assert {"field": "uuid", "message": "请填写走访编号"} in body["fields"]
    assert {"field": "kind", "message": "请填写走访类型"} in body["fields"]
    assert count(session, Visit) == 0


def test_visit_in_the_future_is_refused(as_user, world, session):
    later = utcnow().replace(year=utcnow().year + 1).isoformat()
    response = as_user("assistant_a").post("/api/v1/visits", json=visit_payload(world.household_a, visited_at=later))
    assert response.status_code == 400 and "手机时间" in response.get_json()["message"]
    assert count(session, Visit) == 0


# ---- signing in and CSRF -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/me"), ("get", "/api/v1/households"), ("get", "/api/v1/households/1"), ("post", "/api/v1/visits")],
)
def test_without_a_session_the_api_answers_401_json_not_a_redirect(client, world, method, path):
    response = getattr(client, method)(path, json={})
    assert response.status_code == 401 and "Location" not in response.headers
    assert response.get_json() == {"error": "login_required", "message": "请先登录"}


def test_user_with_a_temporary_password_gets_403_json(client, world, session):
    world.assistant_a.must_change_password = True
    session.add(world.assistant_a)
    session.commit()
    login(client, world.assistant_a)
    for response in (client.get("/api/v1/me"), client.post("/api/v1/visits", json=visit_payload(world.household_a))):
        assert response.status_code == 403
        assert response.get_json()["error"] == "password_change_required"
    assert count(session, Visit) == 0


def test_post_without_csrf_header_is_refused_and_with_the_page_token_works(make_app, world, session):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    login(client, world.assistant_a)
    payload = visit_payload(world.household_a)
    refused = client.post("/api/v1/visits", json=payload)
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "csrf" and "X-CSRFToken" in refused.get_json()["message"]
    assert count(session, Visit) == 0
    page = client.get("/households/").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    accepted = client.post("/api/v1/visits", json=payload, headers={"X-CSRFToken": token})
    assert accepted.status_code == 201 and count(session, Visit) == 1


def test_reads_need_no_csrf_token(make_app, world):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    login(client, world.assistant_a)
    assert client.get("/api/v1/me").get_json()["username"] == "assistant-a"


def test_api_errors_are_json_even_for_unknown_methods_and_addresses(as_user):
    client = as_user("assistant_a")
    response = client.delete("/api/v1/visits")
    assert response.status_code == 405 and response.get_json()["error"] == "method_not_allowed"
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_pages_keep_their_html_error_pages(as_user):
    response = as_user("assistant_a").get("/households/999999")
    assert response.status_code == 404 and "<html" in response.get_data(as_text=True)


# ---- reading -------------------------------------------------------------------------------------


def test_me_tells_who_is_signed_in_and_their_scope(as_user, document, world):
    body = as_user("assistant_a").get("/api/v1/me").get_json()
    assert len(body["csrf_token"]) > 20  # the outbox sends it back as X-CSRFToken (tests/test_offline_pack.py)
    assert {key: value for key, value in body.items() if key != "csrf_token"} == {
        "id": world.assistant_a.id,  # the outbox checks it is still the account whose records it holds
        "username": "assistant-a",
        "display_name": "李协理",
        "role": "assistant",
        "role_label": "村协理员",
        "area_code": "530902100201",
        "area_name": "碗窑村",
        "scope_prefix": "530902100201",
    }
    assert_described(document, "get", "/api/v1/me", 200, body)


def test_township_lists_both_villages_and_nothing_else(as_user, world, document):
    body = as_user("township").get("/api/v1/households").get_json()
    assert {item["id"] for item in body["items"]} == {world.household_a.id, world.household_b.id}
    assert body["page"] == 1 and body["has_more"] is False
    item = next(i for i in body["items"] if i["id"] == world.household_a.id)
    assert item["head_name"] == "张明华" and item["village"] == "碗窑村" and item["members"] == 1
    assert item["categories"] == ["dibao", "serious_illness"] and item["category_labels"] == ["低保", "重病"]
    assert item["status"] == "active" and item["last_visit_at"] is None
    assert_described(document, "get", "/api/v1/households", 200, body)


def test_household_list_searches_and_pages(as_user, world, monkeypatch):
    monkeypatch.setattr("blueprints.api.households.PAGE_SIZE", 1)
    client = as_user("township")
    first, second = (client.get("/api/v1/households", query_string={"page": n}).get_json() for n in (1, 2))
    assert (len(first["items"]), first["has_more"], len(second["items"]), second["has_more"]) == (1, True, 1, False)
    assert first["items"][0]["id"] != second["items"][0]["id"]
    found = client.get("/api/v1/households", query_string={"q": "杨梅国"}).get_json()
    assert [i["head_name"] for i in found["items"]] == ["杨梅国"]


def test_household_shows_members_masked_card_and_recent_visits(as_user, world, session, document):
    client = as_user("assistant_a")
    payload = visit_payload(world.household_a)
    client.post("/api/v1/visits", json=payload)
    card = session.exec(select(Card).where(Card.household_id == world.household_a.id)).one()
    card.delivered_at = utcnow()
    session.add(card)
    session.commit()
    body = client.get(f"/api/v1/households/{world.household_a.id}").get_json()
    assert body["household_no"] == "0001" and body["village"] == "碗窑村" and body["phone"] == "13900000001"
    assert body["categories"] == ["dibao", "serious_illness"] and body["card_delivered"] is True
    [member] = body["members"]
    assert member["name"] == "张明华" and member["is_head"] is True
    assert member["id_number_masked"] == "530902********8663"
    [visit] = body["visits"]
    assert (visit["uuid"], visit["kind"], visit["risk"]) == (payload["uuid"], "routine", "attention")
    assert visit["needs"] == 2 and visit["photos"] == 0 and visit["visitor"] == "李协理"
    assert body["last_risk"] == "attention" and body["last_visit_at"] == visit["visited_at"]
    assert_described(document, "get", "/api/v1/households/{household_id}", 200, body)


def test_member_schema_refuses_a_full_id_number():
    member = {"id": 1, "name": "张明华", "relation": "本人", "is_head": True, "sex": None, "birth_date": None}
    member |= {"phone": None, "disability_grade": None, "categories": []}
    assert MemberOut(**member, id_number_masked="530902********8663")
    with pytest.raises(ValueError, match="id_number_masked"):
        MemberOut(**member, id_number_masked=FULL_ID_NUMBERS[0])


# ---- scope ---------------------------------------------------------------------------------------


def test_other_village_gets_404_json_for_the_household(as_user, world, document):
    response = as_user("assistant_b").get(f"/api/v1/households/{world.household_a.id}")
    assert response.status_code == 404
    assert response.get_json() == {"error": "not_found", "message": "没有找到，或不在您的辖区内"}
    assert_described(document, "get", "/api/v1/households/{household_id}", 404, response.get_json())


def test_other_village_cannot_post_a_visit_to_the_household(as_user, world, session):
    response = as_user("assistant_b").post("/api/v1/visits", json=visit_payload(world.household_a))
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    assert count(session, Visit) == 0 and count(session, Need) == 0


def test_other_village_replaying_someone_elses_uuid_learns_nothing(client, world, session):
    payload = visit_payload(world.household_a)
    login(client, world.assistant_a)
    assert client.post("/api/v1/visits", json=payload).status_code == 201
    login(client, world.assistant_b)
    for attempt in (payload, {**payload, "household_id": world.household_b.id}):
        response = client.post("/api/v1/visits", json=attempt)
        assert response.status_code == 404 and "李协理" not in response.get_data(as_text=True)
    assert count(session, Visit) == 1


def test_other_village_cannot_add_a_photo_to_the_visit(client, world, session):
    payload = visit_payload(world.household_a)
    login(client, world.assistant_a)
    client.post("/api/v1/visits", json=payload)
    login(client, world.assistant_b)
    response = client.post(f"/api/v1/visits/{payload['uuid']}/photos", data=photo_upload())
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    assert count(session, Photo) == 0


def test_other_village_never_sees_the_household_in_the_list(as_user, world):
    client = as_user("assistant_b")
    for query in ({}, {"q": "张明华"}, {"q": "8663"}, {"q": "0001"}):
        body = client.get("/api/v1/households", query_string=query).get_json()
        assert world.household_a.id not in [i["id"] for i in body["items"]]
        assert "张明华" not in json.dumps(body, ensure_ascii=False)


@pytest.mark.parametrize("user", ["assistant_a", "township", "county", "city", "admin", "other_county"])
def test_the_api_never_returns_a_full_id_number(client, world, user):
    login(client, getattr(world, user))
    texts = [client.get("/api/v1/me").get_data(as_text=True), client.get("/api/v1/households").get_data(as_text=True)]
    for household in (world.household_a, world.household_b, world.household_other):
        texts.append(client.get(f"/api/v1/households/{household.id}").get_data(as_text=True))
    everything = "\n".join(texts)
    assert not any(number in everything for number in FULL_ID_NUMBERS)
    assert not re.search(r"\d{17}[\dX]", everything)
    if user in ("county", "city", "admin"):
        assert "530902********8663" in everything  # the check is not vacuous: the details were there


# ---- the description -----------------------------------------------------------------------------


def test_openapi_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    validate_openapi(document)


def test_openapi_document_needs_no_session(client):
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_every_api_route_is_described_and_every_description_is_a_route(app, document):
    served = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(openapi.PREFIX + "/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    described = {(path, method) for path, item in document["paths"].items() for method in item}
    assert served == described
    assert len(served) == len(openapi.OPERATIONS)


def test_every_ref_in_the_document_resolves(document):
    refs = re.findall(r'"\$ref": "([^"]+)"', json.dumps(document))
    assert refs
    for ref in refs:
        target = document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        assert isinstance(target, dict), ref


def test_schemas_are_the_ones_the_handlers_validate_with(document):
    schemas = document["components"]["schemas"]
    for model in (VisitIn, VisitOut, HouseholdOut):
        generated = model.model_json_schema(ref_template=openapi.REF_TEMPLATE)
        definitions = generated.pop("$defs", {})
        assert schemas[model.__name__] == generated
        assert all(schemas[name] == schema for name, schema in definitions.items())


def test_writes_ask_for_the_csrf_header_and_reads_do_not(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            headers = [p for p in operation.get("parameters", []) if p.get("$ref", "").endswith("/CsrfToken")]
            assert bool(headers) == (method == "post"), (path, method)
            if path != "/api/v1/openapi.json":
                assert {"401", "403"} <= set(operation["responses"]) and "security" not in operation
    assert document["components"]["securitySchemes"]["session"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
        "description": "登录后的会话 Cookie",
    }


def test_photo_upload_is_described_as_multipart(document):
    body = document["paths"]["/api/v1/visits/{uuid}/photos"]["post"]["requestBody"]["content"]
    schema = document["components"]["schemas"]["PhotoIn"]
    assert "multipart/form-data" in body and set(schema["required"]) == {"file", "uuid"}
    assert schema["properties"]["file"]["format"] == "binary"
