"""The relief application form: read its fields, say what is wrong next to each, build a ReliefIn."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from models import ReliefApplication
from services.api.relief_schemas import ReliefIn
from services.errors import Invalid
from services.inputs import small_int
from services.money import fen_to_yuan, yuan_to_fen
from services.relief.rules import PAYMENT_FORMS, REASONS

MAX_CIRCUMSTANCES = 2000


@dataclass
class FormResult:
    """What the form said: the payload when everything is right, otherwise the mistakes by field."""

    values: dict
    errors: dict[str, str] = field(default_factory=dict)
    payload: ReliefIn | None = None


def values_of(application: ReliefApplication) -> dict:
    """Return an application's fields as the form shows them (for editing)."""
    return {
        "person_id": str(application.person_id),
        "reason": application.reason,
        "circumstances": application.circumstances,
        "amount_yuan": fen_to_yuan(application.amount_requested_fen),
        "payment_form": application.payment_form,
        "urgent": application.urgent,
    }


def parse(form: Mapping, *, uuid: str, household_id: int, member_ids: set[int], need_id: int | None) -> FormResult:
    """Check every field and return the payload, or the mistakes in words a clerk understands."""
    values = {
        "person_id": str(form.get("person_id", "")).strip(),
        "reason": str(form.get("reason", "")).strip(),
        "circumstances": str(form.get("circumstances", "")).strip(),
        "amount_yuan": str(form.get("amount_yuan", "")).strip(),
        "payment_form": str(form.get("payment_form", "")).strip(),
        "urgent": str(form.get("urgent", "")).lower() in ("1", "on", "true", "yes"),
    }
    errors = {}
    if small_int(values["person_id"]) not in member_ids:
        errors["person_id"] = "请选择遇到困难的家庭成员"
    if values["reason"] not in REASONS:
        errors["reason"] = "请选择救助原因"
    if not values["circumstances"]:
        errors["circumstances"] = "请写明困难情况：发生了什么、现在缺什么"
    elif len(values["circumstances"]) > MAX_CIRCUMSTANCES:
        errors["circumstances"] = f"困难情况最多 {MAX_CIRCUMSTANCES} 字"
    if not values["amount_yuan"]:
        errors["amount_yuan"] = "请填写申请金额"
    else:
        try:
            yuan_to_fen(values["amount_yuan"])
        except Invalid as problem:
            errors["amount_yuan"] = str(problem)
    if values["payment_form"] not in PAYMENT_FORMS:
        errors["payment_form"] = "请选择发放方式：一卡通、现金或实物"
    if errors:
        return FormResult(values, errors)
    payload = ReliefIn(
        uuid=uuid,
        household_id=household_id,
        person_id=small_int(values["person_id"]),
        reason=values["reason"],
        circumstances=values["circumstances"],
        amount_yuan=values["amount_yuan"],
        payment_form=values["payment_form"],
        urgent=values["urgent"],
        need_id=need_id,
        submit=form.get("submit") != "draft",
    )
    return FormResult(values, payload=payload)
