from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import models  # noqa: F401  (registers the tables)


def test_migrations_build_exactly_the_models(app):
    """A model changed without a migration shows up here as a difference."""
    engine = app.extensions["doudi_engine"]
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(app):
    engine = app.extensions["doudi_engine"]
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000


def test_every_migration_goes_down_and_up_again(app):
    """Downgrades work too (on SQLite batch mode rebuilds tables that others point at)."""
    from alembic import command

    import db

    engine = app.extensions["doudi_engine"]
    config = db.alembic_config(engine)
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        tables = set(engine.dialect.get_table_names(connection))
    assert {"household", "card", "visit", "photo", "need"} <= tables


def test_accounts_from_before_0008_start_at_session_version_1(app, world, session):
    from alembic import command
    from sqlalchemy import text

    import db

    # The world's session may still hold a read of person open: going down past 0009 drops tables that point at it,
    # and PostgreSQL would wait for that transaction for ever.
    session.commit()
    engine = app.extensions["doudi_engine"]
    config = db.alembic_config(engine)
    command.downgrade(config, "0007")
    with engine.connect() as connection:
        columns = {c["name"] for c in engine.dialect.get_columns(connection, "user")}
    assert "session_version" not in columns
    command.upgrade(config, "head")
    with engine.connect() as connection:
        versions = connection.execute(text('SELECT DISTINCT session_version FROM "user"')).scalars().all()
    assert versions == [1]
