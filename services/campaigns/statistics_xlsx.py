"""The statistics table (附表) as an .xlsx workbook, from a campaign's statistics, printable on A4 landscape.

One row per child area (the area itself for a village) and a 合计 row; two header rows, the groups merged
across their columns. Every page repeats the headers and holds ROWS_PER_PAGE rows.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from services.campaigns.discovery_stats import OUTCOMES
from services.campaigns.stats import NEED_COLUMNS, TABLE_CATEGORIES, AreaStats, Statistics
from services.clock import CHINA, china_time
from services.registry.categories import CATEGORIES
from services.visits.rules import NEED_TYPES

TITLE = "临沧市加强困难群众兜底保障工作情况统计表"
AREA_HEADER = "地区"
TOTAL_LABEL = "合计"
DISCOVERY = "主动发现（个）"
GROUP_ROW, LABEL_ROW, FIRST_ROW = 3, 4, 5  # rows 1–2 are the title and the subtitle
ROWS_PER_PAGE = 20
FONT = "宋体"
COUNT, PERCENT, YUAN = "#,##0", "0.0%", "#,##0.00"
WIDE = 8  # a city's 合计 of persons reaches "123,456"
AREA_WIDTH = 16  # 双江拉祜族佤族布朗族傣族自治县 wraps to two lines
HEADER_HEIGHT, ROW_HEIGHT = 56, 26  # points: a header wraps to three lines, an area's name to two

THIN = Side(style="thin")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTRED = Alignment(horizontal="center", vertical="center", wrap_text=True)


@dataclass(frozen=True)
class Column:
    """One column of figures: its group header, its own header and how to read it from a row."""

    group: str
    label: str
    value: Callable[[AreaStats], float]
    number_format: str = COUNT
    width: float = 6  # at least, in Excel's units (about 7 px): 6 holds "12,345" in 宋体 10 pt

    def width_for(self, rows: list[AreaStats]) -> float:
        """Return a width that shows every row's figure: Excel prints ### for a number that does not fit."""
        shown = {COUNT: "{:,.0f}", PERCENT: "{:.1%}", YUAN: "{:,.2f}"}[self.number_format]
        longest = max(len(shown.format(self.value(row))) for row in rows)
        # a bold 宋体 digit is about 7 px, plus margins; shrunk to fit the page (under half size with 48 columns)
        # LibreOffice rounds the glyphs up, so 1.05 a digit printed ### in the 合计 row
        return max(self.width, round(longest * 1.1 + 1, 1))


def _columns() -> list[Column]:
    """Return the figure columns, left to right."""
    screening = "排查情况"
    columns = [
        Column(screening, "应排查户数", lambda s: s.tally.households_due, width=WIDE),
        Column(screening, "应排查人数", lambda s: s.tally.persons_due, width=WIDE),
        Column(screening, "已排查户数", lambda s: s.tally.households_visited, width=WIDE),
        Column(screening, "已排查人数", lambda s: s.tally.persons_visited, width=WIDE),
        Column(screening, "排查率", lambda s: s.tally.rate, PERCENT, 7.5),
    ]
    kinds = "对象类别（人）"
    columns += [
        Column(kinds, CATEGORIES[c], lambda s, c=c: s.persons_by_category.get(c, 0), width=WIDE if c == "dibao" else 6)
        for c in TABLE_CATEGORIES
    ]
    columns.append(Column(kinds, "机构人员", lambda s: s.tally.institution_persons))
    found = "发现问题（个）"
    columns.append(Column(found, "合计", lambda s: s.needs_found))
    columns += [Column(found, NEED_TYPES[t], lambda s, t=t: s.needs_by_type.get(t, 0), width=5.5) for t in NEED_COLUMNS]
    done = "解决情况"
    columns += [
        Column(done, "已解决（个）", lambda s: s.needs_resolved),
        Column(done, "纳入低保", lambda s: s.dibao_included, width=5.5),
        Column(done, "临时救助（人次）", lambda s: s.relief_count),
        Column(done, "临时救助金额（元）", lambda s: s.relief_fen / 100, YUAN, 13),  # "12,345,678.90"
        Column(done, "签订照料协议（户）", lambda s: s.tally.care_agreements),
        Column(done, "转集中供养", lambda s: s.moved_to_institution, width=5.5),
    ]
    return [
        *columns,
        Column(DISCOVERY, "发出预警", lambda s: s.alerts_raised, width=5.5),
        Column(DISCOVERY, "已核实", lambda s: s.alerts_checked, width=5.5),
        *(Column(DISCOVERY, label, lambda s, o=o: s.outcomes.get(o, 0), width=5.5) for o, label in OUTCOMES.items()),
        Column(DISCOVERY, "未核实", lambda s: s.alerts_waiting, width=5.5),
        Column(DISCOVERY, "其中逾期", lambda s: s.alerts_overdue, width=5.5),
        Column(DISCOVERY, "待核实对象", lambda s: s.candidates_found, width=5.5),
    ]


COLUMNS = _columns()
LAST_COLUMN = get_column_letter(len(COLUMNS) + 1)


