"""Lists from other departments (医保, 残联, 卫健/公安, 人社) as imported, one record per listed row, and the photos
of field reports (待核实对象 an assistant reported)."""

from datetime import date, datetime

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from models.core import utcnow


class SignalImport(SQLModel, table=True):
    """One department list a county imported: which kind, the file, what it held and what it led to."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # medical | disability | death | unemployment
    area_code: str = Field(foreign_key="area.code", max_length=12, index=True)  # the county
    file_name: str = Field(max_length=100)
    sha256: str = Field(max_length=64, index=True)
    rows: int = 0  # rows read below the header
    created: int = 0  # records new to Doudi
    matched: int = 0  # new records of registered people (of the county)
    candidates: int = 0  # 待核实对象 created
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class SignalRecord(SQLModel, table=True):
    """One listed row: who, what happened when, and whom it led to (a registered person, or a candidate).

    `key` is the kind, the ID number and the row's event (dates, amount): the same list imported again — or the
    next month's list repeating a row — adds nothing.
    """

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120, unique=True)
    kind: str = Field(max_length=16, index=True)
    import_id: int = Field(foreign_key="signalimport.id", index=True)
    row_no: int
    name: str = Field(max_length=64)
    id_number: str = Field(max_length=18, index=True)
    event_on: date | None = None  # 入院日期, 评定日期, 死亡日期, 失业登记日期
    end_on: date | None = None  # 出院日期
    total_fen: int | None = Field(default=None, sa_column=Column(BigInteger))  # 医疗总费用
    self_paid_fen: int | None = Field(default=None, sa_column=Column(BigInteger))  # 个人自付
    grade: int | None = None  # 残疾等级 1–4
    previous_grade: int | None = None  # the person's grade before this list (to tell a new severe disability)
    detail: str | None = Field(default=None, max_length=100)  # 就诊医院, 残疾类别
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    candidate_id: int | None = Field(default=None, foreign_key="candidate.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


class CandidatePhoto(SQLModel, table=True):
    """A photo of a field report, stored by the visit photo pipeline's rules (re-encoded, metadata stripped)."""

    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(unique=True, max_length=36)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    caption: str | None = Field(default=None, max_length=32)
    sha256: str = Field(max_length=64, index=True)
    source_sha256: str = Field(max_length=64)
    width: int
    height: int
    size_bytes: int
    uploaded_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
