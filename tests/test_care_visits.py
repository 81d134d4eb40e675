"""What a visit tells the care records: self-care ability saved on the members, a carer who does not keep the
duties raising its alert at once, and a wish to move into an institution becoming one request."""

from uuid import uuid4

from sqlmodel import select

from models import Alert, AuditEvent, InstitutionRequest, Person, PersonCategory, Visit
from services.alerts import engine
from services.audit import Actor
from tests.conftest import add_household, page_text
from tests.payouts_helpers import head_of

API = "/api/v1/visits"


def visit(household, **fields) -> dict:
    return {"uuid": str(uuid4()), "household_id": household.id, "kind": "routine", **fields}


def test_the_visit_form_asks_self_care_for_members_in_care_categories_only(as_user, world, session):
    body = page_text(as_user("assistant_b").get(f"/households/{world.household_b.id}/visits/new"))
    head = head_of(session, world.household_b)
    assert f'name="selfcare-{head.id}"' in body and "全护理" in body  # 分散供养特困
    other = page_text(as_user("township").get(f"/households/{world.household_a.id}/visits/new"))
    assert f'name="selfcare-{world.head_a.id}"' in other  # 重病 counts too
    dibao = add_household(session, world.household_a.area_code, "0009", "李低保", categories=("dibao",))
    session.commit()
    plain = page_text(as_user("township").get(f"/households/{dibao.id}/visits/new"))
    assert 'data-self-care-person="' not in plain.split("<template data-self-care-template>")[0]


def test_the_offline_visit_form_carries_the_block_for_the_phone_to_fill(client, world):
    body = page_text(client.get("/offline/visit"))
    assert "data-self-care-template" in body and "tekun_dispersed" in body


def test_self_care_from_a_visit_is_saved_on_the_member_and_shown_on_the_household_page(as_user, world, session):
    client = as_user("assistant_b")
    head = head_of(session, world.household_b)
    response = client.post(API, json=visit(world.household_b, self_care={str(head.id): "partial"}))
    assert response.status_code == 201, response.get_data(as_text=True)
    session.refresh(head)
    assert head.self_care == "partial"
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "person.self_care")).one()
    assert "半自理" in page_text(client.get(f"/households/{world.household_b.id}"))


def test_a_self_care_level_for_someone_of_another_household_is_refused_and_nothing_saved(as_user, world, session):
    client = as_user("township")
    head_b = head_of(session, world.household_b)
    payload = visit(world.household_a, self_care={str(world.head_a.id): "full", str(head_b.id): "none"})
    response = client.post(API, json=payload)
    assert response.status_code == 400 and "只能登记这户的成员" in response.get_json()["message"]
    session.expire_all()
    assert session.exec(select(Visit)).all() == []
    assert session.get(Person, world.head_a.id).self_care is None and session.get(Person, head_b.id).self_care is None


def test_an_unknown_level_is_refused_by_the_schema(as_user, world):
    response = as_user("township").post(API, json=visit(world.household_a, self_care={str(world.head_a.id): "half"}))
    assert response.status_code == 422


def test_a_carer_not_keeping_the_duties_raises_the_alert_at_once_and_only_once(as_user, world, session):
    client = as_user("assistant_b")
    for _ in range(2):  # a second "no" finds the alert open
        response = client.post(API, json=visit(world.household_b, self_checks={"caregiver_present": False}))
        assert response.status_code == 201
    alert = session.exec(select(Alert).where(Alert.rule == "care_duties_not_kept")).one()
    assert (alert.household_id, alert.area_code, alert.state, alert.grade) == (
        world.household_b.id,
        world.household_b.area_code,
        "open",
        "orange",
    )
    assert "照料人未尽责" in alert.reason
    # the night's run finds the same case and raises nothing new
    result = engine.run(session, Actor(None), only={"care_duties_not_kept"})
    assert (result.raised, result.already_open) == ({"care_duties_not_kept": 0}, {"care_duties_not_kept": 1})


def test_a_carer_keeping_the_duties_raises_nothing(as_user, world, session):
    client = as_user("assistant_b")
    assert client.post(API, json=visit(world.household_b, self_checks={"caregiver_present": True})).status_code == 201
    assert session.exec(select(Alert)).all() == []


def test_a_switched_off_rule_raises_nothing_from_a_visit(as_user, world, session):
    from models import AlertRule

    session.add(AlertRule(code="care_duties_not_kept", enabled=False, days=7))
    session.commit()
    client = as_user("assistant_b")
    assert client.post(API, json=visit(world.household_b, self_checks={"caregiver_present": False})).status_code == 201
    assert session.exec(select(Alert)).all() == []


def test_a_wish_for_institutional_care_becomes_one_request(as_user, world, session):
    client = as_user("assistant_b")
    for _ in range(2):
        payload = visit(world.household_b, self_checks={"wants_institutional_care": True})
        assert client.post(API, json=payload).status_code == 201
    request = session.exec(select(InstitutionRequest)).one()
    head = head_of(session, world.household_b)
    assert (request.person_id, request.status, request.visit_id is not None) == (head.id, "requested", True)
    session.refresh(world.household_b)
    assert world.household_b.wants_institutional_care


def test_the_wish_is_about_the_dispersed_tekun_member_not_the_head(as_user, world, session):
    head = head_of(session, world.household_a)
    mother = Person(household_id=world.household_a.id, name="张老母", relation="母亲")
    session.add(mother)
    session.flush()
    session.add(PersonCategory(person_id=mother.id, category="tekun_dispersed"))
    session.commit()
    payload = visit(world.household_a, self_checks={"wants_institutional_care": True})
    assert as_user("assistant_a").post(API, json=payload).status_code == 201
    assert session.exec(select(InstitutionRequest.person_id)).all() == [mother.id]
    assert head.id != mother.id
