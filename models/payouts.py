"""Subsidy payouts: the city's programs and standards, the bank's result files, each payment, and 整改 items."""

from datetime import date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.core import utcnow


class Program(SQLModel, table=True):
    """One subsidy program the city keeps (低保, 特困, 高龄 …): how often it pays and how its amount is set."""

    code: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=64)
    cadence: str = Field(max_length=16)  # monthly | quarterly | yearly
    basis: str = Field(max_length=16)  # household | person | child | grade | age_band | price
    results_due_day: int = 10  # the county imports the bank's results by this day of the month after the period
    correction_days: int = 15  # how long the township has to close a 整改 item
    active: bool = True


class ProgramStandard(SQLModel, table=True):
    """An amount the city set for a program: per disability grade, per age band, or flat (band '')."""

    __table_args__ = (UniqueConstraint("program_code", "band", name="uq_standard_program_band"),)

    id: int | None = Field(default=None, primary_key=True)
    program_code: str = Field(foreign_key="program.code", max_length=32)
    band: str = Field(default="", max_length=16)  # '1'…'4' (grade), '80' / '90' / '100' (age), '' flat
    amount_fen: int


class PriceSubsidyPeriod(SQLModel, table=True):
    """A 价格临时补贴 period the city opened: from one month to another, per person per month, for named groups."""

    id: int | None = Field(default=None, primary_key=True)
    start_month: str = Field(max_length=7)  # YYYY-MM
    end_month: str = Field(max_length=7)
    amount_fen: int
    categories: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list of category codes
    created_at: datetime = Field(default_factory=utcnow)


class PayoutImport(SQLModel, table=True):
    """One result file a county imported from the bank's 一卡通 platform (the file is kept under instance/)."""

    id: int | None = Field(default=None, primary_key=True)
    area_code: str = Field(foreign_key="area.code", max_length=12, index=True)  # the county
    file_name: str = Field(max_length=100)
    stored_name: str | None = Field(default=None, max_length=80)
    sha256: str = Field(max_length=64, index=True)
    rows: int = 0
    created: int = 0  # payments new with this file (0 for a file imported before)
    summary: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON: the reconciliation's counts
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class Payment(SQLModel, table=True):
    """One row of a result file: a payment to a person for a program and period, paid or failed."""

    __table_args__ = (
        Index("ix_payment_program_period_area", "program_code", "period", "area_code"),
        Index("ix_payment_person_program_period", "person_id", "program_code", "period"),
        Index("ix_payment_household_program", "household_id", "program_code", "period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(max_length=64, unique=True)  # of the row's content: a second import adds nothing
    import_id: int = Field(foreign_key="payoutimport.id", index=True)
    row_no: int
    program_code: str = Field(foreign_key="program.code", max_length=32)
    period: str = Field(max_length=7)  # YYYY-MM, YYYY-Qn or YYYY
    county_code: str = Field(max_length=12)
    area_code: str = Field(max_length=12)  # the household's village, or the county when not in the registry
    person_id: int | None = Field(default=None, foreign_key="person.id")
    household_id: int | None = Field(default=None, foreign_key="household.id")
    name: str = Field(max_length=64)
    id_number: str = Field(max_length=18, index=True)  # needed to find a person the registry does not have
    account_last4: str | None = Field(default=None, max_length=4)  # the bank account is never kept whole
    due_fen: int
    paid_fen: int
    status: str = Field(max_length=8)  # paid | failed
    failure_reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class Correction(SQLModel, table=True):
    """A 整改 item: one problem with a payment, for the township of the household to close with an outcome."""

    __table_args__ = (Index("ix_correction_area_status", "area_code", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120, unique=True)  # kind, program, period and whom: a second import adds nothing
    # failed | missing | not_in_registry | duplicate | after_exit | wrong_amount | disputed
    kind: str = Field(max_length=20)
    program_code: str = Field(foreign_key="program.code", max_length=32)
    period: str = Field(max_length=7)
    area_code: str = Field(max_length=12)  # the household's village (its township closes it), or the county
    household_id: int | None = Field(default=None, foreign_key="household.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    payment_id: int | None = Field(default=None, foreign_key="payment.id")
    visit_id: int | None = Field(default=None, foreign_key="visit.id")  # 核实是否到账: the family said no
    reason: str = Field(max_length=300)
    deadline: date
    status: str = Field(default="open", max_length=8)  # open | closed
    outcome: str | None = Field(default=None, max_length=16)  # reissued | recovered | account_fixed | verified
    outcome_note: str | None = Field(default=None, max_length=500)
    reissued_on: date | None = None
    closed_by_id: int | None = Field(default=None, foreign_key="user.id")
    closed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
