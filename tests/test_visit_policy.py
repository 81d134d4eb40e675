"""Visits that waited on a phone: the phone's time of visit within 30 days, a household that exited meanwhile
(the visit lands, flagged for the township) or after (refused), one that left the assistant's scope (404 in
plain words), and two phones visiting the same household (two visits)."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from sqlmodel import func, select

from models import Household, Need, Visit
from services.audit import Actor
from services.registry.households import exit_household, update_household
from tests.conftest import VILLAGE_B, login

GONE = "没有找到这户，或这户已不在您的辖区（可能已迁出），请联系乡镇经办员"


def visit_payload(household, at: datetime | None = None, **fields) -> dict:
    payload = {"uuid": str(uuid4()), "household_id": household.id, "kind": "routine", **fields}
    if at is not None:
        payload["visited_at"] = at.isoformat()
    return payload


def visits(session) -> int:
    return session.exec(select(func.count()).select_from(Visit)).one()


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


# ---- the phone's time --------------------------------------------------------------------------------------


def test_a_visit_kept_29_days_lands_with_the_phones_time_and_its_arrival(as_user, world, session):
    made = days_ago(29)
    response = as_user("assistant_a").post("/api/v1/visits", json=visit_payload(world.household_a, made))
    assert response.status_code == 201
    stored = session.exec(select(Visit)).one()
    assert abs(stored.visited_at.replace(tzinfo=UTC) - made) < timedelta(seconds=1)
    assert abs(stored.created_at.replace(tzinfo=UTC) - datetime.now(UTC)) < timedelta(minutes=1)  # when it arrived


def test_a_visit_older_than_30_days_is_refused_in_plain_words(as_user, world, session):
    response = as_user("assistant_a").post("/api/v1/visits", json=visit_payload(world.household_a, days_ago(31)))
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "visit_refused",
        "message": "走访时间早于 30 天前，请核对手机时间后联系乡镇经办员",
    }
    assert visits(session) == 0


def test_a_phone_clock_more_than_ten_minutes_fast_is_refused(as_user, world, session):
    soon, later = datetime.now(UTC) + timedelta(minutes=5), datetime.now(UTC) + timedelta(minutes=15)
    client = as_user("assistant_a")
    assert client.post("/api/v1/visits", json=visit_payload(world.household_a, soon)).status_code == 201
    response = client.post("/api/v1/visits", json=visit_payload(world.household_a, later))
    assert response.status_code == 400 and "手机时间" in response.get_json()["message"]
    assert visits(session) == 1


# ---- the household exited meanwhile -----------------------------------------------------------------------


def exit_now(session, world, household) -> None:
    exit_household(session, Actor(world.township), session.get(Household, household.id), "迁出本地")
    session.commit()


def test_a_visit_made_before_the_exit_lands_and_asks_the_township_to_check(as_user, world, session):
    made = days_ago(2)
    exit_now(session, world, world.household_a)
    response = as_user("assistant_a").post("/api/v1/visits", json=visit_payload(world.household_a, made))
    assert response.status_code == 201
    review = session.exec(select(Need).where(Need.household_id == world.household_a.id)).one()
    assert review.type == "review" and review.status == "open"
    assert review.description == "走访时这户还在册（离线记录），之后已退出在册，请乡镇核实"
    township_list = as_user("township").get("/needs/").get_data(as_text=True)
    assert "之后已退出在册，请乡镇核实" in township_list


def test_a_visit_made_after_the_exit_is_refused(as_user, world, session):
    exit_now(session, world, world.household_a)
    client = as_user("assistant_a")
    later = datetime.now(UTC)
    for payload in (visit_payload(world.household_a, later), visit_payload(world.household_a)):  # no time: now
        response = client.post("/api/v1/visits", json=payload)
        assert response.status_code == 400
        assert response.get_json() == {"error": "visit_refused", "message": "这户已退出在册，不能再登记走访"}
    assert visits(session) == 0
    assert session.exec(select(func.count()).select_from(Need)).one() == 0


def test_a_replay_of_a_visit_that_landed_before_the_exit_still_answers_200(as_user, world, session):
    client = as_user("assistant_a")
    payload = visit_payload(world.household_a, days_ago(1))
    assert client.post("/api/v1/visits", json=payload).status_code == 201
    exit_now(session, world, world.household_a)
    assert client.post("/api/v1/visits", json=payload).status_code == 200  # the phone's retry after a lost answer
    assert visits(session) == 1


# ---- the household left the scope ----------------------------------------------------------------------------


def test_a_household_moved_to_another_village_is_refused_with_a_clear_message(as_user, world, session):
    household = session.get(Household, world.household_a.id)
    update_household(session, Actor(world.township), household, {"area_code": VILLAGE_B})
    session.commit()
    response = as_user("assistant_a").post("/api/v1/visits", json=visit_payload(world.household_a, days_ago(1)))
    assert response.status_code == 404
    assert response.get_json() == {"error": "not_found", "message": GONE}
    assert visits(session) == 0


def test_a_household_that_never_was_in_scope_gets_the_same_words(as_user, world, session):
    client = as_user("assistant_a")
    for household_id in (world.household_other.id, 999_999):
        payload = {**visit_payload(world.household_a), "household_id": household_id}
        response = client.post("/api/v1/visits", json=payload)
        assert response.status_code == 404 and response.get_json()["message"] == GONE
    assert visits(session) == 0


# ---- two phones -------------------------------------------------------------------------------------------


def test_two_phones_visiting_the_same_household_make_two_visits(client, world, session):
    for user in (world.assistant_a, world.township):
        login(client, user)
        assert client.post("/api/v1/visits", json=visit_payload(world.household_a, days_ago(0.1))).status_code == 201
    assert visits(session) == 2
    assert {v.visitor_id for v in session.exec(select(Visit))} == {world.assistant_a.id, world.township.id}
