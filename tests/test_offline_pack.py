"""The assistant's offline pack (GET /api/v1/offline-pack): their own village's active households and nothing
else, no ID number and no card token anywhere, an ETag that answers 304 until something changes, and a few
queries whatever the village's size."""

import hashlib
import json
import re
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest
from sqlalchemy import event
from sqlmodel import select

from models import Campaign, Card, Household, Person, PersonCategory
from services.clock import today_in_china
from services.offline import pack as offline_pack
from tests.conftest import VILLAGE_A, add_household, add_need, login, page_text
from tests.test_api import assert_described

PACK = "/api/v1/offline-pack"
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T[0-9:.]+(Z|[+-]\d{2}:\d{2})?")


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").get_json()


def get_pack(client, **headers):
    response = client.get(PACK, headers=headers)
    return response, response.get_json(silent=True)


def household_in(body, household) -> dict:
    return next(h for h in body["households"] if h["id"] == household.id)


def visit(client, household, **fields):
    payload = {"uuid": str(uuid4()), "household_id": household.id, "kind": "routine", **fields}
    assert client.post("/api/v1/visits", json=payload).status_code == 201


# ---- what is in it ---------------------------------------------------------------------------------------


def test_the_assistant_gets_their_village_with_members_needs_and_the_card_hash(as_user, world, session, document):
    head = world.head_a
    head.birth_date, head.sex, head.phone = date(1945, 5, 16), "女", "13900000009"
    spouse = Person(household_id=world.household_a.id, name="张老伯", relation="配偶", birth_date=date(1943, 1, 2))
    session.add_all([head, spouse])
    session.flush()
    session.add(PersonCategory(person_id=spouse.id, category="lonely_elderly"))
    add_need(session, world.household_a, "medical", by=world.assistant_a)
    add_need(session, world.household_a, "housing", by=world.assistant_a, status="resolved")
    session.commit()
    token = session.exec(select(Card.token).where(Card.household_id == world.household_a.id)).one()

    response, body = get_pack(as_user("assistant_a"))
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert body["version"] == 1 and body["user_id"] == world.assistant_a.id and body["truncated"] is False
    assert body["villages"] == {VILLAGE_A: "碗窑村"}
    assert body["labels"]["categories"]["dibao"] == "低保" and body["labels"]["sections"]["overdue"] == "逾期"
    assert [h["id"] for h in body["households"]] == [world.household_a.id]
    household = body["households"][0]
    assert household["no"] == "0001" and household["village"] == VILLAGE_A and household["phone"] == "13900000001"
    assert household["assistant"] == {"name": "李协理", "phone": "13800000001"}
    assert household["categories"] == ["dibao", "lonely_elderly", "serious_illness"]
    today = today_in_china()
    assert household["members"] == [
        {
            "id": head.id,
            "name": "张明华",
            "age": today.year - 1945 - ((today.month, today.day) < (5, 16)),
            "sex": "女",
            "relation": "本人",
            "head": True,
            "categories": ["dibao", "serious_illness"],
            "phone": "13900000009",
        },
        {
            "id": spouse.id,
            "name": "张老伯",
            "age": today.year - 1943 - ((today.month, today.day) < (1, 2)),
            "sex": None,
            "relation": "配偶",
            "head": False,
            "categories": ["lonely_elderly"],
            "phone": None,
        },
    ]
    assert [(n["type"], n["status"]) for n in household["needs"]] == [("medical", "open")]  # the resolved one is not
    assert household["card"] == hashlib.sha256(token.encode()).hexdigest()
    assert household["due"] == {"date": None, "section": "today"}  # never visited: due now
    assert household["last_visit_at"] is None and household["survey_due"] is False
    assert_described(document, "get", PACK, 200, body)


def test_ages_are_counted_in_china_time():
    born = date(1945, 12, 2)
    late_evening = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)  # 23:30 in China: the birthday is tomorrow
    after_midnight = datetime(2026, 12, 1, 16, 30, tzinfo=UTC)  # 00:30 on 2 December in China
    assert offline_pack.age_on(born, today_in_china(late_evening)) == 80
    assert offline_pack.age_on(born, today_in_china(after_midnight)) == 81
    assert offline_pack.age_on(None, date(2026, 12, 1)) is None


