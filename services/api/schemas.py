"""Pydantic schemas the JSON API validates with; the OpenAPI description is generated from them."""

import hashlib
import json
from datetime import datetime
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from services.alerts.outcomes import NO_OUTCOME, NO_REFERRAL, NOTE_MAX, NOTE_REQUIRED, OUTCOMES, REFERRALS
from services.care.self_care import LEVELS as SELF_CARE_LEVELS
from services.care.self_care import MAX_ANSWERS as MAX_SELF_CARE
from services.inputs import MAX_ID, NO_NUL_PATTERN
from services.visits.rules import CHANGES, CHECKLIST, KINDS, NEED_TYPES, RISKS, SELF_CHECKS

Kind = Literal[tuple(KINDS)]
Risk = Literal[tuple(RISKS)]
ChecklistKey = Literal[tuple(CHECKLIST)]
SelfCheckKey = Literal[tuple(SELF_CHECKS)]
Change = Literal[tuple(CHANGES)]
SelfCare = Literal[tuple(SELF_CARE_LEVELS)]
NeedType = Literal[tuple(k for k in NEED_TYPES if k != "review")]
# relief: the codes services/relief/rules.py owns, so the OpenAPI enums can never drift from what is accepted

# Ids are INTEGER columns (services/inputs.py MAX_ID): a larger one is refused here (422), never sent to the database
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
# Text is stored as sent (trimmed): PostgreSQL cannot store a NUL character, and required text must not be blank
FILLED_PATTERN = r"^[^\x00]*[^\x00\s][^\x00]*$"


def text_field(max_length: int, *, required: bool = False, **extra):
    """Declare a text field: at most max_length characters, no NUL, and (required) not only blanks."""
    if required:
        return Field(min_length=1, max_length=max_length, pattern=FILLED_PATTERN, **extra)
    return Field(default=None, max_length=max_length, pattern=NO_NUL_PATTERN, **extra)


class Strict(BaseModel):
    """Refuse unknown fields: a typo in the client must not be silently dropped."""

    model_config = ConfigDict(extra="forbid")


class CheckItem(Strict):
    """One living-condition item: fine, or a problem with a short note."""

    # the validator below, said in JSON Schema so the OpenAPI tells clients: a problem (ok false) needs a note
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"ok": {"const": False}}, "required": ["ok"]},
            "then": {"properties": {"note": {"type": "string", "pattern": FILLED_PATTERN}}, "required": ["note"]},
        }
    )

    ok: bool
    note: str | None = text_field(200, description="问题说明：ok 为 false（有问题）时必须填写")

    @model_validator(mode="after")
    def problem_needs_a_note(self):
        if not self.ok and not (self.note or "").strip():
            raise ValueError("有问题的项目请简单写明情况")
        return self


class Location(Strict):
    """Where the phone was, as the browser's geolocation reported it."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy: float | None = Field(default=None, ge=0, le=100_000)


class NeedIn(Strict):
    """A need raised in a visit."""

    type: NeedType
    description: str = text_field(500, required=True)


def _alert_check_schema() -> dict:
    """Say in JSON Schema what VisitIn's alert validators check, so clients (and Schemathesis) know it."""
    outcome, named = {"enum": list(OUTCOMES)}, {"type": "integer"}
    filled = {"type": "string", "pattern": FILLED_PATTERN}
    return {
        "allOf": [
            {
                "if": {"required": ["alert_id"], "properties": {"alert_id": named}},
                "then": {"required": ["alert_outcome"], "properties": {"alert_outcome": outcome}},
            },
            {
                "if": {"required": ["alert_outcome"], "properties": {"alert_outcome": outcome}},
                "then": {"required": ["alert_id"], "properties": {"alert_id": named}},
            },
            {
                "if": {"required": ["alert_outcome"], "properties": {"alert_outcome": {"const": "referral"}}},
                "then": {
                    "required": ["alert_referral_to", "alert_note"],
                    "properties": {"alert_referral_to": {"enum": list(REFERRALS)}, "alert_note": filled},
                },
                "else": {"properties": {"alert_referral_to": {"type": "null"}}},
            },
            {
                "if": {"required": ["alert_outcome"], "properties": {"alert_outcome": {"const": "excluded"}}},
                "then": {"required": ["alert_note"], "properties": {"alert_note": filled}},
            },
        ]
    }


