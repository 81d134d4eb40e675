"""Roster shapes and files: what a checked roster holds, and finding its header whatever the layout."""

import re
import secrets
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import chain, islice
from pathlib import Path

from services.errors import Invalid
from services.registry import idnumber
from services.spreadsheets import read as spreadsheets
from services.spreadsheets.limits import MB
from services.spreadsheets.read import Row

EXTENSIONS = ("xlsx", "csv")
HEADER_SEARCH_ROWS = 30  # rows with content: titles and the header
MAX_DATA_ROWS = 20_000  # below the header; a county splits a bigger roster by township
# 60 columns, 2,000 characters a cell, 50 empty rows end the table: the reader's defaults
LIMITS = spreadsheets.Limits(rows=HEADER_SEARCH_ROWS + MAX_DATA_ROWS)

# Header spellings seen in county rosters; compared after fold (brackets, width and spaces do not matter).
COLUMNS = {
    "serial": ("序号",),
    "township": ("乡镇（街道）", "乡镇", "乡（镇）", "乡镇街道", "乡（镇、街道）"),
    "village": ("村（社区）", "村", "村（居）", "村（居）委会", "村委会", "社区"),
    "head_name": ("户主姓名", "户主"),
    "name": ("成员姓名", "姓名", "家庭成员姓名"),
    "relation": ("与户主关系", "与户主的关系", "关系"),
    "id_number": ("身份证号码", "身份证号", "公民身份号码", "身份证"),
    "categories": ("保障类别", "救助类别", "类别"),
    "amount": ("月保障金额（元）", "月保障金额", "保障金额（元）", "保障金额", "月保障金（元）"),
    "phone": ("联系电话", "电话", "手机号码"),
    "address": ("家庭住址", "住址", "地址"),
}
REQUIRED = ("village", "name", "relation", "id_number")
STORED_NAME = re.compile(r"^[A-Za-z0-9_-]{16,64}\.(xlsx|csv)$")


def fold(value) -> str:
    """Fold full-width characters and drop all spaces, for comparing names and headers."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", cell_text(value)))


def cell_text(value) -> str:
    """Return a cell as text; a whole number Excel stored as a float loses its '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value).strip()


