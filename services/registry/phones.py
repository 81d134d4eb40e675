"""Phone numbers as people type them: digits, with spaces or dashes (0883-2122345, 138 0000 0001)."""

PHONE_MESSAGE = "电话号码只能包含数字和“-”"


def is_phone_number(text: str) -> bool:
    """Tell whether text is blank or looks like a phone number."""
    return not text or (text.replace("-", "").replace(" ", "").isdigit() and len(text) <= 32)
