"""The statistics table (附表) as an .xlsx workbook, from a campaign's statistics, printable on A4 landscape.

Two sheets, set by the same functions from their own column lists (statistics_columns.py): 统计表 (排查情况,
对象类别, 发现问题, 解决情况) and 主动发现. Each has one row per child area (the area itself for a village) and
a 合计 row under its headers, the groups merged across their columns; every page repeats the headers and
holds ROWS_PER_PAGE rows. 主动发现 is a sheet of its own so that both print legibly one page wide.
"""

from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from services.campaigns.statistics_columns import (
    DISCOVERY_COLUMNS,
    STATISTICS_COLUMNS,
    TOTAL_LABEL,
    Column,
    header_blocks,
    header_depth,
)
from services.campaigns.stats import AreaStats, Statistics
from services.clock import CHINA, china_time

TITLE = "临沧市加强困难群众兜底保障工作情况统计表"
DISCOVERY_TITLE = "临沧市加强困难群众兜底保障工作主动发现情况统计表"
FIRST_HEADER_ROW = 3  # rows 1–2 are the title and the subtitle
ROWS_PER_PAGE = 20
FONT = "宋体"
GROUP_HEIGHT = 22  # points, a header row of one line

THIN = Side(style="thin")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTRED = Alignment(horizontal="center", vertical="center", wrap_text=True)


@dataclass(frozen=True)
class Sheet:
    """One sheet of the workbook: its name, its title, its columns, and the sizes that let it print legibly."""

    name: str
    title: str
    columns: list[Column]
    area_width: float  # Excel's units (about 7 px)
    label_height: float  # points, the bottom header row
    row_height: float  # points
    one_line_names: bool = False  # widen 地区 to the longest name instead of wrapping it

    @property
    def first_row(self) -> int:
        return FIRST_HEADER_ROW + header_depth(self.columns)

    @property
    def last_column(self) -> str:
        return get_column_letter(len(self.columns) + 1)

    def name_width(self, names: list[str]) -> float:
        """Return 地区's width: its own, or wide enough that no name wraps (a 10 pt character is about 2 units)."""
        if not self.one_line_names:
            return self.area_width
        return max(self.area_width, max(len(name) for name in names) * 2 + 1.5)


# 37 columns: shrunk to fit the page's width they print at about 58 %, so a header wraps to three lines
# and 双江拉祜族佤族布朗族傣族自治县 to two; 20 rows of 26 points still fit a page.
STATISTICS = Sheet("统计表", TITLE, STATISTICS_COLUMNS, area_width=16, label_height=56, row_height=26)
# 12 columns print at full size, so 20 rows must fit a page unshrunk: one line each (17 points; the first page
# then holds 464 of the 487 points between the margins), names unwrapped.
DISCOVERY = Sheet(
    "主动发现", DISCOVERY_TITLE, DISCOVERY_COLUMNS, area_width=12, label_height=22, row_height=17, one_line_names=True
)
SHEETS = (STATISTICS, DISCOVERY)


def build(stats: Statistics, made_at: datetime | None = None) -> bytes:
    """Return the workbook's bytes: both sheets, each with the title, the headers, the rows and 合计."""
    workbook = Workbook()
    workbook.properties.title = TITLE
    workbook.remove(workbook.active)
    made_at = made_at or datetime.now(CHINA)
    for sheet in SHEETS:
        _write(workbook.create_sheet(sheet.name), sheet, stats, made_at)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write(worksheet: Worksheet, sheet: Sheet, stats: Statistics, made_at: datetime) -> None:
    """Write one sheet: the title block, the headers, a row per child area, the bold 合计 row, the print setup."""
    rows = [(row.name, row) for row in stats.children or [stats.total]]
    rows.append((TOTAL_LABEL, stats.total))
    _title(worksheet, sheet, stats, made_at)
    _headers(worksheet, sheet, rows)
    for offset, (name, row) in enumerate(rows):
        _figures(worksheet, sheet, sheet.first_row + offset, name, row, bold=offset == len(rows) - 1)
    _print_setup(worksheet, sheet, body_rows=len(rows))


def subtitle(stats: Statistics, made_at: datetime) -> str:
    """Return the line under the title: campaign, its window, the area and when the table was made."""
    campaign = stats.campaign
    window = f"{_day(campaign.start_date)}至{_day(campaign.end_date)}"
    local = china_time(made_at)
    made = f"{_day(local)} {local:%H:%M}"
    return f"专项：{campaign.name}（{window}）    地区：{stats.area.name}    制表时间：{made}"


