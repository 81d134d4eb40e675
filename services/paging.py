"""Paging: one page of a query, and whether another follows (one row more is fetched to tell)."""

from sqlmodel import Session


def page_of(session: Session, query, *, offset: int, limit: int) -> tuple[list, bool]:
    """Return up to `limit` rows of the query from `offset`, and whether more rows follow."""
    rows = list(session.exec(query.offset(offset).limit(limit + 1)))
    return rows[:limit], len(rows) > limit
