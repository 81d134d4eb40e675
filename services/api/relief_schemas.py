"""The JSON API's temporary-relief schemas: an application, a decision, and what the API answers about them.

The reasons, payment forms and actions are the codes services/relief/rules.py owns, so the OpenAPI enums
can never drift from what the state machine accepts.
"""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from services.api.schemas import ErrorOut, PhotoOut, RowId, Strict, text_field
from services.inputs import MAX_ID, NO_NUL_PATTERN
from services.relief.rules import ACTIONS, PAYMENT_FORMS, REASONS

Reason = Literal[tuple(REASONS)]
PaymentForm = Literal[tuple(PAYMENT_FORMS)]
ReliefAction = Literal[tuple(ACTIONS)]


RELIEF_WORDS = {
    "uuid": "申请编号",
    "household_id": "住户",
    "person_id": "困难人员",
    "reason": "救助原因",
    "circumstances": "困难情况",
    "amount_yuan": "金额",
    "payment_form": "发放方式",
    "urgent": "是否紧急",
    "need_id": "诉求",
    "submit": "是否提交",
    "action": "操作",
    "version": "版本号",
    "comment": "意见",
    "payment_method": "发放方式",
    "payment_reference": "发放凭证号",
}


class ReliefIn(Strict):
    """A temporary-relief application as the form or the offline client sends it."""

    uuid: UUID
    household_id: RowId
    person_id: RowId = Field(description="遇到困难的家庭成员（须是这户的成员，否则 400 relief_refused）")
    reason: Reason = Field(description="救助原因：" + "、".join(f"{code} {label}" for code, label in REASONS.items()))
    circumstances: str = text_field(2000, required=True)
    amount_yuan: str = Field(
        min_length=1,
        max_length=20,
        pattern=NO_NUL_PATTERN,
        description="申请金额（元），如 600 或 600.50：大于 0、不超过 100 万、最多两位小数，否则 400 relief_refused",
    )
    payment_form: PaymentForm
    urgent: bool = False
    need_id: RowId | None = Field(default=None, description="由哪条诉求而来；不是这户的诉求则忽略")
    submit: bool = True  # False keeps it as a draft the assistant can finish later


class DecisionIn(Strict):
    """An officer's decision on an application, naming the version they saw."""

    action: ReliefAction
    version: int = Field(ge=0, le=MAX_ID, description="看到的版本号；已被别人处理时 409")
    amount_yuan: str | None = text_field(20, description="批准金额（元），批准时填写")
    comment: str | None = text_field(500)
    payment_method: PaymentForm | None = None
    payment_reference: str | None = text_field(64)


class ReliefEventOut(BaseModel):
    """One step in an application's history."""

    at: datetime
    user: str
    action: str
    from_state: str
    to_state: str
    amount_yuan: str | None
    comment: str | None


class ReliefOut(BaseModel):
    """An application as the API returns it."""

    id: int
    uuid: str
    household_id: int
    person_id: int
    reason: str
    amount_requested_yuan: str
    amount_approved_yuan: str | None
    payment_form: str
    urgent: bool
    state: str
    state_label: str
    version: int
    paperwork_due_at: datetime | None
    allowed_actions: list[str]
    history: list[ReliefEventOut]
    reason_label: str = ""
    circumstances: str = ""
    decided_level: str | None = None
    paperwork_done_at: datetime | None = None
    paid_at: datetime | None = None
    payment_method: str | None = None
    payment_reference: str | None = None
    photos: list[PhotoOut] = Field(default_factory=list, description="证明材料照片")


class StaleOut(ErrorOut):
    """A decision on a version someone else already moved on: the application as it is now."""

    state: str
    state_label: str
    version: int