def test_the_due_date_follows_the_home_screen_rule(as_user, world):
    client = as_user("assistant_a")
    visit(client, world.household_a)  # 重病: monthly
    household = household_in(get_pack(client)[1], world.household_a)
    assert household["due"] == {"date": (today_in_china() + timedelta(days=30)).isoformat(), "section": None}
    assert household["last_visit_at"] is not None and household["last_risk"] == "normal"
    visit(client, world.household_a, risk="urgent")  # urgent: weekly
    household = household_in(get_pack(client)[1], world.household_a)
    assert household["due"] == {"date": (today_in_china() + timedelta(days=7)).isoformat(), "section": "week"}
    assert household["last_risk"] == "urgent"


def test_an_overdue_household_is_in_the_overdue_section(as_user, world, session):
    world.household_a.last_visit_at = datetime.now(UTC) - timedelta(days=45)
    world.household_a.last_risk = "normal"
    session.add(world.household_a)
    session.commit()
    household = household_in(get_pack(as_user("assistant_a"))[1], world.household_a)
    expected = today_in_china(world.household_a.last_visit_at + timedelta(days=30))
    assert household["due"] == {"date": expected.isoformat(), "section": "overdue"}


def test_survey_due_while_a_campaign_runs_until_the_survey_visit(as_user, world, session):
    today = date.today()
    window = {"start_date": today - timedelta(days=3), "end_date": today + timedelta(days=3)}
    session.add(Campaign(name="排查", created_by_id=world.city.id, **window))
    session.commit()
    client = as_user("assistant_a")
    assert household_in(get_pack(client)[1], world.household_a)["survey_due"] is True
    visit(client, world.household_a, kind="routine")
    assert household_in(get_pack(client)[1], world.household_a)["survey_due"] is True  # a routine visit is not one
    visit(client, world.household_a, kind="survey")
    assert household_in(get_pack(client)[1], world.household_a)["survey_due"] is False


def test_exited_households_and_other_villages_never_appear(as_user, world, session):
    gone = add_household(session, VILLAGE_A, "0002", "钱已退", status="exited")
    session.commit()
    for name, own, others in (
        ("assistant_a", world.household_a, (world.household_b, world.household_other, gone)),
        ("assistant_b", world.household_b, (world.household_a, world.household_other)),
    ):
        client = as_user(name)
        response, body = get_pack(client)
        assert [h["id"] for h in body["households"]] == [own.id]
        text = response.get_data(as_text=True)
        for other in others:
            head = session.exec(select(Person.name).where(Person.household_id == other.id)).one()
            assert head not in text
        client.post("/logout")


def test_no_id_number_and_no_card_token_anywhere_in_the_pack(as_user, world, session):
    add_household(session, VILLAGE_A, "0002", "李四", "530902200001011234", categories=("orphan",))
    session.commit()
    response, body = get_pack(as_user("assistant_a"))
    text = response.get_data(as_text=True)
    assert "张明华" in text and "李四" in text  # both households are there, so the search is not vacuous
    tokens = session.exec(select(Card.token)).all()
    people = session.exec(select(Person.id_number, Person.id_last4)).all()
    assert len(tokens) == 4 and len(people) == 4
    assert not any(token in text for token in tokens)
    assert not any(number in text for number, _last4 in people)
    assert not re.search(r"\d{17}[\dX]", text) and "****" not in text
    # the last four characters of an ID number: nowhere, once the card hashes and the timestamps are set aside
    hashes = {h["card"] for h in body["households"]}
    rest = TIMESTAMP.sub("", text)
    for card in hashes:
        rest = rest.replace(card, "")
    assert not any(last4 in rest for _number, last4 in people)
    assert not re.search(r'"(id_number|id_last4|id_number_masked|birth_date)"', text)


def test_a_village_bigger_than_the_limit_is_cut_and_says_so(as_user, world, session, monkeypatch):
    add_household(session, VILLAGE_A, "0002", "李四")
    session.commit()
    monkeypatch.setattr(offline_pack, "MAX_HOUSEHOLDS", 1)
    body = get_pack(as_user("assistant_a"))[1]
    assert body["truncated"] is True and [h["no"] for h in body["households"]] == ["0001"]


def test_the_pack_takes_the_same_few_queries_for_one_household_or_thirty(app, world, session):
    def statements_for_pack() -> int:
        seen = []
        engine = app.extensions["doudi_engine"]
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            client = app.test_client()
            login(client, world.assistant_a)
            assert client.get(PACK).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    few = statements_for_pack()
    for number in range(2, 31):
        household = add_household(session, VILLAGE_A, f"{number:04d}", f"村民{number}", categories=("dibao", "orphan"))
        add_need(session, household, "supplies", by=world.assistant_a)
    session.commit()
    assert statements_for_pack() == few <= 20  # the user's own lookup, the pack's dozen, nothing per household


