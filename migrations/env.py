"""Run Alembic migrations against the engine handed over by db.alembic_config()."""

import os
import sys

from alembic import context
from sqlmodel import SQLModel

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import models  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata


def _engine():
    engine = context.config.attributes.get("engine")
    if engine is None:  # the plain `alembic` command line: build the engine from the environment
        from config import from_environment
        from db import make_engine

        instance = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "instance")
        os.makedirs(instance, exist_ok=True)
        engine = make_engine(from_environment(instance)["DATABASE_URL"])
    return engine


def run_migrations_online() -> None:
    with _engine().connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # batch mode rebuilds SQLite tables (copy, drop, rename): with foreign keys on, dropping a
            # table others point at fails. The raw connection is in autocommit here, so the pragma takes.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            connection.commit()
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


run_migrations_online()
