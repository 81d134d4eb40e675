"""Money: amounts are whole 分 (fen) everywhere; these read 元 typed by people and write 元 for them."""

import re
from decimal import Decimal

from services.errors import Invalid

MAX_YUAN = Decimal("1000000")


def yuan_to_fen(text) -> int:
    """Parse '600', '600.5' or '600.50' 元 into 分; refuse zero, negatives, absurd and malformed amounts."""
    raw = str(text if text is not None else "").strip().replace(",", "").replace("，", "").removesuffix("元").strip()
    if re.fullmatch(r"-?\d+\.\d{3,}", raw):
        raise Invalid("金额最多保留两位小数（到分）")
    if not re.fullmatch(r"-?\d+(\.\d{1,2})?", raw):
        raise Invalid("金额格式不对，请填写数字，例如 600 或 600.50")
    amount = Decimal(raw)
    if amount <= 0:
        raise Invalid("金额必须大于 0")
    if amount > MAX_YUAN:
        raise Invalid("金额不能超过 100 万元，请核对")
    return int(amount * 100)


def fen_to_yuan(fen: int | None) -> str:
    """Write 分 as 元 with two decimals, as forms and the API take them: 60000 → '600.00' ('' for none)."""
    if fen is None:
        return ""
    return f"{fen // 100}.{fen % 100:02d}"


def yuan(fen: int | None, *, grouped: bool = True, short: bool = True) -> str:
    """Write 分 as 元 for people to read, the one way every page and message does: '1,200', '600.50', '—' for none."""
    if fen is None:
        return "—"
    whole = f"{fen // 100:,}" if grouped else str(fen // 100)
    return whole if short and fen % 100 == 0 else f"{whole}.{fen % 100:02d}"
