"""Editing a draft application is version-checked like every transition."""

import uuid

import pytest
from sqlmodel import Session

from models import ReliefApplication
from services.api.relief_schemas import ReliefIn
from services.audit import Actor
from services.errors import Stale
from services.relief.apply import create_application, update_application


def draft_payload(world, amount="600", **changes):
    fields = {
        "uuid": uuid.uuid4(),
        "household_id": world.household_a.id,
        "person_id": world.head_a.id,
        "reason": "fire",
        "circumstances": "厨房失火",
        "amount_yuan": amount,
        "payment_form": "cash",
        "submit": False,
    }
    return ReliefIn(**{**fields, **changes})


def test_two_edits_of_one_draft_from_the_same_version_cannot_both_land(app, session, world):
    actor = Actor(world.assistant_a, "127.0.0.1")
    application, _created = create_application(session, actor, draft_payload(world))
    session.commit()
    seen = application.version
    engine = app.extensions["doudi_engine"]
    with Session(engine, expire_on_commit=False) as first, Session(engine, expire_on_commit=False) as second:
        mine = first.get(ReliefApplication, application.id)
        theirs = second.get(ReliefApplication, application.id)
        second.commit()  # both officers have the page open at the same version; no transaction is held
        update_application(first, actor, mine, draft_payload(world, amount="700"), seen)
        first.commit()
        with pytest.raises(Stale):
            update_application(second, actor, theirs, draft_payload(world, amount="800"), seen)
    session.expire_all()
    stored = session.get(ReliefApplication, application.id)
    assert stored.amount_requested_fen == 70000 and stored.version == seen + 1 and stored.state == "draft"
