"""Who may do what: one table (services/permissions.py), asked through can(); a draft is submitted only by its
writer or by a township officer who takes it over, and that is recorded."""

import json

import pytest
from sqlmodel import select

from models import AuditEvent, ReliefApplication, ReliefEvent
from services.audit import Actor
from services.errors import NotAllowed
from services.permissions import CAPABILITIES, ROLES, can
from services.relief.machine import Decision, allowed_actions, decide
from tests.conftest import VILLAGE_A, add_user, login, page_text
from tests.test_relief_rules import give_fund, raise_application

API = "/api/v1/relief"


@pytest.fixture
def second_assistant(session, password_hash):
    """Another assistant of village A, the same village as assistant A."""
    user = add_user(session, password_hash, "assistant-a2", "assistant", VILLAGE_A, display_name="周协理")
    session.commit()
    return user


@pytest.fixture
def draft(session, world):
    give_fund(session)
    return raise_application(session, world, submit=False)


def test_every_capability_names_only_real_roles():
    assert CAPABILITIES and all(set(rule.roles) <= set(ROLES) and rule.label for rule in CAPABILITIES.values())


def test_a_misspelt_capability_is_a_programming_error_not_a_refusal(world):
    with pytest.raises(KeyError):
        can(world.township, "relief.aprove")


def test_nobody_signed_out_may_do_anything():
    class Anonymous:
        is_authenticated = False
        role = "admin"

    assert not any(can(Anonymous(), capability) for capability in CAPABILITIES)


def test_a_second_assistant_of_the_same_village_cannot_submit_the_first_ones_draft_through_the_page(
    app, session, world, second_assistant, draft
):
    client = app.test_client()
    login(client, second_assistant)
    assert client.get(f"/relief/{draft.id}").status_code == 200  # in scope: they may read it
    response = client.post(f"/relief/{draft.id}/decisions", data={"action": "submit", "version": draft.version})
    assert response.status_code == 403
    assert "只有提出申请的人或乡镇经办员可以提交这份申请" in response.get_data(as_text=True)
    session.refresh(draft)
    assert (draft.state, draft.version) == ("draft", 1)


def test_a_second_assistant_of_the_same_village_cannot_submit_the_first_ones_draft_through_the_api(
    app, session, world, second_assistant, draft
):
    client = app.test_client()
    login(client, second_assistant)
    assert client.get(f"{API}/{draft.id}").get_json()["allowed_actions"] == []
    response = client.post(f"{API}/{draft.id}/decisions", json={"action": "submit", "version": draft.version})
    assert response.status_code == 403 and response.get_json()["error"] == "not_allowed"
    session.refresh(draft)
    assert draft.state == "draft"
    submitted = session.exec(select(AuditEvent).where(AuditEvent.action == "relief.submit")).all()
    assert submitted == []


def test_the_writer_submits_their_own_draft(session, world, draft):
    assert allowed_actions(session, world.assistant_a, draft) == ["submit"]
    moved = decide(session, Actor(world.assistant_a), draft, Decision("submit", draft.version))
    assert moved.state == "submitted"


def test_a_township_officer_takes_over_a_draft_and_it_is_recorded(session, world, draft):
    assert "submit" in allowed_actions(session, world.township, draft)
    decide(session, Actor(world.township), draft, Decision("submit", draft.version))
    session.commit()
    event = session.exec(select(ReliefEvent).where(ReliefEvent.application_id == draft.id)).one()
    assert (event.action, event.user_id, event.comment) == ("submit", world.township.id, "乡镇经办员代为提交")
    audit = session.exec(select(AuditEvent).where(AuditEvent.action == "relief.submit")).one()
    assert json.loads(audit.detail)["taken_over_from"] == world.assistant_a.id
    assert session.get(ReliefApplication, draft.id).state == "submitted"


def test_a_county_officer_in_scope_still_cannot_submit_a_draft(session, world, draft):
    with pytest.raises(NotAllowed, match="现在不能提交"):
        decide(session, Actor(world.county), draft, Decision("submit", draft.version))


def test_templates_ask_the_same_table(as_user):
    me_of_township = page_text(as_user("township").get("/me"))
    assert "打印户卡" in me_of_township and "走访频次" not in me_of_township
    assert "走访频次" in page_text(as_user("city").get("/me"))
