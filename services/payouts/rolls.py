"""The roll going out (应发名册): who a county pays for a program and period, as an .xlsx for the bank.

The roll has the columns of the bank's result file (result_file.COLUMNS) under one title row, so the bank fills
实发金额 / 银行账号 / 发放状态 / 失败原因 and the county imports the same file back. Rows are due.due_for; a person
without an ID number, or whose standard the city has not set, cannot go on the roll and is listed with the reason.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from io import BytesIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from sqlmodel import Session, select

from models import Area, Program, User
from services import audit
from services.errors import Invalid, NotFound
from services.payouts import due as dues
from services.payouts.programs import Period, all_programs, parse_period
from services.payouts.status import current_period, previous

# The programs whose amount Doudi computes from the city's standards (低保, 特困, 孤儿 come from the county's rolls).
ROLL_PROGRAMS = ("disability_living", "disability_care", "elderly", "price_subsidy")
HEADER = [
    "姓名",
    "身份证号码",
    "项目",
    "发放期间",
    "应发金额（元）",
    "实发金额（元）",
    "银行账号",
    "发放状态",
    "失败原因",
]
WIDTHS = [10, 21, 20, 10, 14, 14, 22, 10, 20]
FONT = "宋体"
YUAN = "#,##0.00"
NO_ID = "没有身份证号码"
NO_STANDARD = "市里还没有设这一档的补贴标准"


@dataclass
class RollRow:
    """One person on the roll."""

    name: str
    id_number: str
    amount_fen: int
    area_code: str
    household_id: int


@dataclass
class LeftOut:
    """A person due a payment who cannot go on the roll, and why."""

    name: str
    id_number: str | None
    area_code: str
    household_id: int
    reason: str


@dataclass
class Roll:
    county: Area
    program: Program
    period: Period
    rows: list[RollRow] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    price_open: bool = True  # 价格临时补贴: the city opened a period covering this month

    @property
    def total_fen(self) -> int:
        return sum(r.amount_fen for r in self.rows)

    @property
    def title(self) -> str:
        return f"{self.county.name} {self.period.label} {self.program.name} 应发名册"


def own_county(session: Session, user: User, asked: str | None = None) -> Area:
    """Return the user's own county; a roll of any other county (?county=) is not there for them (404)."""
    asked = (asked or "").strip()
    area = session.get(Area, user.area_code)
    if area is None or area.level != 2 or (asked and asked != area.code):
        raise NotFound()
    return area


def roll_programs(session: Session) -> dict[str, Program]:
    """Return the programs a county can export a roll for, in ROLL_PROGRAMS order."""
    programs = all_programs(session)
    return {code: programs[code] for code in ROLL_PROGRAMS if code in programs and programs[code].active}


def default_period(program: Program, today: date) -> Period:
    """Return the period a roll page opens on: last month (last quarter), or this year for a yearly program."""
    here = current_period(program.cadence, today)
    return here if program.cadence == "yearly" else previous(here)


def period_choices(program: Program, today: date, chosen: Period | None = None, count: int = 12) -> list[Period]:
    """Return the periods the page offers, newest first: the one holding today and the ones before (and the chosen)."""
    found = [current_period(program.cadence, today)]
    while len(found) < count:
        found.append(previous(found[-1]))
    if chosen is not None and chosen not in found:
        found = sorted([*found, chosen], key=lambda p: p.first_day, reverse=True)
    return found


def parse_choice(session: Session, program: str | None, period: str | None, today: date) -> tuple[Program, Period]:
    """Return the program and period asked for (defaults: the first program, its default period); refuse others."""
    programs = roll_programs(session)
    code = (program or "").strip() or next(iter(programs), "")
    if code not in programs:
        raise Invalid("只能导出困难残疾人生活补贴、重度残疾人护理补贴、高龄补贴和价格临时补贴的名册")
    chosen = programs[code]
    text = (period or "").strip()
    if not text:
        return chosen, default_period(chosen, today)
    parsed = parse_period(text)
    if parsed.cadence != chosen.cadence:  # the page's program was switched with the other program's period chosen
        return chosen, default_period(chosen, today)
    return chosen, parsed


def build(session: Session, county: Area, program: Program, period: Period) -> Roll:
    """Return the roll of a county for a program and period: the persons on it and the persons left out."""
    roll = Roll(county=county, program=program, period=period)
    if program.code == "price_subsidy":
        roll.price_open = dues.price_period_for(session, period) is not None
    for due in dues.due_for(session, program.code, period, county.code).values():
        reason = NO_ID if not due.id_number else NO_STANDARD if due.amount_fen is None else None
        if reason:
            roll.left_out.append(LeftOut(due.name, due.id_number, due.area_code, due.household_id, reason))
        else:
            roll.rows.append(RollRow(due.name, due.id_number, due.amount_fen, due.area_code, due.household_id))
    roll.rows.sort(key=lambda r: (r.area_code, r.household_id, r.id_number))
    roll.left_out.sort(key=lambda r: (r.area_code, r.household_id, r.name))
    return roll


def area_names(session: Session, codes) -> dict[str, str]:
    """Return the names of the areas (villages) the roll's persons live in, in one query."""
    codes = set(codes)
    if not codes:
        return {}
    return dict(session.exec(select(Area.code, Area.name).where(Area.code.in_(codes))).all())


def workbook(roll: Roll) -> bytes:
    """Return the roll as an .xlsx (write-only): the title row, the result file's header, a row per person."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("应发名册")
    for index, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A3"
    plain, bold = Font(name=FONT, size=11), Font(name=FONT, size=11, bold=True)
    centred = Alignment(horizontal="center", vertical="center")

    def cell(value, font=plain, number_format=None, alignment=None):
        made = WriteOnlyCell(sheet, value=value)
        made.font = font
        if number_format:
            made.number_format = number_format
        if alignment:
            made.alignment = alignment
        return made

    sheet.append([cell(roll.title, Font(name=FONT, size=14, bold=True))])
    sheet.append([cell(name, bold, alignment=centred) for name in HEADER])
    for row in roll.rows:
        sheet.append(
            [
                cell(row.name),
                cell(row.id_number, number_format="@"),  # text: Excel would turn 18 digits into 5.30902E+17
                cell(roll.program.name),
                cell(roll.period.code, number_format="@"),
                cell(Decimal(row.amount_fen) / 100, number_format=YUAN),
                cell(None, number_format=YUAN),
                cell(None, number_format="@"),
                cell(None),
                cell(None),
            ]
        )
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def file_names(roll: Roll) -> tuple[str, str]:
    """Return the roll's file name in ASCII and in Chinese."""
    return (
        f"roll-{roll.county.code}-{roll.program.code}-{roll.period.code}.xlsx",
        f"{roll.county.name}{roll.period.label}{roll.program.name}应发名册.xlsx",
    )


def record_export(session: Session, actor: audit.Actor, roll: Roll) -> None:
    """Audit the export: the roll carries whole ID numbers."""
    audit.record(
        session,
        actor,
        "payouts.roll_exported",
        roll.county,
        program=roll.program.code,
        period=roll.period.code,
        rows=len(roll.rows),
        total_fen=roll.total_fen,
    )
