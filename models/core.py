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
    # stored in each signed-in session; bumping it ends every session that carries the old number
    session_version: int = 1

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
        # Covers the coverage counts (services/campaigns/coverage.py): they read no household rows, only this index.
        Index(
            "ix_household_coverage", "area_code", "status", "kind", "care_agreement_signed", "wants_institutional_care"
        ),
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
    # kept up to date by each new visit, so schedules need no scan of the visit table
    last_visit_at: datetime | None = None
    last_risk: str | None = Field(default=None, max_length=16)


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
    self_care: str | None = Field(
        default=None, max_length=8
    )  # full 全自理 | partial 半自理 | none 全护理 (asked in visits)
    died_on: date | None = None  # from a 卫健/公安 death list (services/signals): no payment is due after it
    monthly_allowance_fen: int | None = None


class PersonCategory(SQLModel, table=True):
    """One assistance category (低保, 特困, 孤儿 …) that a person belongs to."""

    person_id: int = Field(foreign_key="person.id", primary_key=True, ondelete="CASCADE")
    category: str = Field(primary_key=True, max_length=32, index=True)


class AuditEvent(SQLModel, table=True):
    """Who did what to which object, when, from where. Append-only (enforced by triggers, migrations 0001 and 0008)."""

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


class Visit(SQLModel, table=True):
    """One visit to a household (走访): what was seen, checked and asked for."""

    __table_args__ = (
        Index("ix_visit_household_at", "household_id", "visited_at"),
        Index("ix_visit_area_at", "area_code", "visited_at"),
        # coverage: which households had a survey visit inside a campaign window
        Index("ix_visit_kind_at_household", "kind", "visited_at", "household_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(unique=True, max_length=36)  # made by the form when it opens: retries never make two
    content_hash: str = Field(max_length=64)  # of the submitted content: a replay must match it
    household_id: int = Field(foreign_key="household.id")
    area_code: str = Field(foreign_key="area.code", max_length=12)  # the household's village at the visit
    visitor_id: int = Field(foreign_key="user.id", index=True)
    kind: str = Field(max_length=16)  # survey | routine | adhoc
    visited_at: datetime
    created_at: datetime = Field(default_factory=utcnow)
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    scan_id: int | None = Field(default=None, foreign_key="cardscan.id")  # the card scan it started from
    risk: str = Field(default="normal", max_length=16)  # normal | attention | urgent
    checklist: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON
    self_checks: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON
    changes: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON
    notes: str | None = Field(default=None, sa_column=Column(Text))


class Photo(SQLModel, table=True):
    """A photo of living conditions, re-encoded without metadata and stored by content hash."""

    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(unique=True, max_length=36)
    visit_id: int = Field(foreign_key="visit.id", index=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    caption: str | None = Field(default=None, max_length=32)
    sha256: str = Field(max_length=64, index=True)  # of the stored JPEG; also its file name
    source_sha256: str = Field(max_length=64)  # of the upload: a replay of the same photo UUID must match
    width: int
    height: int
    size_bytes: int
    uploaded_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class Need(SQLModel, table=True):
    """A need or problem (诉求/问题) raised for a household, followed until it is resolved."""

    __table_args__ = (Index("ix_need_area_status", "area_code", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    visit_id: int | None = Field(default=None, foreign_key="visit.id", index=True)
    area_code: str = Field(foreign_key="area.code", max_length=12)
    type: str = Field(max_length=24, index=True)
    description: str = Field(max_length=500)
    status: str = Field(default="open", max_length=16)  # open | in_progress | resolved
    resolution: str | None = Field(default=None, max_length=500)
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by_id: int | None = Field(default=None, foreign_key="user.id")
    resolved_at: datetime | None = None


class VisitFrequency(SQLModel, table=True):
    """How often households of a category are visited (days); set by the city."""

    key: str = Field(primary_key=True, max_length=32)  # a category code, 'urgent' or 'default'
    days: int


class ReliefApplication(SQLModel, table=True):
    """An application for temporary relief (临时救助), moved only by the state machine in services/relief/machine.py."""

    __table_args__ = (
        Index("ix_relief_township_state", "township_code", "state"),
        Index("ix_relief_household_created", "household_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(unique=True, max_length=36)
    content_hash: str = Field(max_length=64)
    household_id: int = Field(foreign_key="household.id")
    person_id: int = Field(foreign_key="person.id")
    area_code: str = Field(foreign_key="area.code", max_length=12)  # the household's village
    township_code: str = Field(foreign_key="area.code", max_length=12)
    reason: str = Field(max_length=32)
    circumstances: str = Field(sa_column=Column(Text, nullable=False))
    amount_requested_fen: int
    amount_approved_fen: int | None = None
    payment_form: str = Field(max_length=16)  # card | cash | kind
    urgent: bool = False
    state: str = Field(default="draft", max_length=16)
    version: int = 1  # optimistic locking: every transition must name the version it saw
    need_id: int | None = Field(default=None, foreign_key="need.id")
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None
    decided_level: str | None = Field(default=None, max_length=16)  # township | county
    paperwork_due_at: datetime | None = None
    paperwork_done_at: datetime | None = None
    paid_at: datetime | None = None
    paid_by_id: int | None = Field(default=None, foreign_key="user.id")
    payment_method: str | None = Field(default=None, max_length=16)
    payment_reference: str | None = Field(default=None, max_length=64)


class ReliefEvent(SQLModel, table=True):
    """One transition of an application: who, when, from → to, amount, comment."""

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="reliefapplication.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    user_id: int = Field(foreign_key="user.id")
    action: str = Field(max_length=24)
    from_state: str = Field(max_length=16)
    to_state: str = Field(max_length=16)
    amount_fen: int | None = None
    comment: str | None = Field(default=None, max_length=500)


class ReliefPhoto(SQLModel, table=True):
    """Evidence attached to an application: a photo stored by the visit photo pipeline's rules."""

    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(unique=True, max_length=36)
    application_id: int = Field(foreign_key="reliefapplication.id", index=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    caption: str | None = Field(default=None, max_length=32)
    sha256: str = Field(max_length=64, index=True)
    source_sha256: str = Field(max_length=64)
    width: int
    height: int
    size_bytes: int
    uploaded_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class TownshipFund(SQLModel, table=True):
    """A township's approval limit and this year's reserve fund (备用金) for temporary relief."""

    area_code: str = Field(foreign_key="area.code", primary_key=True, max_length=12)
    approval_limit_fen: int = 100_000  # 1,000 元: Yunnan's split between township and county approval
    year: int
    reserve_fen: int = 0
    balance_fen: int = 0
    paperwork_days: int = 5  # urgent cases: days to complete the paperwork after the money


class Campaign(SQLModel, table=True):
    """A revisit campaign (排查专项): every active household in scope is to be visited within the window."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    start_date: date
    end_date: date
    statistics_due: date | None = None  # the statistics table (附表)
    report_due: date | None = None  # the four-part work report
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class WorkReport(SQLModel, table=True):
    """A county's four-part work report for a campaign, and when it sent the statistics table and the report."""

    __table_args__ = (UniqueConstraint("campaign_id", "area_code", name="uq_workreport_campaign_area"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    area_code: str = Field(foreign_key="area.code", max_length=12)  # a county
    basic_situation: str = Field(default="", sa_column=Column(Text, nullable=False))  # 对象基本情况
    measures: str = Field(default="", sa_column=Column(Text, nullable=False))  # 解决措施
    difficulties: str = Field(default="", sa_column=Column(Text, nullable=False))  # 存在困难
    suggestions: str = Field(default="", sa_column=Column(Text, nullable=False))  # 下步工作建议
    version: int = 1  # optimistic locking: every save names the version it saw
    statistics_submitted_at: datetime | None = None
    statistics_submitted_by_id: int | None = Field(default=None, foreign_key="user.id")
    # the table's rows (JSON) as sent: the city's copy does not move when the data changes later
    statistics_snapshot: str | None = Field(default=None, sa_column=Column(Text))
    report_submitted_at: datetime | None = None
    report_submitted_by_id: int | None = Field(default=None, foreign_key="user.id")
    returned_at: datetime | None = None  # the city sent the report back for changes
    returned_by_id: int | None = Field(default=None, foreign_key="user.id")
    returned_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    created_by_id: int = Field(foreign_key="user.id")
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by_id: int = Field(foreign_key="user.id")
