"""Care: agreements with a person's carer or guardian, the photos of the signed paper, and wishes to move into an
institution (集中供养) as requests the township confirms and the county places."""

from datetime import date, datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from models.core import utcnow


class CareAgreement(SQLModel, table=True):
    """A 三方委托照料服务协议 (特困) or 留守儿童委托监护责任确认书: the township, the person, and their carer."""

    __table_args__ = (Index("ix_careagreement_person", "person_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    person_id: int = Field(foreign_key="person.id")  # the person cared for
    kind: str = Field(max_length=8)  # tekun | child
    area_code: str = Field(foreign_key="area.code", max_length=12)  # the township, the first party
    carer_name: str = Field(max_length=64)
    carer_phone: str = Field(max_length=32)
    carer_relation: str = Field(max_length=16)
    duties: str = Field(sa_column=Column(Text, nullable=False))  # one duty a line
    signed_on: date | None = None  # None: printed blank-dated, not signed yet
    valid_until: date | None = None
    status: str = Field(default="active", max_length=8)  # active | ended
    ended_on: date | None = None
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CareAgreementPhoto(SQLModel, table=True):
    """A photo of the signed paper, stored by the visit photo pipeline's rules (services/visits/photos.py)."""

    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(unique=True, max_length=36)
    agreement_id: int = Field(foreign_key="careagreement.id", index=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    caption: str | None = Field(default=None, max_length=32)
    sha256: str = Field(max_length=64, index=True)
    source_sha256: str = Field(max_length=64)
    width: int
    height: int
    size_bytes: int
    uploaded_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class InstitutionRequest(SQLModel, table=True):
    """A person's wish to move into an institution: requested → confirmed (township) → placed (county) | declined."""

    __table_args__ = (Index("ix_institutionrequest_area_status", "area_code", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    # the person's id while the request is open (NULL once placed or declined): one open request per person
    open_person_id: int | None = Field(default=None, unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    household_id: int = Field(foreign_key="household.id", index=True)  # where the person lived when asking
    area_code: str = Field(foreign_key="area.code", max_length=12)  # that household's village
    status: str = Field(default="requested", max_length=10)  # requested | confirmed | placed | declined
    note: str | None = Field(default=None, max_length=300)
    visit_id: int | None = Field(default=None, foreign_key="visit.id")  # the visit that heard the wish
    requested_at: datetime = Field(default_factory=utcnow)
    requested_by_id: int = Field(foreign_key="user.id")
    confirmed_at: datetime | None = None
    confirmed_by_id: int | None = Field(default=None, foreign_key="user.id")
    institution_id: int | None = Field(default=None, foreign_key="household.id")  # a household of kind institution
    placed_at: datetime | None = None
    placed_by_id: int | None = Field(default=None, foreign_key="user.id")
    declined_at: datetime | None = None
    declined_by_id: int | None = Field(default=None, foreign_key="user.id")
    decline_reason: str | None = Field(default=None, max_length=300)
