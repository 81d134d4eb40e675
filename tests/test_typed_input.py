"""Input that is read, not refused: odd page numbers, full-width phone digits, searches with % and _ and
without leading zeros, a caption sent as "null", moving a household to a village that uses its number;
and the answers the API owes: 401 before CSRF, Allow on a 405, bounds in its description."""

import io
import json
from uuid import uuid4

import pytest
from sqlmodel import select

from models import AuditEvent, Person, Photo
from services.inputs import MAX_ID, small_int
from tests.conftest import VILLAGE_A, VILLAGE_B, add_household, login, page_text
from tests.test_photos import jpeg


@pytest.mark.parametrize("text", ["12", " 7 ", "0", "000000000000000012", str(2**31 - 1)])
def test_small_int_reads_ascii_digits(text):
    assert small_int(text) == int(text)


@pytest.mark.parametrize(
    "text", ["²", "\u0661\u0662", "１２", "-1", "+1", "1_000", "1.0", "", None, "9" * 19, str(2**31)]
)
def test_small_int_refuses_everything_else(text):
    assert small_int(text) is None


@pytest.mark.parametrize("path", ["/households/", "/visits/", "/needs/", "/users/", "/api/v1/households"])
@pytest.mark.parametrize("page", ["²", "99999999999999999999", "-3", "\u0663"])
def test_a_page_number_that_is_not_one_shows_the_first_page(as_user, path, page):
    response = as_user("county").get(f"{path}?page={page}")
    body = page_text(response)
    if path.startswith("/api/"):
        assert response.get_json()["page"] == 1
    else:
        assert "出错" not in body


def test_a_campaign_filter_that_is_not_a_number_is_ignored_on_the_needs_list(as_user):
    assert "出错" not in page_text(as_user("county").get("/needs/?campaign=²"))


def test_an_int_rule_takes_the_largest_id_and_nothing_larger(as_user):
    client = as_user("county")
    assert client.get(f"/households/{MAX_ID}").status_code == 404  # routed, looked up, not found
    assert client.get(f"/households/{MAX_ID + 1}").status_code == 404  # not even routed
    assert client.get("/households/١").status_code == 404


# ---- phone numbers, names ------------------------------------------------------------------------


def test_full_width_and_superscript_phone_digits_are_stored_as_plain_digits(as_user, world, session):
    response = as_user("assistant_a").post(
        f"/households/{world.household_a.id}/members/new",
        data={"name": "张小红", "relation": "女", "phone": "１３８ ００００-²³⁴⁵"},
    )
    assert response.status_code == 302
    person = session.exec(select(Person).where(Person.name == "张小红")).one()
    assert person.phone == "138 0000-2345"


# ---- searching -----------------------------------------------------------------------------------


def test_household_number_is_found_with_or_without_leading_zeros(as_user, session):
    add_household(session, VILLAGE_A, "0012", "杨十二")
    session.commit()
    client = as_user("assistant_a")
    for typed in ("12", "012", "0012"):
        assert "杨十二" in page_text(client.get(f"/households/?q={typed}")), typed
    assert "杨十二" not in page_text(client.get("/households/?q=120"))
    assert "杨十二" in json.dumps(client.get("/api/v1/households?q=12").get_json(), ensure_ascii=False)


def test_percent_and_underscore_in_a_search_are_plain_characters(as_user, world, session):
    add_household(session, VILLAGE_A, "0002", "王_芳")
    session.commit()
    client = as_user("assistant_a")
    assert "张明华" not in page_text(client.get("/households/?q=%25"))  # "%" alone matched every name
    everyone = page_text(client.get("/households/?q=_"))
    assert "王_芳" in everyone and "张明华" not in everyone
    managers = page_text(as_user("county").get("/users/?q=%25"))
    assert "李协理" not in managers and "王协理" not in managers


def test_a_township_list_reads_village_by_village_in_number_order(as_user, world, session):
    add_household(session, VILLAGE_B, "0002", "勐准二")
    add_household(session, VILLAGE_A, "0003", "碗窑三")
    add_household(session, VILLAGE_A, "0002", "碗窑二")
    session.commit()
    body = page_text(as_user("township").get("/households/"))
    order = [body.index(name) for name in ("张明华", "碗窑二", "碗窑三", "杨梅国", "勐准二")]
    assert order == sorted(order)


# ---- moving a household --------------------------------------------------------------------------


