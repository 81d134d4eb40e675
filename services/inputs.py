"""What people and clients type, read one way everywhere: small whole numbers, and text no record may hold.

`str.isdigit()` says yes to "²", which `int()` then refuses; `int()` itself takes other scripts' digits ("١٢"),
signs, blanks, underscores and numbers no database column holds. Every whole number read from a request
goes through small_int(), and every id looked up through is_row_id().
"""

import re

# Every id, version and day count is an INTEGER column: 32 bits in PostgreSQL (SQLite would hold 64), so a
# larger number raises NumericValueOutOfRange there, and a number past 64 bits OverflowError in SQLite.
MAX_ID = 2**31 - 1
MAX_DIGITS = 18  # read no more than this many characters before comparing with MAX_ID

NUL = "\x00"  # PostgreSQL cannot store it in a text column at all
# Explicit direction marks (U+202A–U+202E, U+2066–U+2069) turn "张三" into text that shows reversed or hides parts
DIRECTION_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
NO_NUL_PATTERN = r"^[^\x00]*$"  # the same rule for the API's schemas, so the OpenAPI says it too


def small_int(text) -> int | None:
    """Return the whole number written in text with ASCII digits, if a column holds it (0 … MAX_ID), else None."""
    raw = str(text if text is not None else "").strip()
    if not (0 < len(raw) <= MAX_DIGITS and raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if value <= MAX_ID else None


def is_row_id(value) -> bool:
    """Tell whether value can be a database id (1 … MAX_ID): a lookup of anything else would overflow."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def text_problem(text: str, label: str) -> str | None:
    """Say what in typed text cannot be stored (a NUL character), or None when it can."""
    if NUL in text:
        return f"{label}中有无法保存的空字符，请删除后重新填写"
    return None


def name_problem(name: str, label: str = "姓名", max_length: int = 64) -> str | None:
    """Say what is wrong with a person's name (empty, too long, hidden characters), or None when it is fine."""
    if not name:
        return f"请填写{label}"
    if len(name) > max_length:
        return f"{label}最多 {max_length} 个字"
    if DIRECTION_CONTROLS.search(name):
        return f"{label}中有改变文字方向的隐藏字符，请删除后重新填写"
    return text_problem(name, label)
