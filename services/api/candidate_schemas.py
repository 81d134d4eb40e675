"""The JSON API's field-report schemas: 上报疑似困难户 as the phone sends it, and the candidate it became."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from services.api.schemas import PhotoOut, Strict, text_field
from services.candidates.candidates import MAX_DESCRIPTION

CANDIDATE_WORDS = {"uuid": "上报编号", "name": "姓名", "area_code": "村（社区）", "description": "看到的情况"}


class CandidateIn(Strict):
    """A field report: made on the phone with its own UUID, sent once the signal allows (a retry lands once)."""

    uuid: UUID = Field(description="上报编号：手机生成一次，重试时不变；同一编号、不同内容时 409")
    name: str = text_field(64, required=True, description="困难群众（或户主）的姓名")
    area_code: str = Field(
        pattern=r"^\d{12}$",
        description="所在村（社区）的 12 位区划代码：须是本人负责的村，否则 400 candidate_refused",
    )
    description: str = text_field(MAX_DESCRIPTION, required=True, description="看到的情况")


class CandidateOut(BaseModel):
    """A 待核实对象 as the API shows it to whoever reported it."""

    id: int
    uuid: str | None
    name: str
    area_code: str
    description: str
    source: str = Field(description="field_report 协理员上报；medical、disability、death、unemployment 部门名单")
    status: str = Field(description="open 待核实、registered 已登记、dismissed 已排除")
    created_at: datetime
    photos: list[PhotoOut]
