"""Read an uploaded .xlsx or .csv as tables of (row number, cells), streaming, within Limits.

Every import of someone else's file (rosters now; payouts and signals next) reads through tables() or
rows(): rows without content are left out, empty cells are None, and a file past a limit is refused in
plain Chinese (services.errors.Invalid) as soon as the reading reaches the excess.
"""

import codecs
import csv
from collections.abc import Iterator
from pathlib import Path

from services.errors import Invalid
from services.spreadsheets.limits import MB, UNREADABLE, Budget, End, Limits
from services.spreadsheets.workbook import workbook_tables

__all__ = ["UNREADABLE", "Limits", "Row", "rows", "tables"]

Row = tuple[int, list]
CHUNK = 64 * 1024
DEFAULT = Limits()


def tables(path: Path, limits: Limits = DEFAULT) -> Iterator[Iterator[Row]]:
    """Yield each table of the file (every worksheet of a workbook, or the CSV) as a stream of rows."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise Invalid("文件是空的")
    if size > limits.file_bytes:
        raise Invalid(f"文件太大（超过 {limits.file_bytes // MB} MB）：请分成几个文件分别导入")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield _guarded(_csv_rows(path, limits))
    elif suffix == ".xlsx":
        for table in _guarded(workbook_tables(path, limits)):
            yield _guarded(table)
    else:
        raise Invalid("只能导入 Excel（.xlsx）或 CSV 文件")


def rows(path: Path, limits: Limits = DEFAULT) -> Iterator[Row]:
    """Return the rows of the file's first table."""
    for table in tables(path, limits):
        return table
    return iter(())


def _guarded(stream: Iterator) -> Iterator:
    """Pass a stream on, turning whatever a broken file raises into one plain refusal."""
    try:
        yield from stream
    except Invalid:
        raise
    except Exception as error:  # zipfile, expat, csv and codecs raise many kinds for a broken or renamed file
        raise Invalid(UNREADABLE) from error


def _csv_rows(path: Path, limits: Limits) -> Iterator[Row]:
    budget = Budget(limits)
    line_chars = limits.columns * (limits.cell_chars + 3)
    with open(path, encoding=_csv_encoding(path), newline="") as text:

        def lines() -> Iterator[str]:
            while line := text.readline(line_chars):  # a line is never held longer than this
                if len(line) == line_chars and not line.endswith(("\n", "\r")):
                    raise Invalid(f"文件里有一行超过 {line_chars} 个字：请检查这是不是要导入的表格")
                yield line

        try:
            for number, raw in enumerate(csv.reader(lines()), start=1):
                cells = [cell if cell.strip() else None for cell in raw]
                while cells and cells[-1] is None:
                    cells.pop()
                if len(cells) > limits.columns:
                    budget.check_column(number, len(cells))
                for column, cell in enumerate(cells, start=1):
                    if cell is not None:
                        budget.check_length(number, column, len(cell))
                if budget.admit(number, cells):
                    yield number, cells
        except End:
            return


def _csv_encoding(path: Path) -> str:
    """Return utf-8-sig if the whole file decodes as UTF-8, else gb18030 (Excel on Chinese Windows saves GBK)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"
