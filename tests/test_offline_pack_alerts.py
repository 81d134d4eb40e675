"""The alert tasks in the assistant's offline pack: the same ones 首页 lists (assigned to them, not checked yet,
in their village), red first, with no more of the alert than the task needs; the ETag moves as tasks come and go."""

from datetime import timedelta

import pytest
from sqlalchemy import event

from services.alerts.outcomes import OUTCOMES, REFERRALS
from services.clock import china_date
from services.offline import pack as offline_pack
from tests.alert_helpers import NOW, add_alert, check_visit
from tests.conftest import VILLAGE_A, add_household, login, page_text
from tests.test_api import assert_described

PACK = "/api/v1/offline-pack"


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").get_json()


def pack_of(client) -> tuple[str, dict]:
    response = client.get(PACK)
    assert response.status_code == 200
    return response.headers["ETag"], response.get_json()


def test_the_pack_lists_the_assistants_tasks_red_first_then_the_earliest_due(as_user, world, session, document):
    later = add_alert(session, world.household_a, "alone_no_contact_90", due=NOW + timedelta(days=9))
    sooner = add_alert(session, world.household_a, "urgent_no_follow_up", due=NOW + timedelta(days=2))
    orange = add_alert(
        session,
        world.household_a,
        "orphan_turning_18",
        grade="orange",
        due=NOW + timedelta(days=1),
        reason="孤儿年满 18 岁",
    )
    orange.person_id = world.head_a.id
    session.add(orange)
    session.commit()

    _tag, body = pack_of(as_user("assistant_a"))
    assert [a["id"] for a in body["alerts"]] == [sooner.id, later.id, orange.id]
    assert body["alerts"][2] == {
        "id": orange.id,
        "rule": "orphan_turning_18",
        "grade": "orange",
        "reason": "孤儿年满 18 岁",
        "due": china_date(NOW + timedelta(days=1)).isoformat(),
        "household_id": world.household_a.id,
        "person_id": world.head_a.id,
        "any_visit_closes": False,
    }
    assert body["alerts"][0]["person_id"] is None and body["alerts"][0]["any_visit_closes"] is True
    assert body["alerts_truncated"] is False
    assert body["labels"]["alert_rules"]["orphan_turning_18"] == "孤儿即将年满 18 岁"
    assert body["labels"]["alert_grades"] == {"red": "红", "orange": "橙", "yellow": "黄"}
    assert_described(document, "get", PACK, 200, body)


def test_only_tasks_not_yet_checked_and_assigned_to_the_assistant_are_in_it(as_user, world, session):
    task = add_alert(session, world.household_a)
    add_alert(session, world.household_a, "alone_no_contact_90", state="closed")
    add_alert(session, world.household_a, "orphan_turning_18", state="checked")
    # open: nobody's task yet (the household had no assistant when it was raised): the township's, as on 首页
    unassigned = add_alert(session, world.household_a, "urgent_no_follow_up", state="open")
    unassigned.assigned_to_id = None
    session.add(unassigned)
    session.commit()
    body = pack_of(as_user("assistant_a"))[1]
    assert [a["id"] for a in body["alerts"]] == [task.id]


def test_village_b_never_gets_village_a_alerts_even_one_assigned_to_its_assistant(as_user, world, session):
    add_alert(session, world.household_a)
    stray = add_alert(
        session, world.household_a, "alone_no_contact_90", assigned_to=world.assistant_b.id, reason="碗窑村的独居老人"
    )
    own = add_alert(
        session, world.household_b, "care_agreement_missing", grade="orange", assigned_to=world.assistant_b.id
    )
    client = as_user("assistant_b")
    response = client.get(PACK)
    assert [a["id"] for a in response.get_json()["alerts"]] == [own.id]
    assert stray.reason not in response.get_data(as_text=True)
    client.post("/logout")
    body = pack_of(as_user("assistant_a"))[1]
    assert [a["household_id"] for a in body["alerts"]] == [world.household_a.id]


def test_a_task_about_a_household_no_longer_in_the_pack_is_left_out(as_user, world, session):
    gone = add_household(session, VILLAGE_A, "0002", "钱已退", status="exited")
    gone.assistant_id = world.assistant_a.id
    session.add(gone)
    session.commit()
    add_alert(session, gone)
    kept = add_alert(session, world.household_a)
    body = pack_of(as_user("assistant_a"))[1]
    assert [a["id"] for a in body["alerts"]] == [kept.id]


def test_too_many_tasks_are_cut_to_the_reddest_and_say_so(as_user, world, session, monkeypatch):
    add_alert(session, world.household_a, "alone_no_contact_90", grade="yellow")
    red = add_alert(session, world.household_a)
    monkeypatch.setattr(offline_pack, "MAX_ALERTS", 1)
    body = pack_of(as_user("assistant_a"))[1]
    assert [a["id"] for a in body["alerts"]] == [red.id] and body["alerts_truncated"] is True


def test_the_etag_changes_when_a_task_is_added_and_when_a_visit_checks_it(as_user, world, session):
    client = as_user("assistant_a")
    before, body = pack_of(client)
    assert body["alerts"] == []
    alert = add_alert(session, world.household_a, "orphan_turning_18", grade="yellow")
    added, body = pack_of(client)
    assert added != before and [a["id"] for a in body["alerts"]] == [alert.id]
    assert client.get(PACK, headers={"If-None-Match": added}).status_code == 304  # nothing changed since

    visit = check_visit(world.household_a, alert, alert_outcome="dibao")
    assert client.post("/api/v1/visits", json=visit).status_code == 201
    checked, body = pack_of(client)
    assert body["alerts"] == [] and checked not in (before, added)  # the visit moved the due date too
    assert client.get(PACK, headers={"If-None-Match": added}).status_code == 200


def test_an_officer_closing_a_task_changes_the_etag_alone(as_user, client, world, session):
    alert = add_alert(session, world.household_a, "orphan_turning_18", grade="yellow")
    assistant = as_user("assistant_a")
    with_task = pack_of(assistant)[0]
    alert.state, alert.outcome, alert.open_key = "closed", "resolved", None  # as the township's 办结 leaves it
    session.add(alert)
    session.commit()
    without, body = pack_of(assistant)
    assert body["alerts"] == [] and without != with_task


def test_the_pack_takes_one_query_for_its_tasks_however_many(app, world, session):
    def statements() -> int:
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

    add_alert(session, world.household_a)
    few = statements()
    for number in range(2, 22):
        household = add_household(session, VILLAGE_A, f"{number:04d}", f"村民{number}")
        household.assistant_id = world.assistant_a.id
        session.add(household)
        session.commit()
        add_alert(session, household)
    assert statements() == few


def test_the_offline_visit_form_holds_the_alert_block_empty_for_the_phone_to_fill(client, world):
    body = page_text(client.get("/offline/visit"))
    template = body.split("<template data-alert-check-template>")[1].split("</template>")[0]
    assert all(f'value="{code}"' in template for code in OUTCOMES) and all(
        text in template for text in OUTCOMES.values()
    )
    assert all(f'value="{code}"' in template for code in REFERRALS)
    assert '<input type="hidden" name="alert_id" value="">' in template  # no one's alert: the phone sets it
    assert 'name="alert_id"' not in body.replace(template, "")  # outside the template, nothing to send