def _day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _title(worksheet: Worksheet, sheet: Sheet, stats: Statistics, made_at: datetime) -> None:
    """Write the merged title row and the subtitle row."""
    for row, text, font, height in (
        (1, sheet.title, Font(name=FONT, size=18, bold=True), 36),
        (2, subtitle(stats, made_at), Font(name=FONT, size=11), 22),
    ):
        cell = worksheet.cell(row, 1, text)
        cell.font, cell.alignment = font, Alignment(horizontal="center", vertical="center")
        worksheet.merge_cells(f"A{row}:{sheet.last_column}{row}")
        worksheet.row_dimensions[row].height = height


def _headers(worksheet: Worksheet, sheet: Sheet, rows: list[tuple[str, AreaStats]]) -> None:
    """Write the header blocks (地区 merged down, each group across its columns), the widths and heights."""
    for block in header_blocks(sheet.columns):
        top, bottom = FIRST_HEADER_ROW + block.top, FIRST_HEADER_ROW + block.bottom
        _header_cell(worksheet, top, block.left + 1, block.text)
        if (top, block.left) != (bottom, block.right):  # openpyxl copies the border to the block's edges
            worksheet.merge_cells(
                start_row=top, start_column=block.left + 1, end_row=bottom, end_column=block.right + 1
            )
    worksheet.column_dimensions["A"].width = sheet.name_width([name for name, _row in rows])
    figures = [row for _name, row in rows]
    for index, column in enumerate(sheet.columns, start=2):
        worksheet.column_dimensions[get_column_letter(index)].width = column.width_for(figures)
    for row in range(FIRST_HEADER_ROW, sheet.first_row - 1):
        worksheet.row_dimensions[row].height = GROUP_HEIGHT
    worksheet.row_dimensions[sheet.first_row - 1].height = sheet.label_height
    worksheet.freeze_panes = f"B{sheet.first_row}"


def _header_cell(worksheet: Worksheet, row: int, column: int, text: str | None) -> None:
    cell = worksheet.cell(row, column, text)
    cell.font, cell.alignment, cell.border = Font(name=FONT, size=10, bold=True), CENTRED, BORDER


def _figures(worksheet: Worksheet, sheet: Sheet, row: int, name: str, stats: AreaStats, bold: bool) -> None:
    """Write one area's row: its name, then every figure in its number format."""
    font = Font(name=FONT, size=10, bold=bold)
    cell = worksheet.cell(row, 1, name)
    cell.font, cell.alignment, cell.border = font, CENTRED, BORDER
    for index, column in enumerate(sheet.columns, start=2):
        cell = worksheet.cell(row, index, column.value(stats))
        cell.font, cell.number_format, cell.border = font, column.number_format, BORDER
        cell.alignment = Alignment(horizontal="right", vertical="center")
    worksheet.row_dimensions[row].height = sheet.row_height


def _print_setup(worksheet: Worksheet, sheet: Sheet, body_rows: int) -> None:
    """A4 landscape, one page wide, headers on every page, a page per ROWS_PER_PAGE rows, 第 N 页 共 M 页."""
    setup = worksheet.page_setup
    setup.paperSize, setup.orientation = worksheet.PAPERSIZE_A4, worksheet.ORIENTATION_LANDSCAPE
    setup.fitToWidth, setup.fitToHeight = 1, 0  # as many pages tall as the rows need
    setup.firstPageNumber, setup.useFirstPageNumber = 1, True  # each sheet is numbered from 1, not on from the last
    worksheet.sheet_properties.pageSetUpPr.fitToPage = True
    worksheet.page_margins = PageMargins(left=0.25, right=0.25, top=0.75, bottom=0.75, header=0.3, footer=0.3)
    worksheet.print_options.horizontalCentered = True
    worksheet.print_title_rows = f"{FIRST_HEADER_ROW}:{sheet.first_row - 1}"
    last_row = sheet.first_row + body_rows - 1
    worksheet.print_area = f"A1:{sheet.last_column}{last_row}"
    for done in range(ROWS_PER_PAGE, body_rows, ROWS_PER_PAGE):
        worksheet.row_breaks.append(Break(id=sheet.first_row - 1 + done))  # the page ends after this row
    # the pages are counted here: LibreOffice's &N counts the whole workbook's, both sheets together
    pages = -(-body_rows // ROWS_PER_PAGE)
    worksheet.oddFooter.center.text = f"第 &P 页 共 {pages} 页"
    worksheet.oddFooter.center.font = f"{FONT},Regular"
    worksheet.oddFooter.center.size = 9
