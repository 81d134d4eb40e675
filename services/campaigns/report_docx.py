"""A county's work report as a Word document: the four parts in 公文 style, then the statistics tables (附表).

Chinese text needs its font named in w:eastAsia: python-docx's font.name sets only the Latin fonts, and
the default template's theme fonts (minorEastAsia …) would otherwise win, so both are set by hand here.
"""

from datetime import date
from io import BytesIO

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from models import Area, Campaign
from services.campaigns.statistics_columns import (
    COUNT,
    DISCOVERY_COLUMNS,
    PERCENT,
    STATISTICS_COLUMNS,
    TOTAL_LABEL,
    YUAN,
    Column,
    header_blocks,
    header_depth,
)
from services.campaigns.stats import AreaStats, Statistics
from services.campaigns.work_report_draft import chinese_date, window_text

LATIN = "Times New Roman"
BODY_FONT, HEADING_FONT, TITLE_FONT, TABLE_FONT = "仿宋", "黑体", "宋体", "宋体"
HEADINGS = ("一、对象基本情况", "二、解决措施", "三、存在困难", "四、下步工作建议")
PART_KEYS = ("basic_situation", "measures", "difficulties", "suggestions")
BODY_PT, LINE_PT = 16, 28  # 三号 body on a fixed 28-point line, as government documents are set
# 37 columns fit a landscape page only at 6.5 points; the 主动发现 table's 12 take 五号 (10.5 points)
TABLE_PT, DISCOVERY_PT = 6.5, 10.5
DISCOVERY_HEADING = "主动发现情况统计表"
THEME_ATTRIBUTES = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")


SHOWN = {COUNT: "{:.0f}", PERCENT: "{:.1%}", YUAN: "{:.2f}"}  # no thousands commas: the columns are narrow
TABLE_WIDTH_CM, NAME_WIDTH_CM = 27.3, 1.6  # landscape A4 less 1.2 cm margins; 地区 gets two characters a line
DISCOVERY_NAME_CM = 3.6  # 地区 in 10.5 points: 博尚镇（未分到村） on one line


def _widths_cm(columns: list[Column], name_cm: float = NAME_WIDTH_CM) -> list[float]:
    """Share the page's width among the columns as the .xlsx does among its own."""
    total = sum(column.width for column in columns)
    return [column.width * (TABLE_WIDTH_CM - name_cm) / total for column in columns]


def _shown(column: Column, row: AreaStats) -> str:
    return SHOWN.get(column.number_format, "{}").format(column.value(row))


def title_of(area: Area) -> str:
    """Return the report's title."""
    return f"{area.name}加强困难群众兜底保障工作情况报告"


def build(
    area: Area, campaign: Campaign, parts: dict[str, str], stats: Statistics, *, dated: date, table_note: str
) -> bytes:
    """Return the .docx bytes: title, the four parts, the signature, then the table in a landscape section."""
    document = Document()
    _styles(document)
    _portrait(document.sections[0])
    _page_numbers(document.sections[0])
    document.core_properties.title = title_of(area)
    document.core_properties.author = f"{area.name}民政局"
    _paragraph(document, title_of(area), "报告标题")
    _paragraph(document, f"（{campaign.name}，{window_text(campaign.start_date, campaign.end_date)}）", "报告副题")
    for heading, key in zip(HEADINGS, PART_KEYS, strict=True):
        document.add_paragraph(heading, style="Heading 1")
        lines = [line.strip() for line in (parts.get(key) or "").splitlines() if line.strip()]
        for line in lines or ["（未填写）"]:
            document.add_paragraph(line, style="Normal")
    _paragraph(document, f"{area.name}民政局", "落款").paragraph_format.space_before = Pt(LINE_PT * 2)
    _paragraph(document, chinese_date(dated), "落款")
    _table_section(document, area, campaign, stats, table_note)
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _set_fonts(rpr_parent, east_asia: str, latin: str = LATIN) -> None:
    """Name the Latin and the East-Asian font on a style's or the defaults' run properties."""
    rpr = rpr_parent.get_or_add_rPr() if hasattr(rpr_parent, "get_or_add_rPr") else rpr_parent.find(qn("w:rPr"))
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attribute in THEME_ATTRIBUTES:  # a theme font outranks a named one in the same element
        fonts.attrib.pop(qn(attribute), None)
    for attribute, value in (("w:ascii", latin), ("w:hAnsi", latin), ("w:eastAsia", east_asia), ("w:cs", latin)):
        fonts.set(qn(attribute), value)