# ---- who may have it ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["township", "county", "city", "admin"])
def test_officers_get_403(as_user, user, document):
    response = as_user(user).get(PACK)
    assert response.status_code == 403 and response.get_json()["error"] == "not_allowed"
    assert_described(document, "get", PACK, 403, response.get_json())


def test_anonymous_gets_401(client, world):
    response = client.get(PACK)
    assert response.status_code == 401 and response.get_json()["error"] == "login_required"


# ---- the ETag ------------------------------------------------------------------------------------------------


def test_an_unchanged_pack_answers_304_with_its_etag_and_no_body(as_user, world):
    client = as_user("assistant_a")
    first, _body = get_pack(client)
    etag = first.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = client.get(PACK, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag and again.headers["Cache-Control"] == "private, no-cache"
    weakened = client.get(PACK, headers={"If-None-Match": f"W/{etag}"})  # as a proxy may pass it on
    assert weakened.status_code == 304
    for other in ('"0123456789abcdef0123456789abcdef"', '""', "not quoted", ",,", 'W/""'):
        assert client.get(PACK, headers={"If-None-Match": other}).status_code == 200, other
    assert client.get(PACK, headers={"If-None-Match": f'"a", {etag}'}).status_code == 304  # one of several
    assert client.get(PACK, headers={"If-None-Match": "*"}).status_code == 304


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_the_compressed_pack_is_recognised_by_the_tag_compression_gave_it(as_user, world, encoding):
    client = as_user("assistant_a")
    first = client.get(PACK, headers={"Accept-Encoding": encoding})
    assert first.status_code == 200 and first.headers["Content-Encoding"] == encoding
    etag = first.headers["ETag"]
    assert etag.endswith(f':{encoding}"')  # Flask-Compress marks the encoded representation's strong tag
    again = client.get(PACK, headers={"Accept-Encoding": encoding, "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag


def test_the_etag_changes_after_a_visit_a_need_and_a_household_change(as_user, world, session):
    client = as_user("assistant_a")
    tags = [get_pack(client)[0].headers["ETag"]]
    visit(client, world.household_a)
    tags.append(get_pack(client)[0].headers["ETag"])
    add_need(session, world.household_a, "medical", by=world.assistant_a)
    session.commit()
    tags.append(get_pack(client)[0].headers["ETag"])
    household = session.get(Household, world.household_a.id)
    household.address = "碗窑村4组"
    session.add(household)
    session.commit()
    response, body = get_pack(client)
    tags.append(response.headers["ETag"])
    assert body["households"][0]["address"] == "碗窑村4组"
    assert len(set(tags)) == 4
    assert client.get(PACK, headers={"If-None-Match": tags[0]}).status_code == 200  # the old pack is stale
    assert client.get(PACK, headers={"If-None-Match": tags[-1]}).status_code == 304


def test_the_etag_is_the_hash_of_the_body_without_its_time(as_user, world):
    response, body = get_pack(as_user("assistant_a"))
    del body["generated_at"]
    digest = hashlib.sha256(offline_pack.canonical_json(body)).hexdigest()[:32]
    assert response.headers["ETag"] == f'"{digest}"'


def test_two_assistants_never_share_an_etag(client, world):
    tags = []
    for user in (world.assistant_a, world.assistant_b):
        login(client, user)
        tags.append(client.get(PACK).headers["ETag"])
    assert tags[0] != tags[1]


# ---- the description and the CSRF token the outbox reads ---------------------------------------------------


def test_the_pack_is_described_with_its_304_and_its_etag(document):
    operation = document["paths"][PACK]["get"]
    assert operation["operationId"] == "offline_pack"
    assert "content" not in operation["responses"]["304"]
    assert operation["responses"]["304"]["headers"]["ETag"]["required"] is True
    assert {"name": "If-None-Match", "in": "header"}.items() <= operation["parameters"][0].items()
    schema = document["components"]["schemas"]["PackMemberOut"]
    assert not {"id_number", "id_last4", "id_number_masked", "birth_date"} & set(schema["properties"])


def test_the_csrf_token_from_me_lets_the_outbox_post(make_app, world, session):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    login(client, world.assistant_a)
    me = client.get("/api/v1/me")
    token = json.loads(page_text(me))["csrf_token"]
    payload = {"uuid": str(uuid4()), "household_id": world.household_a.id, "kind": "routine"}
    assert client.post("/api/v1/visits", json=payload).status_code == 400
    response = client.post("/api/v1/visits", json=payload, headers={"X-CSRFToken": token})
    assert response.status_code == 201, json.dumps(response.get_json(), ensure_ascii=False)