class VisitIn(Strict):
    """A visit as the form or the offline client sends it."""

    model_config = ConfigDict(json_schema_extra=_alert_check_schema())
    # left out of the fingerprint while empty: a visit sent before these fields existed replays as the same visit
    OMIT_WHEN_EMPTY: ClassVar[tuple[str, ...]] = (
        "alert_id",
        "alert_outcome",
        "alert_referral_to",
        "alert_note",
        "self_care",
    )

    uuid: UUID
    household_id: RowId
    kind: Kind
    visited_at: AwareDatetime | None = Field(
        default=None,
        description="走访时间（带时区，离线时为手机上的时间）：不早于 30 天前，不晚于现在 10 分钟，"
        "否则 400 visit_refused；这户之后退出在册时照样登记，并给乡镇提一条复核诉求，"
        "退出之后的走访则 400 visit_refused",
    )
    checklist: dict[ChecklistKey, CheckItem] = Field(default_factory=dict)
    self_checks: dict[SelfCheckKey, bool] = Field(default_factory=dict)
    changes: list[Change] = Field(default_factory=list, max_length=len(CHANGES))
    needs: list[NeedIn] = Field(default_factory=list, max_length=20)
    risk: Risk = "normal"
    notes: str | None = text_field(2000)
    location: Location | None = None
    scan_id: RowId | None = Field(default=None, description="本次走访前扫的户卡记录；不是本人刚扫这户的卡则忽略")
    self_care: dict[RowId, SelfCare] = Field(
        default_factory=dict,
        max_length=MAX_SELF_CARE,
        json_schema_extra={"propertyNames": {"pattern": "^[1-9][0-9]{0,8}$"}},  # row ids, as JSON keys
        description="成员的自理能力 {成员编号: full 全自理 | partial 半自理 | none 全护理}；"
        "成员须属于这户，否则 400 visit_refused、整次走访不保存",
    )
    # 主动发现: the alert this visit checks, and how it ends (services/alerts/checks.py)
    alert_id: RowId | None = Field(
        default=None,
        description="这次走访核实的预警（须是这户未办结的预警，否则 400 alert_mismatch 或 409 alert_closed）",
    )
    alert_outcome: Literal[tuple(OUTCOMES)] | None = Field(
        default=None,
        validate_default=True,
        description="核实结果：" + "、".join(f"{k} {v}" for k, v in OUTCOMES.items()),
    )
    alert_referral_to: Literal[tuple(REFERRALS)] | None = Field(
        default=None, validate_default=True, description="转介去向（仅 referral）：" + "、".join(REFERRALS.values())
    )
    alert_note: str | None = Field(
        default=None,
        max_length=NOTE_MAX,
        pattern=NO_NUL_PATTERN,
        validate_default=True,
        description="核实说明：转介和排除必须填写",
    )

    @field_validator("alert_outcome")
    @classmethod
    def outcome_with_alert(cls, value, info: ValidationInfo):
        if info.data.get("alert_id") is not None and value is None:
            raise ValueError(NO_OUTCOME)
        if value is not None and info.data.get("alert_id") is None and "alert_id" in info.data:
            raise ValueError("没有要核实的预警，不用填核实结果")
        return value

    @field_validator("alert_referral_to")
    @classmethod
    def referral_named(cls, value, info: ValidationInfo):
        outcome = info.data.get("alert_outcome")
        if outcome == "referral" and value is None:
            raise ValueError(NO_REFERRAL)
        if value is not None and outcome != "referral":
            raise ValueError("只有核实结果为转介时才选转介去向")
        return value

    @field_validator("alert_note")
    @classmethod
    def note_when_required(cls, value, info: ValidationInfo):
        value = (value or "").strip() or None
        needed = NOTE_REQUIRED.get(info.data.get("alert_outcome"))
        if needed and value is None:
            raise ValueError(needed)
        return value


class PhotoOut(BaseModel):
    """A stored photo."""

    uuid: str
    caption: str | None
    width: int
    height: int
    size_bytes: int
    url: str
    thumb_url: str


