"""A household the county moves takes its waiting relief applications to its new township, recorded in their
history; decided ones stay with the township that decided them."""

import json

import pytest
from sqlmodel import select

from models import AuditEvent, ReliefEvent
from services.audit import Actor
from services.relief.machine import Decision, decide
from tests.conftest import add_user, login, page_text
from tests.test_relief_pages import add_fund, raised

NANMEI_TOWNSHIP = "530902200000"  # 南美拉祜族乡, 临翔区
NANMEI_VILLAGE = "530902200201"  # 南美村


@pytest.fixture
def nanmei_officer(session, password_hash):
    user = add_user(session, password_hash, "nanmei", "township", NANMEI_TOWNSHIP, display_name="南美经办")
    session.commit()
    return user


def move_household_a(client, world, village=NANMEI_VILLAGE):
    """Move household A through the edit form, as the county officer does."""
    form = {"area_code": village, "kind": "family", "phone": "13900000001"}
    return client.post(f"/households/{world.household_a.id}/edit", data=form)


def test_a_waiting_application_moves_with_its_household_and_the_new_township_decides_it(
    app, session, world, nanmei_officer
):
    add_fund(session)
    waiting = raised(session, world)
    county = app.test_client()
    login(county, world.county)
    response = move_household_a(county, world)
    assert response.status_code == 302
    assert "1 份未办结的临时救助申请随户转到新的乡镇" in page_text(county.get(response.headers["Location"]))
    session.refresh(waiting)
    assert (waiting.area_code, waiting.township_code, waiting.version) == (NANMEI_VILLAGE, NANMEI_TOWNSHIP, 3)

    old_township = app.test_client()
    login(old_township, world.township)
    assert f"/relief/{waiting.id}" not in page_text(old_township.get("/relief/"))
    assert old_township.get(f"/relief/{waiting.id}").status_code == 404

    new_township = app.test_client()
    login(new_township, nanmei_officer)
    assert f"/relief/{waiting.id}" in page_text(new_township.get("/relief/"))
    page = page_text(new_township.get(f"/relief/{waiting.id}"))
    assert "随住户迁移" in page and "住户迁至南美村，转由南美拉祜族乡办理" in page
    decided = new_township.post(f"/relief/{waiting.id}/decisions", data={"action": "approve", "version": 3})
    assert decided.status_code == 302
    session.refresh(waiting)
    assert (waiting.state, waiting.decided_level) == ("approved", "township")
    moved = session.exec(select(AuditEvent).where(AuditEvent.action == "relief.moved")).one()
    assert json.loads(moved.detail)["from_township"] == "530902100000"


def test_an_officer_who_opened_the_application_before_the_move_is_told_it_changed(app, session, world):
    add_fund(session)
    waiting = raised(session, world, amount="3000")
    decide(session, Actor(world.township), waiting, Decision("forward", waiting.version, comment="超额度，报县"))
    session.commit()
    county = app.test_client()
    login(county, world.county)
    seen = waiting.version  # the county officer opens it …
    move_household_a(county, world)  # … and a colleague moves the household meanwhile
    response = county.post(f"/relief/{waiting.id}/decisions", data={"action": "approve", "version": seen})
    assert "这份申请已被处理" in page_text(response, 409)
    session.refresh(waiting)
    assert waiting.state == "forwarded"


def test_a_decided_application_stays_with_the_township_that_decided_it(app, session, world):
    add_fund(session)
    application = raised(session, world)
    decide(session, Actor(world.township), application, Decision("approve", application.version))
    session.commit()
    county = app.test_client()
    login(county, world.county)
    assert move_household_a(county, world).status_code == 302
    session.refresh(application)
    assert (application.area_code, application.state) == (world.household_a.area_code, "approved")
    assert application.area_code == "530902100201"  # still 碗窑村: the record of 博尚镇's decision
    events = session.exec(select(ReliefEvent.action).where(ReliefEvent.application_id == application.id)).all()
    assert "moved" not in events
