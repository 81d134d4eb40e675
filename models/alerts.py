"""主动发现: the rules' settings, the alerts they raise, and candidates (people no roll knows about yet)."""

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from models.core import utcnow


class AlertRule(SQLModel, table=True):
    """The city's change to one rule's defaults (the rule itself: services/alerts/rules.py; no row, the defaults)."""

    code: str = Field(primary_key=True, max_length=40)
    enabled: bool = True
    days: int  # how many days the township has to check an alert of this rule
    threshold: int | None = None  # the rule's number (days, 元 …), when it has one; None: the rule's default
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by_id: int | None = Field(default=None, foreign_key="user.id")


class Candidate(SQLModel, table=True):
    """A person or family found outside every roll (待核实对象), for the township of their village to check."""

    __table_args__ = (Index("ix_candidate_area_status", "area_code", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    uuid: str | None = Field(default=None, unique=True, max_length=36)  # a field report's, made on the phone
    area_code: str = Field(foreign_key="area.code", max_length=12)  # the village (or the lowest area known)
    name: str = Field(max_length=64)
    id_number: str | None = Field(default=None, max_length=18, index=True)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    source: str = Field(max_length=20)  # field_report | medical | disability | death | unemployment
    status: str = Field(default="open", max_length=12)  # open | registered | dismissed
    reported_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    # the township's answer (services/candidates): registered as a household, or dismissed with a reason
    settled_at: datetime | None = None
    settled_by_id: int | None = Field(default=None, foreign_key="user.id")
    settle_note: str | None = Field(default=None, max_length=200)


class Alert(SQLModel, table=True):
    """One warning raised by a rule about a household, a person or a candidate, followed until it is closed."""

    __table_args__ = (
        Index("ix_alert_area_state", "area_code", "state"),
        Index("ix_alert_household", "household_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # rule and subject while the alert is not closed (NULL once closed): one open alert per rule and subject
    open_key: str | None = Field(default=None, max_length=80, unique=True)
    rule: str = Field(max_length=40)  # a code of services/alerts/rules.py RULES
    grade: str = Field(max_length=8)  # red | orange | yellow
    area_code: str = Field(foreign_key="area.code", max_length=12)  # the subject's village
    household_id: int | None = Field(default=None, foreign_key="household.id")
    person_id: int | None = Field(default=None, foreign_key="person.id")
    candidate_id: int | None = Field(default=None, foreign_key="candidate.id")
    reason: str = Field(max_length=300)  # what the rule saw, in Chinese
    state: str = Field(default="open", max_length=10)  # open | assigned | checked | closed
    level: str = Field(default="village", max_length=10)  # who must act now: village | township | county
    raised_at: datetime = Field(default_factory=utcnow)
    due_at: datetime
    assigned_to_id: int | None = Field(default=None, foreign_key="user.id")
    visit_id: int | None = Field(default=None, foreign_key="visit.id")  # the visit that checked it
    outcome: str | None = Field(default=None, max_length=16)  # dibao | tekun | relief | referral | resolved | excluded
    outcome_note: str | None = Field(default=None, max_length=500)
    referral_to: str | None = Field(default=None, max_length=16)  # 转介 to: medical | disability | education | station
    checked_at: datetime | None = None  # when a visit (or an officer) checked it
    closed_at: datetime | None = None
    closed_by_id: int | None = Field(default=None, foreign_key="user.id")
