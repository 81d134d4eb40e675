"""The alerts API's answers (GET /api/v1/alerts)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class AlertOut(BaseModel):
    """A 主动发现 alert: which rule, how grave, about whom, due when, where it stands."""

    id: int
    rule: str
    rule_label: str
    grade: Literal["red", "orange", "yellow"]
    household_id: int | None
    person_id: int | None
    candidate_id: int | None
    area_code: str
    reason: str
    due_at: datetime
    state: Literal["open", "assigned", "checked", "closed"]
    level: Literal["village", "township", "county"]


class AlertListOut(BaseModel):
    """One page of alerts in scope; `next` is the address of the next page (null on the last)."""

    items: list[AlertOut]
    next: str | None