def test_moving_to_a_village_that_uses_the_number_gives_the_next_free_one(as_user, world, session):
    add_household(session, VILLAGE_B, "0007", "勐准七")
    session.commit()
    client = as_user("township")
    response = client.post(
        f"/households/{world.household_a.id}/edit",
        data={"area_code": VILLAGE_B, "kind": "family", "phone": "13900000001"},
        follow_redirects=True,
    )
    assert "这户改为 0008 号" in page_text(response)
    session.refresh(world.household_a)
    assert (world.household_a.area_code, world.household_a.household_no) == (VILLAGE_B, "0008")
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "household.updated")).one()
    detail = json.loads(event.detail)
    assert detail["household_no"] == {"from": "0001", "to": "0008"} and "area_code" in detail["fields"]


def test_a_number_freed_by_a_move_is_kept_by_the_next_household_moving_in(as_user, world, session):
    client = as_user("township")
    response = client.post(
        f"/households/{world.household_b.id}/edit",
        data={"area_code": VILLAGE_A, "kind": "family"},
        follow_redirects=True,
    )
    assert "这户改为" in page_text(response)  # 0001 is taken in 碗窑村 by household A
    response = client.post(
        f"/households/{world.household_a.id}/edit",
        data={"area_code": VILLAGE_B, "kind": "family", "phone": "13900000001"},
        follow_redirects=True,
    )
    body = page_text(response)
    assert "已保存" in body and "这户改为" not in body  # 勐准村's 0001 left with household B
    session.refresh(world.household_a)
    assert world.household_a.household_no == "0001"


# ---- photos --------------------------------------------------------------------------------------


def test_a_caption_sent_as_null_is_no_caption(as_user, world, session):
    client = as_user("assistant_a")
    visit_uuid = str(uuid4())
    visit = {"uuid": visit_uuid, "household_id": world.household_a.id, "kind": "routine"}
    assert client.post("/api/v1/visits", json=visit).status_code == 201
    data = {"file": (io.BytesIO(jpeg("red")), "a.jpg"), "uuid": str(uuid4()), "caption": "null"}
    response = client.post(f"/api/v1/visits/{visit_uuid}/photos", data=data)
    assert response.status_code == 201 and response.get_json()["caption"] is None
    assert session.exec(select(Photo.caption)).one() is None


# ---- the API's contract --------------------------------------------------------------------------


def test_an_api_write_without_a_session_is_401_even_with_csrf_on(make_app, world):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    response = client.post("/api/v1/relief", json={})
    assert response.status_code == 401 and response.get_json()["error"] == "login_required"


def test_an_api_write_with_a_session_and_no_token_is_still_refused(make_app, world):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    login(client, world.assistant_a)
    response = client.post("/api/v1/visits", json={})
    assert response.status_code == 400 and response.get_json()["error"] == "csrf"


@pytest.mark.parametrize(
    ("method", "path", "allowed"), [("DELETE", "/api/v1/visits", "POST"), ("POST", "/api/v1/me", "GET")]
)
def test_a_json_405_names_the_allowed_methods(as_user, method, path, allowed):
    response = as_user("assistant_a").open(path, method=method)
    assert response.status_code == 405 and response.is_json
    assert allowed in response.headers["Allow"].split(", ")


def test_a_page_405_names_the_allowed_methods_too(as_user, world):
    response = as_user("township").get(f"/households/{world.household_a.id}/restore")
    assert response.status_code == 405 and "POST" in response.headers["Allow"].split(", ")
    assert "不支持这种请求方式" in response.get_data(as_text=True)


def test_the_description_states_what_the_handlers_check(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    visit = schemas["VisitIn"]["properties"]
    assert visit["household_id"]["maximum"] == MAX_ID and visit["household_id"]["minimum"] == 1
    check_item = schemas["CheckItem"]
    assert check_item["if"]["properties"]["ok"] == {"const": False} and check_item["then"]["required"] == ["note"]
    assert schemas["PhotoIn"]["properties"]["caption"]["anyOf"][0]["maxLength"] == 32
    relief = schemas["ReliefIn"]["properties"]
    assert relief["person_id"]["maximum"] == MAX_ID and "maximum" in schemas["DecisionIn"]["properties"]["version"]
    household = document["paths"]["/api/v1/households/{household_id}"]["get"]["parameters"][0]
    assert household["schema"] == {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    assert "401" in document["paths"]["/api/v1/visits"]["post"]["responses"]
