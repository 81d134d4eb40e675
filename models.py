"""SQLModel tables: areas, users, households, persons, audit events."""

from datetime import UTC, date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Return the current time, aware, in UTC."""
    return datetime.now(UTC)


class Area(SQLModel, table=True):
    """A division with its 12-digit statistical code: city, county, township or village."""

    code: str = Field(primary_key=True, max_length=12)
    name: str = Field(max_length=64)
    level: int  # 1 city, 2 county, 3 township, 4 village
    parent_code: str | None = Field(default=None, foreign_key="area.code", index=True, max_length=12)
    hotline: str | None = Field(default=None, max_length=32)


class User(SQLModel, table=True):
    """A staff account; its area fixes what it may see."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=64)
    display_name: str = Field(max_length=64)
    phone: str | None = Field(default=None, max_length=32)
    role: str = Field(max_length=16)  # assistant | township | county | city | admin
    area_code: str = Field(foreign_key="area.code", index=True, max_length=12)
    password_hash: str = Field(max_length=256)
    active: bool = True
    must_change_password: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None

    # flask-login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class Household(SQLModel, table=True):
    """A household (户) or a care institution, registered in a village."""

    __table_args__ = (
        UniqueConstraint("area_code", "household_no", name="uq_household_area_no"),
        Index("ix_household_area_status", "area_code", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    area_code: str = Field(foreign_key="area.code", max_length=12)
    household_no: str = Field(max_length=16)
    address: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=32, index=True)
    kind: str = Field(default="family", max_length=16)  # family | institution
    status: str = Field(default="active", max_length=16)  # active | exited
    exit_reason: str | None = Field(default=None, max_length=200)
    exited_at: datetime | None = None
    care_agreement_signed: bool = False
    guardian: str | None = Field(default=None, max_length=64)
    wants_institutional_care: bool = False
    assistant_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Person(SQLModel, table=True):
    """A member of a household."""

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    name: str = Field(max_length=64, index=True)
    id_number: str | None = Field(default=None, unique=True, max_length=18)
    id_last4: str | None = Field(default=None, max_length=4, index=True)
    birth_date: date | None = None
    sex: str | None = Field(default=None, max_length=2)  # 男 | 女
    relation: str = Field(default="本人", max_length=16)
    is_head: bool = False
    phone: str | None = Field(default=None, max_length=32, index=True)
    disability_grade: int | None = None  # 1–4, 1 the most severe
    monthly_allowance_fen: int | None = None


class PersonCategory(SQLModel, table=True):
    """One assistance category (低保, 特困, 孤儿 …) that a person belongs to."""

    person_id: int = Field(foreign_key="person.id", primary_key=True, ondelete="CASCADE")
    category: str = Field(primary_key=True, max_length=32, index=True)


class AuditEvent(SQLModel, table=True):
    """Who did what to which object, when, from where. Append-only (enforced by triggers)."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    username: str | None = Field(default=None, max_length=64)
    action: str = Field(max_length=48, index=True)
    object_type: str | None = Field(default=None, max_length=32)
    object_id: str | None = Field(default=None, max_length=64)
    ip: str | None = Field(default=None, max_length=64)
    detail: str | None = Field(default=None, sa_column=Column(Text))


class Card(SQLModel, table=True):
    """A household's service card: the random token its QR carries, and where the card is in its life."""

    __table_args__ = (
        # at most one live card per household: a reissue revokes the old one in the same transaction
        Index(
            "uq_card_live_household",
            "household_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    token: str = Field(unique=True, max_length=64)
    issued_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    printed_at: datetime | None = None
    delivered_at: datetime | None = None
    delivered_by_id: int | None = Field(default=None, foreign_key="user.id")


class CardScan(SQLModel, table=True):
    """One scan of a card by signed-in staff: evidence that someone stood at the door."""

    __table_args__ = (Index("ix_cardscan_household_at", "household_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    card_id: int = Field(foreign_key="card.id", index=True)
    household_id: int = Field(foreign_key="household.id")
    user_id: int = Field(foreign_key="user.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    in_scope: bool = True
    card_revoked: bool = False
    ip: str | None = Field(default=None, max_length=64)


class PrintBatch(SQLModel, table=True):
    """One printing of card sheets: who printed which area's cards, when."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    area_code: str = Field(foreign_key="area.code", max_length=12)
    at: datetime = Field(default_factory=utcnow)
    format: str = Field(default="pdf", max_length=8)  # pdf | html
    household_count: int = 0


class PrintBatchItem(SQLModel, table=True):
    """A card printed in a batch."""

    batch_id: int = Field(foreign_key="printbatch.id", primary_key=True)
    card_id: int = Field(foreign_key="card.id", primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
