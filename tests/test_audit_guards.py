"""The audit table is append-only in the database itself: no statement rewrites or empties it (SQLite, PostgreSQL)."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from models import AuditEvent
from services import audit
from services.audit import Actor

FORGE = "INSERT INTO auditevent (id, at, action) VALUES (:id, CURRENT_TIMESTAMP, 'forged')"
REWRITES = {
    "sqlite": [
        FORGE.replace("INSERT", "INSERT OR REPLACE"),
        FORGE.replace("INSERT", "REPLACE"),
        FORGE + " ON CONFLICT (id) DO UPDATE SET action = 'forged'",
        "UPDATE OR REPLACE auditevent SET action = 'forged' WHERE id = :id",
        "UPDATE auditevent SET action = 'forged' WHERE id = :id",
        "DELETE FROM auditevent WHERE id = :id",
        "DELETE FROM auditevent",
    ],
    "postgresql": [
        FORGE + " ON CONFLICT (id) DO UPDATE SET action = 'forged'",
        "UPDATE auditevent SET action = 'forged' WHERE id = :id",
        "DELETE FROM auditevent WHERE id = :id",
        "TRUNCATE auditevent",
        'TRUNCATE "user" CASCADE',  # the audit table points at users: a cascade would empty it too
    ],
}


@pytest.fixture
def event(session, world):
    """One audit event, committed."""
    recorded = audit.record(session, Actor(world.township, "10.0.0.9"), "household.updated", world.household_a)
    session.commit()
    return recorded


def run_alone(engine, statement: str, recursive_triggers: bool = False, **params) -> None:
    """Run one statement in its own transaction, as someone with a database shell would."""
    with engine.begin() as connection:
        if recursive_triggers:
            connection.exec_driver_sql("PRAGMA recursive_triggers = ON")
        connection.execute(text(statement), params)


def rows(engine) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text("SELECT id, action, object_id FROM auditevent"))]


@pytest.mark.parametrize("recursive_triggers", [False, True])
def test_no_statement_rewrites_or_empties_the_audit_table(app, event, recursive_triggers):
    engine = app.extensions["doudi_engine"]
    if recursive_triggers and engine.dialect.name != "sqlite":
        pytest.skip("recursive_triggers is a SQLite setting")
    before = rows(engine)
    assert before == [(event.id, "household.updated", str(event.object_id))]
    went_through = []
    for statement in REWRITES[engine.dialect.name]:
        try:
            run_alone(engine, statement, recursive_triggers, id=event.id)
        except DBAPIError as refusal:
            assert "append-only" in str(refusal.orig), statement
        else:
            went_through.append(statement)
    assert went_through == []
    assert rows(engine) == before


def test_new_events_are_still_added(app, event, session, world):
    engine = app.extensions["doudi_engine"]
    run_alone(engine, FORGE, id=event.id + 100)  # a new id is an insert like any other
    audit.record(session, Actor(world.township, None), "household.updated", world.household_b)
    session.commit()
    actions = sorted(action for _id, action, _object in rows(engine))
    assert actions == ["forged", "household.updated", "household.updated"]


def test_sqlite_refuses_ids_below_one_so_a_planted_row_cannot_block_new_events(app, event, session, world):
    """A BEFORE INSERT trigger sees id -1 for every id SQLite has yet to pick: a row -1 would match them all."""
    engine = app.extensions["doudi_engine"]
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL triggers see the id the sequence gave")
    with pytest.raises(DBAPIError, match="ids start at 1"):
        run_alone(engine, FORGE, id=-1)
    audit.record(session, Actor(world.township, None), "household.updated", world.household_b)
    session.commit()
    assert len(session.exec(select(AuditEvent)).all()) == 2
