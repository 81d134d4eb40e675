"""Set-based writes shared by the areas: insert many rows at once, skipping the ones already stored."""

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, func, select

BATCH = 5000


def insert_new(session: Session, table, rows: list[dict], unique: str) -> int:
    """Insert the rows whose `unique` column is not stored yet; return how many went in.

    ON CONFLICT DO NOTHING rather than looking the keys up first: it is one statement per 5,000 rows, it needs no
    statistics on a table that just grew by 100,000 rows (PostgreSQL's planner then scans it for every lookup),
    and two officers confirming the same file at the same moment both succeed, the second adding nothing.
    """
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table).on_conflict_do_nothing(index_elements=[unique])
    before = count(session, table)
    for start in range(0, len(rows), BATCH):
        session.execute(statement, rows[start : start + BATCH])
    return count(session, table) - before  # psycopg's executemany reports no row count


def count(session: Session, table) -> int:
    """Return how many rows the table holds."""
    return session.exec(select(func.count()).select_from(table)).one()