def _styles(document) -> None:
    """Set the defaults, Normal (仿宋), Heading 1 (黑体) and the report's own paragraph styles."""
    defaults = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))
    _set_fonts(defaults, BODY_FONT)
    language = defaults.find(qn("w:rPr")).find(qn("w:lang"))
    language.set(qn("w:eastAsia"), "zh-CN")
    language.set(qn("w:val"), "zh-CN")
    normal = document.styles["Normal"]
    _set_fonts(normal.element, BODY_FONT)
    normal.font.size = Pt(BODY_PT)
    _line(normal.paragraph_format, first_line=True)
    normal.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    heading = document.styles["Heading 1"]
    _set_fonts(heading.element, HEADING_FONT)
    heading.font.size, heading.font.bold = Pt(BODY_PT), False
    heading.font.color.rgb = RGBColor(0, 0, 0)
    _line(heading.paragraph_format, first_line=True)
    _own_style(document, "报告标题", TITLE_FONT, 22, WD_ALIGN_PARAGRAPH.CENTER, bold=True).space_after = Pt(6)
    _own_style(document, "报告副题", BODY_FONT, BODY_PT, WD_ALIGN_PARAGRAPH.CENTER).space_after = Pt(LINE_PT)
    _own_style(document, "落款", BODY_FONT, BODY_PT, WD_ALIGN_PARAGRAPH.RIGHT).right_indent = Pt(BODY_PT * 2)
    _own_style(document, "附表标记", HEADING_FONT, 12, WD_ALIGN_PARAGRAPH.LEFT)
    _own_style(document, "附表标题", TITLE_FONT, 15, WD_ALIGN_PARAGRAPH.CENTER, bold=True).space_after = Pt(4)
    _own_style(document, "附表说明", TABLE_FONT, 9, WD_ALIGN_PARAGRAPH.LEFT).space_after = Pt(4)
    _own_style(document, "附表", TABLE_FONT, TABLE_PT, WD_ALIGN_PARAGRAPH.CENTER)
    _own_style(document, "主动发现表", TABLE_FONT, DISCOVERY_PT, WD_ALIGN_PARAGRAPH.CENTER)


def _line(paragraph_format, first_line: bool) -> None:
    paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    paragraph_format.line_spacing = Pt(LINE_PT)
    paragraph_format.space_before = paragraph_format.space_after = Pt(0)
    paragraph_format.first_line_indent = Pt(BODY_PT * 2) if first_line else Pt(0)  # 首行缩进两字


def _own_style(document, name: str, font: str, size: float, alignment, bold: bool = False):
    """Add a paragraph style on Normal with its own font and size, single-spaced; return its paragraph format."""
    style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = document.styles["Normal"]
    _set_fonts(style.element, font)
    style.font.size, style.font.bold = Pt(size), bold
    layout = style.paragraph_format
    layout.alignment = alignment
    layout.first_line_indent = Pt(0)
    layout.line_spacing_rule = WD_LINE_SPACING.SINGLE
    layout.space_before = layout.space_after = Pt(0)
    return layout


def _paragraph(document, text: str, style: str):
    return document.add_paragraph(text, style=style)


def _portrait(section) -> None:
    """A4 portrait with the margins of a government document (GB/T 9704)."""
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)


def _page_numbers(section) -> None:
    """Put — N — at the foot of every page."""
    paragraph = section.footer.paragraphs[0]
    paragraph.style = "附表说明"
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run("— ")
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        elif text == "PAGE":
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = " PAGE "
        else:
            element = OxmlElement("w:t")
            element.text = text
        run._r.append(element)
    paragraph.add_run(" —")


