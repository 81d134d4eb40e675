"""Department lists as counties receive them: find the header under the title rows, check every row.

Four kinds, one row per event: 医保 hospital stays (入院/出院日期, 医疗总费用, 个人自付, 就诊医院), 残联 severe
disability (残疾等级, 残疾类别), 卫健/公安 deaths (死亡日期), 人社 registered unemployment (失业登记日期). Each has
姓名 and 身份证号码, and may have an address or 村 column (where a person nobody registered lives). Columns are found
by their Chinese names with the roster import's machinery (services/roster/file.py); digits may be full-width.
A row that cannot be read is named with its spreadsheet row and why, and left out; the other rows are imported.
"""

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from itertools import chain, islice
from pathlib import Path

from services.clock import today_in_china
from services.errors import Invalid
from services.inputs import name_problem
from services.registry import idnumber
from services.roster.file import aliases_for, cell, cell_text, find_header, fold, rows_at_most
from services.spreadsheets import read as spreadsheets
from services.spreadsheets.read import Row

HEADER_SEARCH_ROWS = 30
MAX_DATA_ROWS = 50_000  # a county's month of one department; a bigger list is split by township
LIMITS = spreadsheets.Limits(rows=HEADER_SEARCH_ROWS + MAX_DATA_ROWS, elements=4_000_000)
MAX_YUAN = 10_000_000  # 1,000 万元 for one hospital stay: anything above is a typing error (and fits 64 bits)
EARLIEST = date(1900, 1, 1)

KINDS = {
    "medical": "医保住院费用名单",
    "disability": "残联重度残疾名单",
    "death": "卫健（公安）死亡名单",
    "unemployment": "人社失业登记名单",
}
_COMMON = {
    "name": ("姓名", "患者姓名", "参保人姓名", "死者姓名", "人员姓名"),
    "id_number": ("身份证号码", "身份证号", "公民身份号码", "身份证", "证件号码", "社会保障号码", "社会保障号"),
    "township": ("乡镇（街道）", "乡镇", "乡（镇）", "所在乡镇", "乡镇街道"),
    "village": ("村（社区）", "村", "村（居）", "村委会", "社区", "所在村"),
    "address": ("家庭住址", "住址", "地址", "户籍地址", "居住地址", "现住址", "户籍所在地"),
}
COLUMNS = {
    "medical": {
        **_COMMON,
        "admitted": ("入院日期", "入院时间"),
        "discharged": ("出院日期", "出院时间"),
        "total": ("医疗总费用（元）", "医疗总费用", "总费用（元）", "总费用", "医疗费用总额", "医疗费用"),
        "self_paid": ("个人自付（元）", "个人自付", "自付金额（元）", "自付金额", "个人负担（元）", "个人负担",
                      "个人自付金额", "个人支付（元）", "个人支付"),
        "hospital": ("就诊医院", "医院", "医疗机构", "就诊医疗机构", "定点医疗机构", "就诊机构"),
    },
    "disability": {
        **_COMMON,
        "grade": ("残疾等级", "等级", "残疾级别"),
        "category": ("残疾类别", "类别", "残疾类型"),
        "certified": ("发证日期", "评定日期", "办证日期", "评残日期"),
    },
    "death": {**_COMMON, "died": ("死亡日期", "死亡时间", "去世日期")},
    "unemployment": {**_COMMON, "registered": ("失业登记日期", "登记日期", "失业日期", "失业时间")},
}  # fmt: skip
REQUIRED = {
    "medical": ("name", "id_number", "admitted", "self_paid"),
    "disability": ("name", "id_number", "grade"),
    "death": ("name", "id_number", "died"),
    "unemployment": ("name", "id_number", "registered"),
}
LABELS = {"name": "姓名", "id_number": "身份证号码", "admitted": "入院日期", "discharged": "出院日期",
          "self_paid": "个人自付（元）", "total": "医疗总费用（元）", "grade": "残疾等级", "died": "死亡日期",
          "registered": "失业登记日期", "certified": "发证日期"}  # fmt: skip
_ALIASES = {kind: aliases_for(columns) for kind, columns in COLUMNS.items()}
GRADE_WORDS = {"一": 1, "壹": 1, "二": 2, "贰": 2, "三": 3, "叁": 3, "四": 4, "肆": 4}


@dataclass
class SignalRow:
    """One checked row of a department list."""

    row: int
    name: str
    id: idnumber.IdNumber
    event_on: date | None = None
    end_on: date | None = None
    total_fen: int | None = None
    self_paid_fen: int | None = None
    grade: int | None = None
    detail: str | None = None
    place: str = ""  # the township, village and address cells, for finding a candidate's village

    def key(self, kind: str) -> str:
        """Return the row's fingerprint: the kind, the ID number and the event (the same row imported again matches)."""
        if kind == "medical":
            event = f"{self.event_on}:{self.end_on or ''}:{self.self_paid_fen}"
        elif kind == "disability":
            event = f"{self.grade}:{self.event_on or ''}"
        elif kind == "death":
            event = ""  # one dies once: a corrected date is the same death
        else:
            event = f"{self.event_on}"
        return f"{kind}:{self.id.number}:{event}"


@dataclass
class RowError:
    row: int
    reason: str

    def as_dict(self) -> dict:
        return {"row": self.row, "reason": self.reason}


def check_kind(kind: str | None) -> str:
    """Return the kind, or refuse one Doudi does not know."""
    if kind not in KINDS:
        raise Invalid("请选择名单的种类：医保、残联、死亡或失业登记")
    return kind