class NeedOut(BaseModel):
    """A need as the API returns it."""

    id: int
    type: str
    description: str
    status: str


class VisitOut(BaseModel):
    """A stored visit."""

    id: int
    uuid: str
    household_id: int
    kind: str
    visited_at: datetime
    risk: str
    needs: list[NeedOut]
    photos: list[PhotoOut]


class ErrorOut(BaseModel):
    """Every API error: a stable code and a message for people."""

    error: str
    message: str


class FieldErrorOut(BaseModel):
    """What is wrong with one submitted field."""

    field: str = Field(description="出错的字段路径，如 checklist.water")
    message: str


class InvalidOut(ErrorOut):
    """A refused submission, with a Chinese message for each wrong field."""

    fields: list[FieldErrorOut]


class PhotoIn(Strict):
    """One photo upload (multipart/form-data): these three fields and no others."""

    file: bytes = Field(description="照片文件（JPEG、PNG 或 WebP）", json_schema_extra={"contentMediaType": "image/*"})
    uuid: UUID = Field(description="照片编号：客户端为每张照片生成一次，重试时不变")
    caption: str | None = text_field(32, description="照片说明，如 住房、厨房、床铺；最多 32 字，超过时 400")


FIELD_WORDS = {
    "uuid": "走访编号",
    "household_id": "住户",
    "kind": "走访类型",
    "visited_at": "走访时间",
    "checklist": "生活状况",
    "self_checks": "政策自查",
    "changes": "家庭变化",
    "needs": "诉求",
    "risk": "风险等级",
    "notes": "备注",
    "location": "定位",
    "description": "说明",
    "type": "类型",
    "note": "问题说明",
    "file": "照片文件",
    "caption": "照片说明",
    "scan_id": "扫码记录",
    "alert_id": "预警",
    "alert_outcome": "核实结果",
    "alert_referral_to": "转介去向",
    "alert_note": "核实说明",
}


def validation_messages(error, words: dict[str, str] | None = None) -> list[dict]:
    """Turn a pydantic ValidationError into [{"field": "checklist.water", "message": "…"}] in Chinese."""
    vocabulary = FIELD_WORDS | (words or {})  # a form may name a field its own way (uuid: 申请编号)
    messages = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"])
        word = next((vocabulary[str(p)] for p in reversed(item["loc"]) if str(p) in vocabulary), path)
        kind = item["type"]
        if not item["loc"]:  # the body itself: a list, a number, or no JSON at all
            text = "提交的内容应是一个 JSON 对象"
        elif kind == "value_error":
            text = str(item.get("ctx", {}).get("error", item["msg"]))
        elif kind == "missing":
            text = f"请填写{word}"
        elif kind in ("literal_error", "enum"):
            text = f"{word}的选项不对"
        elif kind == "extra_forbidden":
            text = f"不认识的字段：{path}"
        elif kind == "string_too_long":
            text = f"{word}最多 {item.get('ctx', {}).get('max_length')} 个字"
        elif "too_long" in kind or "too_short" in kind:
            text = f"{word}的长度不对"
        elif kind == "string_pattern_mismatch":
            blank = "\x00" not in str(item.get("input", ""))
            text = f"请填写{word}" if blank else f"{word}中有无法保存的空字符，请删除后重新提交"
        elif kind in ("greater_than_equal", "less_than_equal"):
            text = f"{word}超出范围"
        else:
            text = f"{word}的格式不对"
        messages.append({"field": path, "message": text})
    return messages


class AreaOut(BaseModel):
    """An area in a coverage answer."""

    code: str
    name: str


class CoverageCounts(BaseModel):
    """Households and persons due and visited in a campaign, for one area."""

    area: AreaOut
    households_due: int
    households_visited: int
    persons_due: int
    persons_visited: int


class CoverageOut(CoverageCounts):
    """A campaign's coverage for an area, with one row per child area (empty for a village)."""

    campaign_id: int
    children: list[CoverageCounts]


def fingerprint(payload: BaseModel) -> str:
    """Return a hash of what was submitted, to tell a replay (same id, same content) from a clash."""
    data = payload.model_dump(mode="json")
    for name in getattr(payload, "OMIT_WHEN_EMPTY", ()):
        if not data.get(name):
            data.pop(name, None)
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
