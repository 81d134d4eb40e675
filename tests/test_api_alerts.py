"""GET /api/v1/alerts: the alerts in scope, red first, filtered by state and household, a page at a time."""

from datetime import UTC, datetime, timedelta

import jsonschema
import pytest

from models import Alert
from tests.conftest import OTHER_VILLAGE, VILLAGE_A, VILLAGE_B, add_household, login

DUE = datetime(2026, 12, 10, tzinfo=UTC)


def alert(session, household, rule="must_visit_overdue", grade="red", state="open", due=DUE) -> Alert:
    item = Alert(
        open_key=None if state == "closed" else f"{rule}:h{household.id}",
        rule=rule,
        grade=grade,
        area_code=household.area_code,
        household_id=household.id,
        reason="八必访对象，已逾期 5 天",
        state=state,
        due_at=due,
    )
    session.add(item)
    session.commit()
    return item


def listed(client, query: str = "") -> dict:
    response = client.get("/api/v1/alerts" + query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_an_officer_lists_alerts_red_first_with_the_fields_the_issue_names(client, session, world):
    yellow = alert(session, world.household_a, rule="orphan_turning_18", grade="yellow")
    red = alert(session, world.household_b, rule="alone_no_contact_90", grade="red", due=DUE + timedelta(days=3))
    login(client, world.township)
    body = listed(client)
    assert [item["id"] for item in body["items"]] == [red.id, yellow.id] and body["next"] is None
    first = body["items"][0]
    assert {"id", "rule", "grade", "household_id", "person_id", "candidate_id", "due_at", "state"} <= set(first)
    assert first["rule_label"] == "独居无人联系" and first["household_id"] == world.household_b.id
    document = client.get("/api/v1/openapi.json").get_json()
    schema = document["paths"]["/api/v1/alerts"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    jsonschema.Draft202012Validator({**schema, "components": document["components"]}).validate(body)


def test_state_and_household_narrow_the_list(client, session, world):
    open_a = alert(session, world.household_a)
    alert(session, world.household_a, rule="need_open_too_long", grade="orange", state="closed")
    open_b = alert(session, world.household_b)
    login(client, world.township)
    assert [i["id"] for i in listed(client, "?state=open")["items"]] == [open_a.id, open_b.id]
    assert [i["id"] for i in listed(client, f"?state=open&household_id={world.household_a.id}")["items"]] == [open_a.id]


def test_pages_follow_the_next_link_to_the_end(client, session, world):
    households = [add_household(session, VILLAGE_A, f"{n:04d}", f"户{n}") for n in range(100, 160)]
    session.commit()
    for household in households:
        alert(session, household)
    login(client, world.township)
    seen, address = [], "/api/v1/alerts?state=open"
    while address:
        response = client.get(address)
        assert response.status_code == 200
        seen += [item["id"] for item in response.get_json()["items"]]
        address = response.get_json()["next"]
    assert len(seen) == len(set(seen)) == 60


def test_an_assistant_sees_only_their_village_and_another_county_nothing(client, session, world, password_hash):
    mine = alert(session, world.household_a)
    alert(session, world.household_b)
    elsewhere = add_household(session, OTHER_VILLAGE, "0900", "外县户")
    session.commit()
    theirs = alert(session, elsewhere)
    login(client, world.assistant_a)
    assert [i["id"] for i in listed(client)["items"]] == [mine.id]
    client.post("/logout")
    login(client, world.other_county)
    assert [i["id"] for i in listed(client)["items"]] == [theirs.id]
    assert listed(client, f"?household_id={world.household_a.id}")["items"] == []  # asking by id tells nothing


@pytest.mark.parametrize(
    "query", ["?state=later", "?household_id=abc", "?household_id=0", "?household_id=99999999999999999999"]
)
def test_bad_filters_are_refused_in_plain_words(client, world, query):
    login(client, world.township)
    response = client.get("/api/v1/alerts" + query)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid"


def test_the_list_requires_login(client):
    response = client.get("/api/v1/alerts")
    assert response.status_code == 401 and response.get_json()["error"] == "login_required"


def test_village_b_alerts_are_not_village_as(client, session, world):
    other = add_household(session, VILLAGE_B, "0300", "勐准户")
    session.commit()
    alert(session, other)
    login(client, world.assistant_a)
    assert listed(client)["items"] == []
