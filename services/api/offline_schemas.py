"""The JSON API's offline schemas: the assistant's offline pack, and the outbox file a township officer uploads.

The pack carries no ID number and no card token: a member is a name, an age and a relation; a card is the
SHA-256 of its token, so the phone can recognise a scanned card without holding what the card unlocks. An alert
task is its rule, grade, reason (Chinese, written without ID numbers), due day and the household it is about.
"""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.api.schemas import RowId, text_field
from services.visits.schedule import SECTIONS

Section = Literal[tuple(SECTIONS)]
Day = date  # PackDueOut has a field named date
CARD_HASH = r"^[0-9a-f]{64}$"


class PackAssistantOut(BaseModel):
    """The household's assistant, as the offline household page names them."""

    name: str
    phone: str | None


class PackMemberOut(BaseModel):
    """A member as the offline pages show them: no ID number, no birth date, only the age."""

    id: int = Field(description="成员编号（数据库行号，填临时救助草稿的 person_id 用），不是身份证号")
    name: str
    age: int | None = Field(description="周岁（北京时间），不知道出生日期时为 null")
    sex: str | None
    relation: str
    head: bool
    categories: list[str] = Field(description="本人的保障类别代码（见 labels.categories）")
    phone: str | None


class PackDueOut(BaseModel):
    """When the household's next routine visit is due, by the 首页 rule (services/visits/schedule.py)."""

    date: Day | None = Field(description="应走访日期（北京时间）；从未走访时为 null（今天就该去）")
    section: Section | None = Field(description="首页上的分组：逾期、今天、本周；更晚的为 null")


class PackNeedOut(BaseModel):
    """An unresolved need of the household."""

    id: int
    type: str
    description: str
    status: Literal["open", "in_progress"]


class PackHouseholdOut(BaseModel):
    """One active household of the assistant's village(s), with what offline work needs and nothing more."""

    id: int
    no: str = Field(description="户编号，如 0012")
    village: str = Field(description="村（社区）的区划代码，名称见 villages")
    address: str | None
    phone: str | None
    kind: str
    status: str
    assistant: PackAssistantOut | None
    categories: list[str] = Field(description="全户成员的保障类别，按类别表的顺序")
    members: list[PackMemberOut] = Field(description="户主在前")
    last_visit_at: datetime | None
    last_risk: str | None
    due: PackDueOut
    survey_due: bool = Field(description="排查专项正在进行、这户在专项期间还没有排查回访：新走访应为 survey")
    needs: list[PackNeedOut] = Field(description="未解决的诉求")
    card: str | None = Field(
        pattern=CARD_HASH, description="当前有效户卡令牌的 SHA-256（64 位小写十六进制），没有有效户卡时为 null"
    )


class PackAlertOut(BaseModel):
    """An alert to check (待核实预警) assigned to the assistant, as 首页 lists it: red first, then the earliest due."""

    id: int = Field(description="预警编号：走访带 alert_id 核实它")
    rule: str = Field(description="规则代码（名称见 labels.alert_rules）")
    grade: Literal["red", "orange", "yellow"] = Field(description="等级（名称见 labels.alert_grades）")
    reason: str = Field(description="规则看到的情况（中文，不含身份证号）")
    due: Day = Field(description="核实期限（北京时间的日期）：过了这天未核实即为逾期")
    household_id: int = Field(description="这户的编号（在 households 里）")
    person_id: int | None = Field(description="涉及的成员编号（在这户的 members 里），关于全户时为 null")
    any_visit_closes: bool = Field(
        description="这户的任何一次走访都会办结这条预警（走访逾期、独居无人联系、紧急情况未跟进）"
    )


class PackLabelsOut(BaseModel):
    """The Chinese words for every code in the pack, so pages rendered offline say what the server says."""

    categories: dict[str, str]
    need_types: dict[str, str]
    need_statuses: dict[str, str]
    risks: dict[str, str]
    kinds: dict[str, str]
    sections: dict[str, str]
    alert_rules: dict[str, str]
    alert_grades: dict[str, str]


class OfflinePackOut(BaseModel):
    """The assistant's offline pack: the active households of their own village(s), without ID numbers, and the
    alerts assigned to them to check."""

    version: Literal[1]
    user_id: int = Field(description="下载者的用户编号：客户端不接受别人的离线资料")
    generated_at: datetime = Field(description="生成时间；不计入 ETag（资料不变时 ETag 不变）")
    truncated: bool = Field(description="住户超过 2000 户时只给前 2000 户（按村、户编号）")
    villages: dict[str, str] = Field(description="区划代码 → 村（社区）名称")
    labels: PackLabelsOut
    households: list[PackHouseholdOut]
    alerts_truncated: bool = Field(description="待核实预警超过 500 条时只给前 500 条（红色在前）")
    alerts: list[PackAlertOut] = Field(
        description="派给本人、还没核实的预警（与首页的“待核实预警”相同），只含 households 里的户；"
        "红色在前、期限早的在前"
    )


# ---- the exported outbox file ------------------------------------------------------------------------------


class OutboxUserIn(BaseModel):
    """Whose phone the file came from."""

    id: RowId
    username: str = Field(min_length=1, max_length=64)
    display_name: str | None = Field(default=None, max_length=64)


class OutboxPhotoIn(BaseModel):
    """A photo kept in the outbox, as the browser had shrunk it."""

    uuid: str = Field(min_length=1, max_length=64)  # checked as a UUID by the importer, with a Chinese reason
    caption: str | None = text_field(32)
    jpeg_base64: str = Field(min_length=1)  # its length is bounded by the importer (services/offline/outbox_file.py)


class OutboxItemIn(BaseModel):
    """One waiting item: a visit, a relief draft or a field report, its payload for the API, and its photos."""

    kind: Literal["visit", "relief", "candidate"]
    payload: dict  # checked by VisitIn, ReliefIn or CandidateIn, the API's own schemas
    photos: list[OutboxPhotoIn] = Field(default_factory=list)


class OutboxFileIn(BaseModel):
    """The file 导出未上传记录 saves: doudi-outbox-<username>-<yyyymmdd-hhmm>.json.

    Fields the phone adds beyond these (its own bookkeeping) are ignored; each payload is held to the API's schema.
    """

    format: Literal["doudi-outbox"]
    version: Literal[1]
    exported_at: str | None = Field(default=None, max_length=64)
    user: OutboxUserIn
    items: list[dict]  # each checked as an OutboxItemIn on its own: one bad item does not refuse the rest
