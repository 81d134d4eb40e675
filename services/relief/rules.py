"""Temporary relief (临时救助): reasons, payment forms, states and amounts, in plain Chinese."""

import re
from decimal import Decimal

REASON_GROUPS = {
    "急难型": {
        "fire": "火灾",
        "traffic": "交通事故",
        "sudden_illness": "突发重病",
        "accident": "意外伤害",
        "other_emergency": "其他突发",
    },
    "支出型": {"medical": "医疗", "education": "教育", "other_expense": "其他刚性支出"},
    "疫情影响": {"cannot_work": "无法外出务工", "returned_unemployed": "返乡失业", "other_epidemic": "其他"},
}
REASONS = {code: f"{group}·{label}" for group, items in REASON_GROUPS.items() for code, label in items.items()}
PAYMENT_FORMS = {"card": "一卡通", "cash": "现金", "kind": "实物"}
STATES = {
    "draft": "草稿",
    "submitted": "待乡镇审批",
    "returned": "退回补充材料",
    "forwarded": "待县级审批",
    "approved": "已批准，待发放",
    "rejected": "未批准",
    "paid": "已发放",
}
ACTIONS = {
    "submit": "提交",
    "approve": "批准",
    "reject": "不批准",
    "return": "退回补充",
    "forward": "报县级审批",
    "pay": "登记发放",
    "complete_paperwork": "补齐材料",
}
MAX_YUAN = Decimal("1000000")


class AmountError(ValueError):
    """An amount that is not a sensible number of 元; str() says why."""


def yuan_to_fen(text) -> int:
    """Parse '600', '600.5' or '600.50' 元 into 分; refuse zero, negatives, absurd and malformed amounts."""
    raw = str(text if text is not None else "").strip().replace(",", "").replace("，", "").removesuffix("元").strip()
    if re.fullmatch(r"-?\d+\.\d{3,}", raw):
        raise AmountError("金额最多保留两位小数（到分）")
    if not re.fullmatch(r"-?\d+(\.\d{1,2})?", raw):
        raise AmountError("金额格式不对，请填写数字，例如 600 或 600.50")
    amount = Decimal(raw)
    if amount <= 0:
        raise AmountError("金额必须大于 0")
    if amount > MAX_YUAN:
        raise AmountError("金额不能超过 100 万元，请核对")
    return int(amount * 100)


def fen_to_yuan(fen: int | None) -> str:
    """Show 分 as 元 with two decimals: 60000 → '600.00'."""
    if fen is None:
        return ""
    return f"{fen // 100}.{fen % 100:02d}"
