"""Temporary relief (临时救助): reasons, payment forms, states, and the one table of actions, in plain Chinese.

Each action is defined once here: its button, its dialog, the comment it needs, what it says when done,
the states it starts from and the capability (services/permissions.py) it takes. The state machine
(machine.py), the pages and the API's schemas all read this table.
"""

from dataclasses import dataclass

from services.errors import Invalid

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
EDITABLE = ("draft", "returned")  # what the writer may still change
UNDECIDED = ("draft", "submitted", "returned", "forwarded")  # these follow a household that moves
HISTORY_ONLY = {"moved": "随住户迁移"}  # steps in an application's history that are not actions anyone takes
GRANTED = ("approved", "paid")  # decided in favour: approved (awaiting payment) or paid


@dataclass(frozen=True)
class Action:
    """One step an application can take, as the machine checks it and the pages offer it."""

    code: str
    label: str  # the button
    done: str  # said once it is done
    dialog_title: str
    capability: str  # services/permissions.py
    refusal: str  # said when the state or the role does not allow it
    from_states: tuple[str, ...]  # empty: the step depends on the paperwork, not the state
    to_state: str | None  # None: the state stays
    rank: int  # which allowed action takes the big button (the lowest)
    comment_label: str | None = None  # a comment is required: its label in the dialog
    comment_missing: str = ""  # … and what to say when it is left empty


DECIDING = ("submitted", "forwarded")
ACTION_LIST = (  # in the order the API lists a user's allowed actions
    Action(
        code="submit", label="提交", done="已提交，等待乡镇审批", dialog_title="提交这份申请？",
        capability="relief.submit", refusal="现在不能提交", from_states=EDITABLE, to_state="submitted", rank=4,
    ),
    Action(
        code="approve", label="批准", done="已批准", dialog_title="批准这份申请？",
        capability="relief.decide", refusal="您现在不能审批这份申请", from_states=DECIDING, to_state="approved",
        rank=1,
    ),
    Action(
        code="reject", label="不批准", done="已决定不批准", dialog_title="不批准这份申请？",
        capability="relief.decide", refusal="您现在不能审批这份申请", from_states=DECIDING, to_state="rejected",
        rank=7, comment_label="不批准的理由", comment_missing="不批准请写明理由",
    ),
    Action(
        code="return", label="退回补充", done="已退回，等待补充材料", dialog_title="退回补充材料？",
        capability="relief.decide", refusal="您现在不能审批这份申请", from_states=DECIDING, to_state="returned",
        rank=6, comment_label="需要补充什么", comment_missing="退回请写明需要补充什么",
    ),
    Action(
        code="forward", label="报县级审批", done="已报县级审批", dialog_title="报县级审批？",
        capability="relief.forward", refusal="现在不能报县级审批", from_states=("submitted",), to_state="forwarded",
        rank=2, comment_label="乡镇审核意见", comment_missing="报县级请写明乡镇意见",
    ),
    Action(
        code="pay", label="登记发放", done="已登记发放", dialog_title="登记发放",
        capability="relief.pay", refusal="现在不能登记发放", from_states=("approved",), to_state="paid", rank=3,
    ),
    Action(
        code="complete_paperwork", label="补齐材料", done="材料已补齐", dialog_title="先行救助材料已补齐？",
        capability="relief.pay", refusal="没有待补的材料", from_states=(), to_state=None, rank=5,
    ),
)  # fmt: skip
ACTIONS = {action.code: action for action in ACTION_LIST}


def refused(message: str) -> Invalid:
    """Return the refusal of a relief request whose content or step is not valid (the API calls it relief_refused)."""
    return Invalid(message, code="relief_refused")


def stale_message(state: str) -> str:
    """Say that someone else moved the application first, and where it stands now."""
    return f"这份申请已被处理，现在是“{STATES[state]}”，请刷新后再看"
