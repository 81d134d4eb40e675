"""The one scoping rule: a user sees the areas whose code starts with their area's prefix.

Every query that returns personal data goes through `where_in_scope`; single objects are
checked with `is_in_scope`. There is no second way in.
"""

from sqlalchemy import and_

# How many leading digits of a 12-digit code a level keeps (DESIGN §3).
PREFIX_LENGTH = {1: 4, 2: 6, 3: 9, 4: 12}
LEVEL_OF_ROLE = {"assistant": 4, "township": 3, "county": 2, "city": 1, "admin": 1}


def scope_prefix(user) -> str:
    """Return the area-code prefix that bounds what this user may see."""
    if user.role == "admin":
        return ""
    return user.area_code[: PREFIX_LENGTH[area_level(user.area_code)]]


def area_level(code: str) -> int:
    """Return the level (1 city … 4 village) implied by a 12-digit code's zeros."""
    if code[4:] == "0" * 8:
        return 1
    if code[6:] == "0" * 6:
        return 2
    if code[9:] == "000":
        return 3
    return 4


def code_range(prefix: str) -> tuple[str, str]:
    """Return the lowest and highest 12-digit codes that start with prefix."""
    return prefix.ljust(12, "0"), prefix.ljust(12, "9")


def where_under(area_code: str, code_column):
    """Return a WHERE clause keeping rows whose area code lies under an area of any level (a range, as above)."""
    low, high = code_range(area_code[: PREFIX_LENGTH[area_level(area_code)]])
    return and_(code_column >= low, code_column <= high)


def where_in_scope(user, code_column):
    """Return a WHERE clause keeping rows whose area code lies in the user's scope.

    A range rather than LIKE, so that a plain B-tree index serves it on SQLite and PostgreSQL.
    """
    low, high = code_range(scope_prefix(user))
    return and_(code_column >= low, code_column <= high)


def is_in_scope(user, area_code: str | None) -> bool:
    """Tell whether one area code lies in the user's scope."""
    return area_code is not None and area_code.startswith(scope_prefix(user))
