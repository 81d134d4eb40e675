"""Phone numbers as people type them: digits, with spaces or dashes (0883-2122345, 138 0000 0001)."""

import re
import unicodedata

PHONE_MESSAGE = "电话号码只能包含数字和“-”"
MAX_LENGTH = 32


def normal_phone(text) -> str:
    """Return a typed phone number with full-width and superscript digits folded to 0–9 (NFKC), trimmed."""
    return unicodedata.normalize("NFKC", str(text if text is not None else "")).strip()


def is_phone_number(text: str) -> bool:
    """Tell whether text (already normal_phone()) is blank or looks like a phone number."""
    return not text or (len(text) <= MAX_LENGTH and re.fullmatch(r"[0-9][0-9 \-]*", text) is not None)
