"""The API's answers about the signed-in user and the households they see (/me, /households)."""

from datetime import date, datetime

from pydantic import BaseModel, Field


class MeOut(BaseModel):
    """The signed-in user."""

    id: int = Field(description="账号编号：手机上的离线资料和待上传记录按账号分开存放")
    username: str
    display_name: str
    role: str
    role_label: str
    area_code: str
    area_name: str
    scope_prefix: str = Field(description="可见范围：区划代码以此开头的住户（管理员为空，即全部）")
    csrf_token: str = Field(
        description="本次会话的 CSRF 令牌：写操作放在 X-CSRFToken 请求头（离线打开的页面可能没有或已过期）"
    )


class HouseholdItemOut(BaseModel):
    """A household as the list shows it."""

    id: int
    household_no: str
    area_code: str
    village: str
    head_name: str
    members: int
    categories: list[str]
    category_labels: list[str]
    status: str
    last_visit_at: datetime | None
    last_risk: str | None


class HouseholdListOut(BaseModel):
    """One page of households in scope."""

    items: list[HouseholdItemOut]
    page: int
    has_more: bool


MASKED_ID = r"^(—|\d{6}\*{8}[0-9X]{4})$"


class MemberOut(BaseModel):
    """A household member; the ID number only ever masked."""

    id: int
    name: str
    relation: str
    is_head: bool
    sex: str | None
    birth_date: date | None
    id_number_masked: str = Field(pattern=MASKED_ID, description="身份证号（仅前 6 位和后 4 位）")
    phone: str | None
    disability_grade: int | None
    categories: list[str]


class VisitSummaryOut(BaseModel):
    """A past visit as the household shows it."""

    id: int
    uuid: str
    kind: str
    visited_at: datetime
    risk: str
    visitor: str
    photos: int
    needs: int
    from_scan: bool


class HouseholdOut(BaseModel):
    """One household with its members, categories, card and recent visits."""

    id: int
    household_no: str
    area_code: str
    village: str
    address: str | None
    phone: str | None
    kind: str
    status: str
    exit_reason: str | None
    care_agreement_signed: bool
    guardian: str | None
    wants_institutional_care: bool
    categories: list[str]
    category_labels: list[str]
    card_delivered: bool = Field(description="当前有效的服务卡是否已送达住户")
    last_visit_at: datetime | None
    last_risk: str | None
    members: list[MemberOut]
    visits: list[VisitSummaryOut] = Field(description="最近的走访，新的在前")