def _table_section(document, area: Area, campaign: Campaign, stats: Statistics, note: str) -> None:
    """Start a landscape A4 section and set the statistics table in it, then the 主动发现 table."""
    section = document.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21)
    section.top_margin = section.bottom_margin = Cm(1.5)
    section.left_margin = section.right_margin = Cm(1.2)
    _paragraph(document, "附表", "附表标记")
    _paragraph(document, f"{area.name}{campaign.name}统计表", "附表标题")
    _paragraph(document, f"填报单位：{area.name}民政局　　{note}", "附表说明")
    _table(document, STATISTICS_COLUMNS, stats, "附表", [NAME_WIDTH_CM, *_widths_cm(STATISTICS_COLUMNS)])
    heading = _paragraph(document, f"{area.name}{campaign.name}{DISCOVERY_HEADING}", "附表标题")
    heading.paragraph_format.space_before = Pt(12)
    heading.paragraph_format.keep_with_next = True
    widths = [DISCOVERY_NAME_CM, *_widths_cm(DISCOVERY_COLUMNS, DISCOVERY_NAME_CM)]
    _table(document, DISCOVERY_COLUMNS, stats, "主动发现表", widths)


def _table(document, columns: list[Column], stats: Statistics, style: str, widths: list[float]) -> None:
    """Add a table: its header rows, a row per child area, the bold 合计 row, the columns' widths."""
    rows = [*stats.children, stats.total]
    depth = header_depth(columns)
    table = document.add_table(rows=depth + len(rows), cols=1 + len(columns))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _narrow_cell_margins(table)
    _header(table, columns, style)
    for index, row in enumerate(rows, start=depth):
        is_total = row is stats.total
        values = [TOTAL_LABEL if is_total else row.name, *(_shown(column, row) for column in columns)]
        for cell, value in zip(table.rows[index].cells, values, strict=True):
            _cell_text(cell, value, style, bold=is_total)
        _row_properties(table.rows[index], header=False)
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Cm(width)
        for cell in column.cells:
            cell.width = Cm(width)


def _header(table, columns: list[Column], style: str) -> None:
    """The header rows: 地区 down all of them, each group across its columns, repeated on every page."""
    for block in header_blocks(columns):
        cell = table.cell(block.top, block.left)
        if (block.top, block.left) != (block.bottom, block.right):
            cell = cell.merge(table.cell(block.bottom, block.right))
        _cell_text(cell, block.text, style, bold=True)
    for row in table.rows[: header_depth(columns)]:
        _row_properties(row, header=True)


def _cell_text(cell, text: str, style: str, bold: bool = False) -> None:
    paragraph = cell.paragraphs[0]
    for extra in cell.paragraphs[1:]:  # a merge keeps the merged cells' empty paragraphs
        extra._p.getparent().remove(extra._p)
    paragraph.style = style
    for run in list(paragraph.runs):
        run._r.getparent().remove(run._r)
    paragraph.add_run(text).bold = bold or None
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER


def _row_properties(row, header: bool) -> None:
    """Keep a row on one page; mark header rows to repeat at the top of each page."""
    properties = row._tr.get_or_add_trPr()
    properties.append(OxmlElement("w:cantSplit"))
    if header:
        properties.append(OxmlElement("w:tblHeader"))


def _narrow_cell_margins(table) -> None:
    """Set 0.05 cm side margins in every cell: 37 columns must fit a landscape A4 page."""
    margins = OxmlElement("w:tblCellMar")
    for side, twips in (("top", 0), ("left", 28), ("bottom", 0), ("right", 28)):
        element = OxmlElement(f"w:{side}")
        element.set(qn("w:w"), str(twips))
        element.set(qn("w:type"), "dxa")
        margins.append(element)
    # tblPr is an ordered sequence (… tblLayout, tblCellMar, tblLook): Word refuses elements out of place
    properties = table._tbl.tblPr
    layout, look = properties.find(qn("w:tblLayout")), properties.find(qn("w:tblLook"))
    if layout is not None:
        layout.addnext(margins)
    elif look is not None:
        look.addprevious(margins)
    else:
        properties.append(margins)