def build(stats: Statistics, made_at: datetime | None = None) -> bytes:
    """Return the workbook's bytes: the title, the headers, one row per child area and the 合计 row."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "统计表"
    workbook.properties.title = TITLE
    _title(sheet, stats, made_at or datetime.now(CHINA))
    rows = [(row.name, row) for row in stats.children or [stats.total]]
    _headers(sheet, [row for _name, row in rows] + [stats.total])
    for offset, (name, row) in enumerate([*rows, (TOTAL_LABEL, stats.total)]):
        _figures(sheet, FIRST_ROW + offset, name, row, bold=offset == len(rows))
    _print_setup(sheet, body_rows=len(rows) + 1)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def subtitle(stats: Statistics, made_at: datetime) -> str:
    """Return the line under the title: campaign, its window, the area and when the table was made."""
    campaign = stats.campaign
    window = f"{_day(campaign.start_date)}至{_day(campaign.end_date)}"
    local = china_time(made_at)
    made = f"{_day(local)} {local:%H:%M}"
    return f"专项：{campaign.name}（{window}）    地区：{stats.area.name}    制表时间：{made}"


def _day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _title(sheet: Worksheet, stats: Statistics, made_at: datetime) -> None:
    """Write the merged title row and the subtitle row."""
    for row, text, font, height in (
        (1, TITLE, Font(name=FONT, size=18, bold=True), 36),
        (2, subtitle(stats, made_at), Font(name=FONT, size=11), 22),
    ):
        cell = sheet.cell(row, 1, text)
        cell.font, cell.alignment = font, Alignment(horizontal="center", vertical="center")
        sheet.merge_cells(f"A{row}:{LAST_COLUMN}{row}")
        sheet.row_dimensions[row].height = height


def _headers(sheet: Worksheet, rows: list[AreaStats]) -> None:
    """Write 地区 (merged down two rows), each group merged across its columns, the column headers, the widths."""
    _merged_header(sheet, AREA_HEADER, GROUP_ROW, 1, LABEL_ROW, 1)
    sheet.column_dimensions["A"].width = AREA_WIDTH
    first = 2
    for index, column in enumerate(COLUMNS, start=2):
        _header_cell(sheet, LABEL_ROW, index, column.label)
        sheet.column_dimensions[get_column_letter(index)].width = column.width_for(rows)
        if index - 1 == len(COLUMNS) or COLUMNS[index - 1].group != column.group:  # the group's last column
            _merged_header(sheet, column.group, GROUP_ROW, first, GROUP_ROW, index)
            first = index + 1
    sheet.row_dimensions[GROUP_ROW].height = 22
    sheet.row_dimensions[LABEL_ROW].height = HEADER_HEIGHT
    sheet.freeze_panes = f"B{FIRST_ROW}"


def _merged_header(sheet: Worksheet, text: str, top: int, left: int, bottom: int, right: int) -> None:
    """Write a header and merge it over a block; openpyxl copies its border to the block's edges."""
    _header_cell(sheet, top, left, text)
    sheet.merge_cells(start_row=top, start_column=left, end_row=bottom, end_column=right)


def _header_cell(sheet: Worksheet, row: int, column: int, text: str | None) -> None:
    cell = sheet.cell(row, column, text)
    cell.font, cell.alignment, cell.border = Font(name=FONT, size=10, bold=True), CENTRED, BORDER


def _figures(sheet: Worksheet, row: int, name: str, stats: AreaStats, bold: bool) -> None:
    """Write one area's row: its name, then every figure in its number format."""
    font = Font(name=FONT, size=10, bold=bold)
    cell = sheet.cell(row, 1, name)
    cell.font, cell.alignment, cell.border = font, CENTRED, BORDER
    for index, column in enumerate(COLUMNS, start=2):
        cell = sheet.cell(row, index, column.value(stats))
        cell.font, cell.number_format, cell.border = font, column.number_format, BORDER
        cell.alignment = Alignment(horizontal="right", vertical="center")
    sheet.row_dimensions[row].height = ROW_HEIGHT


def _print_setup(sheet: Worksheet, body_rows: int) -> None:
    """A4 landscape, one page wide, headers on every page, a page per ROWS_PER_PAGE rows, 第 N 页 共 M 页."""
    setup = sheet.page_setup
    setup.paperSize, setup.orientation = sheet.PAPERSIZE_A4, sheet.ORIENTATION_LANDSCAPE
    setup.fitToWidth, setup.fitToHeight = 1, 0  # as many pages tall as the rows need
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins = PageMargins(left=0.25, right=0.25, top=0.75, bottom=0.75, header=0.3, footer=0.3)
    sheet.print_options.horizontalCentered = True
    sheet.print_title_rows = f"{GROUP_ROW}:{LABEL_ROW}"
    last_row = FIRST_ROW + body_rows - 1
    sheet.print_area = f"A1:{LAST_COLUMN}{last_row}"
    for done in range(ROWS_PER_PAGE, body_rows, ROWS_PER_PAGE):
        sheet.row_breaks.append(Break(id=FIRST_ROW - 1 + done))  # the page ends after this row
    sheet.oddFooter.center.text = "第 &P 页 共 &N 页"
    sheet.oddFooter.center.font = f"{FONT},Regular"
    sheet.oddFooter.center.size = 9
