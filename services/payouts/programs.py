"""The city's programs, how a result file names them, and periods (2026-03, 2026-Q1, 2026)."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from models import Program, ProgramStandard
from services.errors import Invalid

CADENCE_LABELS = {"monthly": "按月", "quarterly": "按季", "yearly": "按年"}
# How result files name the programs, compared after folding; the longest first so 护理补贴 is not 生活补贴.
_NAMES = [
    ("重度残疾人护理补贴", "disability_care"),
    ("护理补贴", "disability_care"),
    ("困难残疾人生活补贴", "disability_living"),
    ("残疾人生活补贴", "disability_living"),
    ("事实无人抚养", "de_facto_orphan"),
    ("孤儿", "orphan"),
    ("价格临时补贴", "price_subsidy"),
    ("临时价格补贴", "price_subsidy"),
    ("高龄", "elderly"),
    ("特困", "tekun"),
    ("低保", "dibao"),
    ("最低生活保障", "dibao"),
]
_CHINESE_QUARTERS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
# What migration 0009 seeds (it keeps its own frozen copy): the programs, and placeholder standards the city replaces.
DEFAULT_PROGRAMS = [
    ("dibao", "城乡低保", "monthly", "household"),
    ("tekun", "特困供养", "monthly", "person"),
    ("orphan", "孤儿基本生活费", "monthly", "child"),
    ("de_facto_orphan", "事实无人抚养儿童基本生活补贴", "monthly", "child"),
    ("disability_living", "困难残疾人生活补贴", "monthly", "grade"),
    ("disability_care", "重度残疾人护理补贴", "monthly", "grade"),
    ("elderly", "高龄补贴", "yearly", "age_band"),
    ("price_subsidy", "价格临时补贴", "monthly", "price"),
]
DEFAULT_STANDARDS = [
    ("disability_living", "", 8000),
    ("disability_care", "1", 10000),
    ("disability_care", "2", 8000),
    ("elderly", "80", 30000),
    ("elderly", "90", 60000),
    ("elderly", "100", 120000),
]


@dataclass(frozen=True)
class Period:
    """A program's pay period: a month, a quarter or a year."""

    year: int
    month: int | None = None
    quarter: int | None = None

    @property
    def code(self) -> str:
        if self.month:
            return f"{self.year}-{self.month:02d}"
        if self.quarter:
            return f"{self.year}-Q{self.quarter}"
        return str(self.year)

    @property
    def cadence(self) -> str:
        return "monthly" if self.month else "quarterly" if self.quarter else "yearly"

    @property
    def first_day(self) -> date:
        month = self.month or (3 * self.quarter - 2 if self.quarter else 1)
        return date(self.year, month, 1)

    @property
    def last_day(self) -> date:
        end_month = self.month or (3 * self.quarter if self.quarter else 12)
        if end_month == 12:
            return date(self.year, 12, 31)
        return date.fromordinal(date(self.year, end_month + 1, 1).toordinal() - 1)

    @property
    def label(self) -> str:
        if self.month:
            return f"{self.year}年{self.month}月"
        if self.quarter:
            return f"{self.year}年第{self.quarter}季度"
        return f"{self.year}年"

    def results_due(self, day: int) -> date:
        """Return the day by which the county should have imported this period's results."""
        after = self.last_day.toordinal() + 1
        following = date.fromordinal(after)
        return date(following.year, following.month, min(max(day, 1), 28))


def fold(text) -> str:
    """Fold full-width characters and drop spaces (a cell typed by hand)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or "")))


def program_code(text) -> str | None:
    """Return the program a result file's 项目 cell names, or None."""
    folded = fold(text)
    for word, code in _NAMES:
        if word in folded:
            return code
    return None


def parse_period(text) -> Period:
    """Read a 发放期间 cell: 2026-03, 2026年3月, 2026/3, 202603, 2026-Q1, 2026年第一季度 or 2026(年)."""
    raw = fold(text)
    if isinstance(text, date):
        return Period(text.year, text.month)
    match = (
        re.fullmatch(r"(\d{4})[-/.年](\d{1,2})月?(?:份)?", raw)
        or re.fullmatch(r"(\d{4})(\d{2})", raw)
        or re.fullmatch(r"(\d{4})-(\d{1,2})-\d{1,2}(?:\s*00:00:00)?", raw)
    )
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise Invalid(f"发放期间“{raw}”的月份不对（应为 1–12 月）")
        return _checked(Period(year, month), raw)
    match = re.fullmatch(r"(\d{4})(?:年|-)?(?:第)?(?:Q|q)?([一二三四1-4])(?:季度|季)?", raw)
    if match and ("季" in raw or "Q" in raw.upper()):
        return _checked(Period(int(match.group(1)), quarter=_CHINESE_QUARTERS[match.group(2)]), raw)
    match = re.fullmatch(r"(\d{4})年?(?:度)?", raw)
    if match:
        return _checked(Period(int(match.group(1))), raw)
    raise Invalid(f"发放期间“{raw[:20]}”看不懂：请写成 2026-03（月）、2026-Q1（季度）或 2026（年）")


def _checked(period: Period, raw: str) -> Period:
    if not EARLIEST_YEAR <= period.year <= LATEST_YEAR:
        raise Invalid(f"发放期间“{raw}”的年份不对")
    return period


def period_from_code(code: str) -> Period:
    """Return the Period a stored code (2026-03, 2026-Q1, 2026) stands for."""
    return parse_period(code)


def ensure_programs(session: Session) -> int:
    """Add the default programs and standards that are missing (a database emptied table by table); return how many."""
    have = set(session.exec(select(Program.code)))
    added = [Program(code=c, name=n, cadence=k, basis=b) for c, n, k, b in DEFAULT_PROGRAMS if c not in have]
    session.add_all(added)
    session.flush()
    bands = set(session.exec(select(ProgramStandard.program_code, ProgramStandard.band)))
    session.add_all(
        ProgramStandard(program_code=c, band=b, amount_fen=f) for c, b, f in DEFAULT_STANDARDS if (c, b) not in bands
    )
    return len(added)


def all_programs(session: Session) -> dict[str, Program]:
    """Return the city's programs by code, in the order they were set up."""
    return {p.code: p for p in session.exec(select(Program).order_by(Program.name))}


def standards(session: Session) -> dict[str, dict[str, int]]:
    """Return the city's standards: {program: {band: fen}}."""
    found: dict[str, dict[str, int]] = {}
    for standard in session.exec(select(ProgramStandard)):
        found.setdefault(standard.program_code, {})[standard.band] = standard.amount_fen
    return found


def elderly_band(age: int) -> str | None:
    """Return the 高龄 band of an age (80–89, 90–99, 100+), or None under 80."""
    if age >= 100:
        return "100"
    if age >= 90:
        return "90"
    if age >= 80:
        return "80"
    return None
