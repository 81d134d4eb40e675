"""An alert's life: raised and assigned, checked by a visit with an outcome, closed by an officer, moved up."""

import json
from datetime import timedelta

import pytest
from sqlmodel import func, select

from models import Alert, AuditEvent, Correction, Household, Visit
from services.alerts import engine
from services.audit import Actor
from tests.alert_helpers import NOW, add_alert, check_visit
from tests.conftest import add_user, login, page_text
from tests.payouts_helpers import head_of, month

ROBOT = Actor(user=None, ip="test")


def events(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def visits(session) -> int:
    return session.exec(select(func.count()).select_from(Visit)).one()


def registered_long_ago(session, *households, days=200) -> None:
    """Make households registered that long ago and never visited: the overdue-visit rules find them."""
    for household in households:
        household.created_at = NOW - timedelta(days=days)
        session.add(household)
    session.commit()


# ---- raised and assigned -------------------------------------------------------------------


def test_an_alert_about_a_household_with_an_assistant_is_assigned_to_them_the_others_stay_open(session, world):
    registered_long_ago(session, world.household_a, world.household_b)
    result = engine.run(session, ROBOT, only={"must_visit_overdue", "alone_no_contact_90"})
    session.commit()
    mine = session.exec(select(Alert).where(Alert.household_id == world.household_a.id)).all()
    theirs = session.exec(select(Alert).where(Alert.household_id == world.household_b.id)).all()
    assert mine and {(a.state, a.assigned_to_id) for a in mine} == {("assigned", world.assistant_a.id)}
    assert theirs and {(a.state, a.assigned_to_id) for a in theirs} == {("open", None)}
    assert result.assigned == len(mine)
    (run,) = events(session, "alerts.run")
    assert json.loads(run.detail)["assigned"] == len(mine)


def test_an_inactive_assistant_is_given_nothing(session, world):
    world.assistant_a.active = False
    session.add(world.assistant_a)
    registered_long_ago(session, world.household_a)
    engine.run(session, ROBOT, only={"must_visit_overdue"})
    alert = session.exec(select(Alert).where(Alert.household_id == world.household_a.id)).one()
    assert (alert.state, alert.assigned_to_id) == ("open", None)


def test_past_its_due_date_an_alert_moves_to_the_township_then_the_county(session, world):
    registered_long_ago(session, world.household_a)
    engine.run(session, ROBOT, only={"must_visit_overdue"})
    alert = session.exec(select(Alert).where(Alert.household_id == world.household_a.id)).one()
    days = engine.settings(session)["must_visit_overdue"].days
    engine.run(
        session, ROBOT, only={"must_visit_overdue"}, now=alert.due_at.replace(tzinfo=NOW.tzinfo) + timedelta(hours=1)
    )
    session.refresh(alert)
    assert (alert.level, alert.state) == ("township", "assigned")
    later = alert.due_at.replace(tzinfo=NOW.tzinfo) + timedelta(days=days, hours=2)
    result = engine.run(session, ROBOT, only={"must_visit_overdue"}, now=later)
    session.refresh(alert)
    assert alert.level == "county" and result.escalated["must_visit_overdue"] == 1
    assert [json.loads(e.detail)["escalated"]["must_visit_overdue"] for e in events(session, "alerts.run")] == [0, 1, 1]
    moves = [(e.object_id, json.loads(e.detail)) for e in events(session, "alert.escalated")]
    assert moves == [
        (str(alert.id), {"from": "village", "to": "township"}),
        (str(alert.id), {"from": "township", "to": "county"}),
    ]


def test_a_task_follows_the_household_to_its_new_assistant_and_back_to_the_township_when_it_has_none(
    session, world, password_hash
):
    registered_long_ago(session, world.household_a)
    engine.run(session, ROBOT, only={"must_visit_overdue"})
    alert = session.exec(select(Alert).where(Alert.household_id == world.household_a.id)).one()
    assert alert.assigned_to_id == world.assistant_a.id
    successor = add_user(session, password_hash, "new-assistant", "assistant", world.household_a.area_code)
    world.household_a.assistant_id = successor.id
    session.add(world.household_a)
    engine.run(session, ROBOT, only={"must_visit_overdue"})
    session.refresh(alert)
    assert (alert.state, alert.assigned_to_id) == ("assigned", successor.id)
    successor.active = False  # left the job, nobody named yet
    session.add(successor)
    engine.run(session, ROBOT, only={"must_visit_overdue"})
    session.refresh(alert)
    assert (alert.state, alert.assigned_to_id) == ("open", None)


# ---- the visit that checks it --------------------------------------------------------------

OUTCOME_FIELDS = {
    "dibao": {},
    "tekun": {},
    "relief": {},
    "resolved": {"alert_note": "已接上自来水"},
    "referral": {"alert_referral_to": "medical", "alert_note": "住院费用大，转医保大病救助"},
    "excluded": {"alert_note": "外出务工，已有稳定收入"},
}


@pytest.mark.parametrize("outcome", list(OUTCOME_FIELDS))
def test_a_visit_that_checks_an_alert_records_its_outcome_and_closes_it(client, session, world, outcome):
    alert = add_alert(session, world.household_a)
    login(client, world.assistant_a)
    body = check_visit(world.household_a, alert, alert_outcome=outcome, **OUTCOME_FIELDS[outcome])
    response = client.post("/api/v1/visits", json=body)
    assert response.status_code == 201, response.get_json()
    session.refresh(alert)
    visit = session.exec(select(Visit).where(Visit.uuid == body["uuid"])).one()
    assert (alert.state, alert.outcome, alert.visit_id) == ("closed", outcome, visit.id)
    assert alert.referral_to == OUTCOME_FIELDS[outcome].get("alert_referral_to")
    assert alert.outcome_note == OUTCOME_FIELDS[outcome].get("alert_note")
    assert alert.checked_at and alert.closed_at and alert.closed_by_id == world.assistant_a.id
    assert alert.open_key is None  # the rule may raise a new alert should the trouble come back
    assert [e.object_id for e in events(session, "alert.checked")] == [str(alert.id)]
    closing = "alert.excluded" if outcome == "excluded" else "alert.closed"
    assert [e.object_id for e in events(session, closing)] == [str(alert.id)]


REFUSED = [
    ({}, "alert_outcome", "请选择核实结果"),
    ({"alert_outcome": "referral", "alert_note": "转医保"}, "alert_referral_to", "请选择转介到哪里"),
    ({"alert_outcome": "referral", "alert_referral_to": "medical"}, "alert_note", "转介请写明情况"),
    ({"alert_outcome": "excluded", "alert_note": "   "}, "alert_note", "排除请写明理由"),
    ({"alert_outcome": "dibao", "alert_referral_to": "medical"}, "alert_referral_to", "只有核实结果为转介"),
    ({"alert_outcome": "closed_somehow"}, "alert_outcome", "核实结果的选项不对"),
    ({"alert_outcome": "excluded", "alert_note": "字" * 501}, "alert_note", "最多 500 个字"),
]


@pytest.mark.parametrize(("fields", "field", "message"), REFUSED)
def test_a_check_with_a_missing_or_wrong_outcome_is_refused_and_changes_nothing(
    client, session, world, fields, field, message
):
    alert = add_alert(session, world.household_a)
    login(client, world.assistant_a)
    response = client.post("/api/v1/visits", json=check_visit(world.household_a, alert, **fields))
    assert response.status_code == 422
    problems = {item["field"]: item["message"] for item in response.get_json()["fields"]}
    assert message in problems[field]
    session.refresh(alert)
    assert (alert.state, alert.outcome, visits(session)) == ("assigned", None, 0)


def test_an_outcome_without_an_alert_is_refused(client, world):
    login(client, world.assistant_a)
    response = client.post("/api/v1/visits", json=check_visit(world.household_a, alert_outcome="dibao"))
    assert response.status_code == 422
    assert "没有要核实的预警" in response.get_json()["fields"][0]["message"]


def test_an_alert_of_another_household_is_refused_and_the_visit_not_stored(client, session, world):
    theirs = add_alert(session, world.household_b)
    login(client, world.assistant_a)
    response = client.post("/api/v1/visits", json=check_visit(world.household_a, theirs, alert_outcome="dibao"))
    assert response.status_code == 400
    assert response.get_json()["error"] == "alert_mismatch" and "不是这户的" in response.get_json()["message"]
    session.refresh(theirs)
    assert (theirs.state, visits(session)) == ("assigned", 0)
    assert events(session, "visit.created") == []


def test_a_closed_alert_is_refused_with_409_and_the_visit_not_stored(client, session, world):
    closed = add_alert(session, world.household_a, state="closed")
    login(client, world.assistant_a)
    response = client.post("/api/v1/visits", json=check_visit(world.household_a, closed, alert_outcome="dibao"))
    assert response.status_code == 409
    assert response.get_json()["error"] == "alert_closed" and "已经办结" in response.get_json()["message"]
    assert visits(session) == 0


def test_a_replayed_check_lands_once(client, session, world):
    alert = add_alert(session, world.household_a)
    login(client, world.assistant_a)
    body = check_visit(world.household_a, alert, alert_outcome="dibao")
    assert client.post("/api/v1/visits", json=body).status_code == 201
    again = client.post("/api/v1/visits", json=body)
    assert again.status_code == 200, again.get_json()
    assert visits(session) == 1 and len(events(session, "alert.checked")) == 1
    changed = dict(body, alert_outcome="tekun")
    assert client.post("/api/v1/visits", json=changed).status_code == 409  # the same UUID with other content


def test_a_visit_without_an_alert_replays_as_before_the_alert_fields_existed(client, session, world):
    """The fingerprint leaves empty alert fields out, so a visit queued on a phone before them still replays."""
    from services.api.schemas import VisitIn, fingerprint

    body = check_visit(world.household_a)
    payload = VisitIn.model_validate(body)
    assert "alert_id" not in json.dumps(payload.model_dump(mode="json", exclude=set(VisitIn.OMIT_WHEN_EMPTY)))
    legacy = json.dumps(payload.model_dump(mode="json", exclude=set(VisitIn.OMIT_WHEN_EMPTY)), sort_keys=True)
    import hashlib

    assert fingerprint(payload) == hashlib.sha256(legacy.encode()).hexdigest()


def test_any_visit_closes_the_households_overdue_visit_alerts_but_not_the_others(client, session, world):
    overdue = add_alert(session, world.household_a, "must_visit_overdue")
    alone = add_alert(session, world.household_a, "alone_no_contact_90")
    birthday = add_alert(session, world.household_a, "orphan_turning_18", grade="yellow")
    elsewhere = add_alert(session, world.household_b, "must_visit_overdue")
    login(client, world.assistant_a)
    body = check_visit(world.household_a)
    assert client.post("/api/v1/visits", json=body).status_code == 201
    visit = session.exec(select(Visit).where(Visit.uuid == body["uuid"])).one()
    for alert in (overdue, alone, birthday, elsewhere):
        session.refresh(alert)
    assert {(a.state, a.outcome, a.outcome_note, a.visit_id) for a in (overdue, alone)} == {
        ("closed", "resolved", "已走访", visit.id)
    }
    assert (birthday.state, elsewhere.state) == ("assigned", "assigned")
    assert sorted(e.object_id for e in events(session, "alert.closed")) == sorted([str(overdue.id), str(alone.id)])


def test_checking_one_overdue_alert_keeps_its_own_outcome(client, session, world):
    overdue = add_alert(session, world.household_a, "must_visit_overdue")
    login(client, world.assistant_a)
    body = check_visit(world.household_a, overdue, alert_outcome="dibao")
    assert client.post("/api/v1/visits", json=body).status_code == 201
    session.refresh(overdue)
    assert overdue.outcome == "dibao"


# ---- the cheap rules when data changes ---------------------------------------------------------


def disputed(session, household) -> Correction:
    correction = Correction(
        key=f"disputed:dibao:{month()}:h{household.id}",
        kind="disputed",
        program_code="dibao",
        period=month(),
        area_code=household.area_code,
        household_id=household.id,
        person_id=head_of(session, household).id,
        reason="银行显示已发放，家人说没有收到",
        deadline=(NOW + timedelta(days=10)).date(),
    )
    session.add(correction)
    session.commit()
    return correction


def test_the_cheap_rules_raise_what_changed_data_shows_and_stay_quiet_otherwise(session, world):
    assert engine.run_cheap(session, ROBOT, "test").raised["family_says_unpaid"] == 0
    assert events(session, "alerts.cheap_run") == []  # nothing found, nothing written
    disputed(session, world.household_a)
    result = engine.run_cheap(session, ROBOT, "payouts.import")
    assert result.raised["family_says_unpaid"] == 1 and result.assigned == 1
    assert engine.run_cheap(session, ROBOT, "payouts.import").raised["family_says_unpaid"] == 0
    (event,) = events(session, "alerts.cheap_run")
    assert json.loads(event.detail) == {"trigger": "payouts.import", "raised": {"family_says_unpaid": 1}, "assigned": 1}


def test_a_saved_visit_runs_the_family_says_unpaid_rule(client, session, world):
    disputed(session, world.household_a)
    login(client, world.assistant_a)
    assert client.post("/api/v1/visits", json=check_visit(world.household_a)).status_code == 201
    alert = session.exec(select(Alert).where(Alert.rule == "family_says_unpaid")).one()
    assert (alert.household_id, alert.state, alert.assigned_to_id) == (
        world.household_a.id,
        "assigned",
        world.assistant_a.id,
    )


# ---- an officer closes it without a visit ------------------------------------------------------


def test_a_township_officer_closes_an_alert_without_a_visit_and_exclusion_needs_a_reason(client, session, world):
    alert = add_alert(session, world.household_a)
    login(client, world.township)
    refused = client.post(f"/alerts/{alert.id}/close", data={"outcome": "excluded", "note": " "})
    assert "排除请写明理由" in page_text(refused, 400)
    session.refresh(alert)
    assert alert.state == "assigned"
    response = client.post(f"/alerts/{alert.id}/close", data={"outcome": "excluded", "note": "已迁往外省"})
    assert response.status_code == 303
    session.refresh(alert)
    assert (alert.state, alert.outcome, alert.outcome_note, alert.visit_id) == (
        "closed",
        "excluded",
        "已迁往外省",
        None,
    )
    assert [e.object_id for e in events(session, "alert.excluded")] == [str(alert.id)]
    assert "办结（未走访）：排除" in page_text(client.get(f"/alerts/{alert.id}"))
    again = client.post(f"/alerts/{alert.id}/close", data={"outcome": "resolved"})
    assert "已经办结" in page_text(again, 409)


def test_a_referral_closed_by_an_officer_names_where_to(client, session, world):
    alert = add_alert(session, world.household_a)
    login(client, world.county)
    missing = client.post(f"/alerts/{alert.id}/close", data={"outcome": "referral", "note": "转残联"})
    assert "请选择转介到哪里" in page_text(missing, 400)
    form = {"outcome": "referral", "referral_to": "disability", "note": "新评定为一级残疾"}
    assert client.post(f"/alerts/{alert.id}/close", data=form).status_code == 303
    session.refresh(alert)
    assert (alert.outcome, alert.referral_to) == ("referral", "disability")


def test_an_assistant_may_not_close_an_alert_without_a_visit(client, session, world):
    alert = add_alert(session, world.household_a)
    login(client, world.assistant_a)
    assert client.post(f"/alerts/{alert.id}/close", data={"outcome": "resolved"}).status_code == 403
    session.refresh(alert)
    assert alert.state == "assigned"


def test_closing_requires_login_and_another_county_gets_404(client, session, world):
    alert = add_alert(session, world.household_a)
    assert client.post(f"/alerts/{alert.id}/close", data={"outcome": "resolved"}).status_code == 302
    login(client, world.other_county)
    assert client.post(f"/alerts/{alert.id}/close", data={"outcome": "resolved"}).status_code == 404
    session.refresh(alert)
    assert alert.state == "assigned"


def test_a_household_that_left_keeps_its_alerts_but_the_rule_does_not_raise_them_again(session, world):
    """An exited household is no subject of the overdue-visit rules (status active): nothing new comes."""
    registered_long_ago(session, world.household_a)
    world.household_a.status = "exited"
    session.add(world.household_a)
    session.commit()
    engine.run(session, ROBOT, only={"must_visit_overdue"})
    assert session.exec(select(Alert).where(Alert.household_id == world.household_a.id)).all() == []
    assert session.get(Household, world.household_a.id).status == "exited"


def test_an_outbox_file_lands_a_check_and_refuses_a_check_of_a_closed_alert_alone(as_user, session, world):
    """Offline the alert fields travel in the visit's JSON: the import lands them, a refused one takes its visit."""
    from tests.test_outbox_import import outbox, upload, visit_item

    open_alert = add_alert(session, world.household_a, "orphan_turning_18", grade="yellow")
    closed = add_alert(session, world.household_a, "care_agreement_missing", grade="orange", state="closed")
    items = [
        visit_item(world.household_a, alert_id=open_alert.id, alert_outcome="tekun"),
        visit_item(world.household_a, alert_id=closed.id, alert_outcome="dibao"),
    ]
    text = page_text(upload(as_user("township"), outbox(world.assistant_a, items)))
    assert "已导入 1 条，已有 0 条，未导入 1 条" in text and "这条预警已经办结" in text
    session.refresh(open_alert)
    assert (open_alert.state, open_alert.outcome, open_alert.closed_by_id) == ("closed", "tekun", world.assistant_a.id)
    assert visits(session) == 1


def test_a_confirmed_payout_import_raises_the_money_alerts_at_once(as_user, session, world):
    from datetime import UTC, datetime

    from tests.test_payouts_web import import_through_the_web

    world.household_b.status, world.household_b.exited_at = "exited", datetime(2026, 1, 10, tzinfo=UTC)
    session.add(world.household_b)
    session.commit()
    import_through_the_web(as_user("county"))  # 杨梅国 paid for 2026-03 after the household left
    session.expire_all()
    alert = session.exec(select(Alert).where(Alert.rule == "paid_after_exit")).one()
    assert (alert.household_id, alert.state) == (world.household_b.id, "open")
    (event,) = events(session, "alerts.cheap_run")
    assert json.loads(event.detail)["trigger"] == "payouts.import"
