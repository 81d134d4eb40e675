"""The bank's 一卡通 result file: find its header under the title rows, and check every row.

One row per payment: 姓名, 身份证号码, 项目, 发放期间, 应发金额, 实发金额, 银行账号, 发放状态 (成功/失败), 失败原因.
Columns are matched by their Chinese names (brackets, width and spaces do not matter); digits may be full-width.
A row that cannot be read is named with its spreadsheet row and why; a file with any such row imports nothing.
"""

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import chain, islice
from pathlib import Path

from services.errors import Invalid
from services.payouts.programs import Period, parse_period, program_code
from services.registry import idnumber
from services.roster.file import cell, cell_text, fold, rows_at_most
from services.spreadsheets import read as spreadsheets
from services.spreadsheets.read import Row

HEADER_SEARCH_ROWS = 30
MAX_DATA_ROWS = 200_000  # a county's month of every program; a bigger file is split by program
LIMITS = spreadsheets.Limits(rows=HEADER_SEARCH_ROWS + MAX_DATA_ROWS, elements=12_000_000, file_bytes=64 * 1024 * 1024)
MAX_FEN = 10_000_000  # 10 万元 in one payment: anything above is a typing error
COLUMNS = {
    "name": ("姓名", "收款人姓名", "户主姓名", "收款人"),
    "id_number": ("身份证号码", "身份证号", "公民身份号码", "身份证", "证件号码"),
    "program": ("项目", "发放项目", "补贴项目", "资金项目", "项目名称"),
    "period": ("发放期间", "发放月份", "所属期间", "期间", "发放年月"),
    "due": ("应发金额（元）", "应发金额", "应发"),
    "paid": ("实发金额（元）", "实发金额", "实发"),
    "account": ("银行账号", "账号", "银行卡号", "一卡通账号", "社保卡号"),
    "status": ("发放状态", "状态", "发放结果"),
    "reason": ("失败原因", "原因", "备注"),
}
REQUIRED = ("name", "id_number", "program", "period", "paid", "status")
LABELS = {"name": "姓名", "id_number": "身份证号码", "program": "项目", "period": "发放期间", "paid": "实发金额",
          "status": "发放状态"}  # fmt: skip
PAID_WORDS = ("成功", "已发放", "已到账", "发放成功", "正常")
FAILED_WORDS = ("失败", "退票", "退回", "未成功", "发放失败")
_ALIASES = {fold(name): key for key, names in COLUMNS.items() for name in names}


@dataclass
class PaymentRow:
    """One checked row of a result file."""

    row: int
    name: str
    id: idnumber.IdNumber
    program: str
    period: Period
    due_fen: int
    paid_fen: int
    account_last4: str | None
    status: str  # paid | failed
    reason: str | None


@dataclass
class RowError:
    row: int
    reason: str

    def as_dict(self) -> dict:
        return {"row": self.row, "reason": self.reason}


def read(path: Path) -> tuple[list[PaymentRow], list[RowError]]:
    """Return every row of the file checked, and the rows that cannot be read; refuse a file with no header."""
    columns, rows = _table(Path(path))
    checked, errors = [], []
    for number, cells in rows:
        try:
            checked.append(_row(number, cells, columns))
        except Invalid as error:
            errors.append(RowError(number, f"第 {number} 行：{_message(error)}"))
    if not checked and not errors:
        raise Invalid("表头下面没有数据行")
    return checked, errors


def _table(path: Path) -> tuple[dict[str, int], Iterator[Row]]:
    best_missing = None
    for table in spreadsheets.tables(path, LIMITS):
        head = list(islice(table, HEADER_SEARCH_ROWS))
        for index, (_number, cells) in enumerate(head):
            columns = {}
            for col, text in enumerate(cells):
                key = _ALIASES.get(fold(text))
                if key and key not in columns:
                    columns[key] = col
            missing = [LABELS[key] for key in REQUIRED if key not in columns]
            if not missing:
                return columns, rows_at_most(chain(head[index + 1 :], table), MAX_DATA_ROWS, "结果文件", "按项目")
            if len(columns) >= 3 and (best_missing is None or len(missing) < len(best_missing)):
                best_missing = missing
    if best_missing:
        raise Invalid(
            "表头缺少这些列：" + "、".join(f"“{m}”" for m in best_missing) + "（请用一卡通平台导出的结果文件）"
        )
    raise Invalid("没有找到表头：表头一行应有“姓名”“身份证号码”“项目”“发放期间”“实发金额”“发放状态”等列")


def _row(number: int, cells: list, columns: dict[str, int]) -> PaymentRow:
    name = fold(cell(cells, columns, "name"))
    if not name:
        raise Invalid("姓名是空的")
    if len(name) > 64:
        raise Invalid("姓名太长")
    id_number = idnumber.parse(cell(cells, columns, "id_number") or "")
    raw_program = cell(cells, columns, "program")
    program = program_code(raw_program)
    if program is None:
        raise Invalid(f"项目“{cell_text(raw_program)[:20]}”不是市里设的补贴项目")
    period = parse_period(cell(cells, columns, "period"))
    status = _status(cell(cells, columns, "status"))
    paid = _fen(cell(cells, columns, "paid"), "实发金额")
    due_cell = cell(cells, columns, "due")
    due = _fen(due_cell, "应发金额") if cell_text(due_cell) else paid
    reason = fold(cell(cells, columns, "reason"))[:200] or None
    return PaymentRow(
        row=number,
        name=name,
        id=id_number,
        program=program,
        period=period,
        due_fen=due,
        paid_fen=paid if status == "paid" else 0,
        account_last4=_last4(cell(cells, columns, "account")),
        status=status,
        reason=(reason or "银行未说明原因") if status == "failed" else None,
    )


def _status(value) -> str:
    text = fold(value)
    if any(word in text for word in FAILED_WORDS):
        return "failed"
    if any(word in text for word in PAID_WORDS):
        return "paid"
    raise Invalid(f"发放状态“{text[:10]}”看不懂：应为“成功”或“失败”")


def _fen(value, label: str) -> int:
    """Read an amount in 元 (full-width digits, commas, 元 allowed) into 分; refuse negatives and typing errors."""
    if isinstance(value, bool):
        raise Invalid(f"{label}不是数字")
    if isinstance(value, int | float):
        text = repr(float(value)) if isinstance(value, float) else str(value)
    else:
        text = unicodedata.normalize("NFKC", cell_text(value)).replace(",", "").replace("元", "").strip()
    if text.startswith("-"):
        raise Invalid(f"{label}不能是负数：{text}")
    if not re.fullmatch(r"\d{1,12}(\.\d+)?", text):
        raise Invalid(f"{label}“{text[:20]}”不是金额：请写数字，例如 600 或 600.50")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise Invalid(f"{label}“{text[:20]}”不是金额") from None
    fen = amount * 100
    if abs(fen - fen.to_integral_value()) > Decimal("0.000001"):  # more than a float's noise: a third decimal
        raise Invalid(f"{label}最多保留两位小数（到分）")
    fen = int(fen.to_integral_value())
    if fen > MAX_FEN:
        raise Invalid(f"{label} {text} 元超过一笔 10 万元，请核对")
    return fen


def _last4(value) -> str | None:
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", cell_text(value)))
    return digits[-4:] or None


def _message(error: Invalid) -> str:
    return error.message