def read(path: Path, kind: str) -> tuple[list[SignalRow], list[RowError]]:
    """Return every readable row of the list, and the rows that cannot be read; refuse a file with no header."""
    check_kind(kind)
    columns, rows = _table(Path(path), kind)
    today = today_in_china()
    checked, errors = [], []
    for number, cells in rows:
        try:
            checked.append(_row(kind, number, cells, columns, today))
        except Invalid as error:
            errors.append(RowError(number, f"第 {number} 行：{error.message}"))
    if not checked and not errors:
        raise Invalid("表头下面没有数据行")
    return checked, errors


def _table(path: Path, kind: str) -> tuple[dict[str, int], Iterator[Row]]:
    required = REQUIRED[kind]
    for table in spreadsheets.tables(path, LIMITS):
        head = list(islice(table, HEADER_SEARCH_ROWS))
        found = find_header(head, _ALIASES[kind], required)
        if found is not None:
            index, columns = found
            return columns, rows_at_most(chain(head[index + 1 :], table), MAX_DATA_ROWS, "名单", "按乡镇")
    wanted = "、".join(f"“{LABELS[key]}”" for key in required)
    raise Invalid(f"没有找到{KINDS[kind]}的表头：表头一行应有 {wanted} 等列（是不是选错了名单种类？）")


def _row(kind: str, number: int, cells: list, columns: dict[str, int], today: date) -> SignalRow:
    name = fold(cell(cells, columns, "name"))
    problem = name_problem(name)
    if problem:
        raise Invalid(problem)
    found = SignalRow(row=number, name=name, id=idnumber.parse(cell(cells, columns, "id_number") or ""))
    found.place = "".join(fold(cell(cells, columns, key)) for key in ("township", "village", "address"))[:200]
    if kind == "medical":
        found.event_on = _date(cell(cells, columns, "admitted"), "入院日期", today)
        found.end_on = _date(cell(cells, columns, "discharged"), "出院日期", today, optional=True)
        if found.end_on and found.end_on < found.event_on:
            raise Invalid("出院日期早于入院日期")
        found.self_paid_fen = _fen(cell(cells, columns, "self_paid"), "个人自付")
        total = cell(cells, columns, "total")
        found.total_fen = _fen(total, "医疗总费用") if cell_text(total) else None
        if found.total_fen is not None and found.total_fen < found.self_paid_fen:
            raise Invalid("个人自付大于医疗总费用")
        found.detail = fold(cell(cells, columns, "hospital"))[:100] or None
    elif kind == "disability":
        found.grade = _grade(cell(cells, columns, "grade"))
        found.event_on = _date(cell(cells, columns, "certified"), "发证日期", today, optional=True)
        found.detail = fold(cell(cells, columns, "category"))[:100] or None
    elif kind == "death":
        found.event_on = _date(cell(cells, columns, "died"), "死亡日期", today)
        if found.event_on < found.id.birth_date:
            raise Invalid("死亡日期早于身份证号中的出生日期")
    else:
        found.event_on = _date(cell(cells, columns, "registered"), "失业登记日期", today)
    return found


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def _date(value, label: str, today: date, optional: bool = False) -> date | None:
    """Read a date cell (an Excel date, 2026-03-01, 2026/3/1, 2026年3月1日 or 20260301); no future, none before 1900."""
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        text = unicodedata.normalize("NFKC", cell_text(value)).strip()
        if not text:
            if optional:
                return None
            raise Invalid(f"{label}是空的")
        match = _DATE.match(text) or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
        if not match:
            raise Invalid(f"{label}“{text[:20]}”看不懂：请写成 2026-03-01")
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise Invalid(f"{label}“{text[:20]}”不存在") from None
    if day < EARLIEST or day > today:
        raise Invalid(f"{label} {day.isoformat()} 不合理（不能晚于今天）")
    return day


def _fen(value, label: str) -> int:
    """Read an amount in 元 (full-width digits, commas, 元 allowed) into 分; refuse negatives and typing errors."""
    if isinstance(value, bool):
        raise Invalid(f"{label}不是数字")
    if isinstance(value, int | float):
        text = repr(float(value)) if isinstance(value, float) else str(value)
    else:
        text = unicodedata.normalize("NFKC", cell_text(value)).replace(",", "").replace("元", "").strip()
    if not text:
        raise Invalid(f"{label}是空的")
    if text.startswith("-"):
        raise Invalid(f"{label}不能是负数：{text[:20]}")
    if not re.fullmatch(r"\d{1,12}(\.\d{1,6})?", text):
        raise Invalid(f"{label}“{text[:20]}”不是金额：请写数字，例如 6500 或 6500.50")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise Invalid(f"{label}“{text[:20]}”不是金额") from None
    if amount > MAX_YUAN:
        raise Invalid(f"{label} {text} 元超过 {MAX_YUAN // 10_000} 万元，请核对")
    return int((amount * 100).quantize(Decimal(1)))


def _grade(value) -> int:
    """Read 残疾等级: 一级, 1级, 1, 二级 … 四级."""
    text = unicodedata.normalize("NFKC", cell_text(value)).strip()
    digits = re.sub(r"[级等\s]", "", text)
    grade = GRADE_WORDS.get(digits) or (int(digits) if digits in ("1", "2", "3", "4") else None)
    if grade is None:
        raise Invalid(f"残疾等级“{text[:10]}”看不懂：应为一级到四级")
    return grade
