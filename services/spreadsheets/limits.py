"""What one import may read of a file, and the counting that holds a table to it."""

from dataclasses import dataclass

from services.errors import Invalid

MB = 1024 * 1024
UNREADABLE = "文件打不开：请确认是 Excel（.xlsx）或 CSV 文件，可在 Excel 里重新“另存为”后再导入"


@dataclass(frozen=True)
class Limits:
    """How much of one file an import reads: past a limit the file is refused with a message, never cut short."""

    rows: int = 20_000  # rows with content, titles and header included
    columns: int = 60
    cell_chars: int = 2_000
    blank_run: int = 50  # this many empty rows in a row end a table: what follows them is not read
    file_bytes: int = 32 * MB  # the file as given (the command line has no upload limit)
    elements: int = 1_500_000  # XML elements in a whole workbook (a 20,000-row roster has 0.7 M): bounds its time
    sheet_bytes: int = 256 * MB  # a worksheet (or the styles) unpacked; streamed, so memory does not grow with it
    part_bytes: int = 8 * MB  # a part held whole once read (shared strings, the workbook), unpacked


class End(Exception):
    """Raised while reading to end a table (after a run of empty rows)."""


class Budget:
    """Count one table's rows against the limits; end the table after a run of empty rows."""

    def __init__(self, limits: Limits):
        self.limits, self.content_rows, self.blank, self.started, self.last = limits, 0, 0, False, 0

    def admit(self, number: int, cells: list) -> bool:
        """Return whether a finished row is handed out (it has content); raise End once the table is over."""
        if self.started:
            self.blank += max(0, number - self.last - 1)  # rows a workbook leaves out are empty too
        self.last = number
        if not any(cell is not None for cell in cells):
            self.blank += 1
            if self.blank >= self.limits.blank_run:
                raise End
            return False
        if self.started and self.blank >= self.limits.blank_run:
            raise End
        self.content_rows, self.blank, self.started = self.content_rows + 1, 0, True
        if self.content_rows > self.limits.rows:
            raise Invalid(f"表格超过 {self.limits.rows} 行：请分成几个文件分别导入")
        return True

    def check_length(self, number: int, column: int, length: int) -> None:
        """Refuse a cell longer than the limit."""
        if length > self.limits.cell_chars:
            raise Invalid(f"第 {number} 行第 {column} 列的内容超过 {self.limits.cell_chars} 个字，请删减后再导入")

    def check_column(self, number: int, column: int) -> None:
        """Refuse content right of the last column allowed."""
        if column > self.limits.columns:
            raise Invalid(f"第 {number} 行有内容超出了第 {self.limits.columns} 列：请删去表格右边多余的列后再导入")