def aliases_for(columns: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Return {folded header spelling: column key} for a table of columns and their spellings."""
    return {fold(name): key for key, names in columns.items() for name in names}


_ALIASES = aliases_for(COLUMNS)


def extension_of(filename: str | None) -> str:
    """Return 'xlsx' or 'csv' for an uploaded file name; refuse anything else in plain words."""
    if not filename:
        raise Invalid("请先选择要导入的花名册文件")
    ext = Path(filename).suffix.lower().lstrip(".")
    if ext == "xls":
        raise Invalid("这是旧版 Excel（.xls）文件：请在 Excel 里“另存为” .xlsx 后再导入")
    if ext not in EXTENSIONS:
        raise Invalid("只能导入 Excel（.xlsx）或 CSV 文件")
    return ext


def display_name(filename: str | None) -> str:
    """Return the file's own name without any folders a browser sent along."""
    return (filename or "").replace("\\", "/").rsplit("/", 1)[-1][:100]


def discard(folder: Path, stored: str) -> None:
    """Delete a stored upload (after import, or when it is replaced or unreadable)."""
    if STORED_NAME.match(stored or ""):
        (folder / stored).unlink(missing_ok=True)


UPLOAD_CHUNK = 1 << 20


def store_upload(stream, filename: str | None, folder: Path, *, limit: int, missing: str, split_by: str) -> str:
    """Store an upload under a random name in `folder`, at most `limit` bytes, and return that name.

    A refused file (none chosen, not .xlsx/.csv, too big, empty) is not kept; `missing` says what to choose and
    `split_by` how to split a file that is too big (按项目, 按乡镇 …).
    """
    if stream is None or not filename:
        raise Invalid(missing)
    ext = extension_of(filename)
    folder.mkdir(parents=True, exist_ok=True)
    stored = f"{secrets.token_urlsafe(16)}.{ext}"
    written = 0
    try:
        with open(folder / stored, "wb") as handle:
            while chunk := stream.read(UPLOAD_CHUNK):
                written += len(chunk)
                if written > limit:
                    raise Invalid(f"文件太大（超过 {max(limit // MB, 1)} MB）：请{split_by}分成几个文件分别导入")
                handle.write(chunk)
        if written == 0:
            raise Invalid("文件是空的")
    except BaseException:
        discard(folder, stored)
        raise
    return stored


def remove_stale_uploads(folder: Path, older_than: timedelta, now: float | None = None) -> dict:
    """Remove uploads never confirmed (an import deletes its own) and .part leftovers older than `older_than`."""
    cutoff = (now if now is not None else time.time()) - older_than.total_seconds()
    removed = {"uploads": {"files": 0, "bytes": 0}, "temporaries": {"files": 0, "bytes": 0}}
    if not Path(folder).is_dir():
        return removed
    for path in Path(folder).iterdir():
        kind = "uploads" if STORED_NAME.match(path.name) else "temporaries" if path.name.endswith(".part") else None
        try:
            stat = path.stat()
            if kind is None or not path.is_file() or stat.st_mtime >= cutoff:
                continue  # not ours, or a preview someone may still confirm
            path.unlink()
        except FileNotFoundError:  # confirmed (and so deleted) while we looked
            continue
        removed[kind]["files"] += 1
        removed[kind]["bytes"] += stat.st_size
    return removed


def read_roster(path: Path) -> tuple[dict[str, int], Iterator[Row]]:
    """Return the header's columns and a stream of the rows below it, from the first table with a roster header."""
    extension_of(path.name)  # the stored name keeps the upload's extension
    for table in spreadsheets.tables(path, LIMITS):
        head = list(islice(table, HEADER_SEARCH_ROWS))
        found = find_header(head)
        if found is not None:
            index, columns = found
            return columns, rows_at_most(chain(head[index + 1 :], table), MAX_DATA_ROWS, "花名册", "按乡镇")
    raise Invalid("没有找到表头：表头一行应有“村（社区）”“成员姓名”“与户主关系”“身份证号码”等列")


def rows_at_most(rows: Iterator[Row], limit: int, what: str, split_by: str) -> Iterator[Row]:
    """Pass the data rows on, refusing the file once it has more than `limit` of them (花名册, 名单 …)."""
    for count, row in enumerate(rows, start=1):
        if count > limit:
            raise Invalid(f"{what}超过 {limit} 行：请{split_by}分成几个文件分别导入")
        yield row


def cell(cells: list, columns: dict[str, int], key: str):
    """Return the row's value in the column found for `key`, or None when the file has no such column."""
    col = columns.get(key)
    return cells[col] if col is not None and col < len(cells) else None


def find_header(
    rows: list[Row], aliases: dict[str, str] = _ALIASES, required: tuple[str, ...] = REQUIRED
) -> tuple[int, dict[str, int]] | None:
    """Return the index of the header row among `rows` and where each known column is, or None.

    The roster's columns by default; other imports (department lists) pass their own aliases_for() and required keys.
    """
    for index, (_row_no, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns = {}
        for col, cell in enumerate(cells):
            key = aliases.get(fold(cell))
            if key and key not in columns:
                columns[key] = col
        if all(key in columns for key in required):
            return index, columns
    return None


# ---- what a checked roster holds ----------------------------------------------------------


@dataclass
class Problem:
    """One row that is not imported: an error, or a member skipped with its bad head."""

    row: int
    code: str
    reason: str
    name: str = ""

    def as_dict(self) -> dict:
        return {"row": self.row, "reason": self.reason, "code": self.code}


@dataclass
class Member:
    """One checked person row."""

    row: int
    name: str
    relation: str
    id: idnumber.IdNumber
    categories: list[str]
    allowance_fen: int | None
    phone: str | None


@dataclass
class Family:
    """A head row and the member rows under it; household_id is set when the head is already registered."""

    area_code: str
    address: str | None
    phone: str | None
    head: Member
    members: list[Member] = field(default_factory=list)
    household_id: int | None = None


@dataclass
class Preview:
    """What importing a roster would do: the families to write and every row left out, with why."""

    file_name: str
    families: list[Family] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    already_present: int = 0

    @property
    def households_to_create(self) -> int:
        return sum(1 for f in self.families if f.household_id is None)

    @property
    def persons_to_create(self) -> int:
        return sum(len(f.members) + (f.household_id is None) for f in self.families)
