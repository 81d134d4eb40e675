"""Uploaded spreadsheets are read within fixed limits, whatever they declare: bombs built from raw zip and XML."""

import datetime
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import pytest

from services.errors import Invalid
from services.roster import importer as roster
from services.spreadsheets import read as spreadsheets

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
ROSTER = FIXTURES / "roster_linxiang_2020-02.xlsx"
WHOLE_CITY = roster.cli_scope(None)
ROSTER_HEADER = ("序号", "乡镇（街道）", "村（社区）", "户主姓名", "成员姓名", "与户主关系", "身份证号码")

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
BOOK_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def cell(ref: str, value) -> str:
    """Return one cell's XML: a number, or an inline string."""
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def row(number: int, *values) -> str:
    """Return one row's XML with its values from column A on."""
    cells = "".join(cell(f"{chr(65 + i)}{number}", v) for i, v in enumerate(values) if v is not None)
    return f'<row r="{number}">{cells}</row>'


def write_workbook(path: Path, *sheets: str, dimension: str | None = None) -> Path:
    """Write the smallest .xlsx Excel and openpyxl open: a sheet per argument, holding its <row>s."""
    declared = f'<dimension ref="{dimension}"/>' if dimension else ""
    numbers = range(1, len(sheets) + 1)
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{BOOK_TYPE}"/>'
        + "".join(f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{SHEET_TYPE}"/>' for n in numbers)
        + "</Types>"
    )
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{OFFICE}"><sheets>'
        + "".join(f'<sheet name="Sheet{n}" sheetId="{n}" r:id="rId{n}"/>' for n in numbers)
        + "</sheets></workbook>"
    )
    package_rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}">'
        f'<Relationship Id="rId1" Type="{OFFICE}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    workbook_rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}">'
        + "".join(
            f'<Relationship Id="rId{n}" Type="{OFFICE}/worksheet" Target="worksheets/sheet{n}.xml"/>' for n in numbers
        )
        + "</Relationships>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", package_rels)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
        for n, sheet_data in zip(numbers, sheets, strict=True):
            sheet = (
                f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">{declared}'
                f"<sheetData>{sheet_data}</sheetData></worksheet>"
            )
            archive.writestr(f"xl/worksheets/sheet{n}.xml", sheet)
    return path


def whole_sheet_bomb(path: Path) -> Path:
    """One real row in a sheet that declares every cell Excel has (A1:XFD1048576): a 2 KB file."""
    return write_workbook(path, row(1, "临翔区花名册"), dimension="A1:XFD1048576")


def wide_rows_bomb(path: Path, rows: int = 3000) -> Path:
    """3,000 one-cell rows in a sheet that declares 16,384 columns for each (A1:XFD3001)."""
    return write_workbook(path, "".join(row(n, f"第{n}行") for n in range(2, rows + 2)), dimension="A1:XFD3001")


def read(path: Path, **limits) -> list:
    return list(spreadsheets.rows(path, spreadsheets.Limits(**limits)))


def refusal(path: Path, **limits) -> str:
    with pytest.raises(Invalid) as refused:
        read(path, **limits)
    return str(refused.value)


# ---- what a sheet declares is not what is read ----------------------------------------------


def test_a_sheet_declaring_every_cell_of_excel_gives_its_one_real_cell(tmp_path):
    assert read(whole_sheet_bomb(tmp_path / "bomb.xlsx")) == [(1, ["临翔区花名册"])]


def test_rows_declared_16384_columns_wide_are_read_one_cell_each(tmp_path):
    rows = read(wide_rows_bomb(tmp_path / "bomb.xlsx"))
    assert len(rows) == 3000 and sum(len(cells) for _, cells in rows) == 3000
    assert rows[0] == (2, ["第2行"]) and rows[-1] == (3001, ["第3001行"])


def test_both_bombs_are_refused_by_the_preview_as_not_a_roster(session, tmp_path):
    for bomb in (whole_sheet_bomb(tmp_path / "a.xlsx"), wide_rows_bomb(tmp_path / "b.xlsx")):
        with pytest.raises(Invalid, match="没有找到表头"):
            roster.check_file(session, WHOLE_CITY, bomb, bomb.name)


def test_a_real_roster_declaring_every_cell_of_excel_imports_normally(session, tmp_path):
    data = row(1, *ROSTER_HEADER) + row(2, 1, "博尚镇", "碗窑村", "李四", "李四", "本人", "53090219430515980X")
    path = write_workbook(tmp_path / "roster.xlsx", data, dimension="A1:XFD1048576")
    preview = roster.check_file(session, WHOLE_CITY, path, path.name)
    assert (preview.households_to_create, preview.persons_to_create, preview.errors) == (1, 1, [])


def test_a_row_of_100000_empty_cells_holds_none_of_them(tmp_path):
    path = write_workbook(tmp_path / "wide.xlsx", '<row r="1">' + "<c/>" * 100_000 + "</row>" + row(2, "姓名"))
    assert read(path) == [(2, ["姓名"])]


def test_a_sheet_of_more_elements_than_allowed_is_refused(tmp_path):
    path = write_workbook(tmp_path / "wide.xlsx", '<row r="1">' + "<c/>" * 2_000 + "</row>")
    assert "单元格和格式太多" in refusal(path, elements=1_000)
    assert read(path, elements=3_000) == []


def test_the_limit_on_elements_is_for_the_whole_workbook_not_each_sheet(tmp_path):
    empty_row = '<row r="1">' + "<c/>" * 600 + "</row>"
    path = write_workbook(tmp_path / "sheets.xlsx", empty_row, empty_row, row(1, "甲"))
    with pytest.raises(Invalid, match="单元格和格式太多"):
        [list(table) for table in spreadsheets.tables(path, spreadsheets.Limits(elements=1_000))]
    tables = [list(table) for table in spreadsheets.tables(path, spreadsheets.Limits(elements=2_000))]
    assert tables == [[], [], [(1, ["甲"])]]
    assert openpyxl.load_workbook(path, read_only=True).sheetnames == ["Sheet1", "Sheet2", "Sheet3"]


def test_rows_the_workbook_leaves_out_count_as_empty_and_a_long_run_ends_the_table(tmp_path):
    path = write_workbook(tmp_path / "gap.xlsx", row(1, "甲") + row(50, "乙") + row(101, "丙") + row(1048576, "丁"))
    assert read(path) == [(1, ["甲"]), (50, ["乙"])]  # 49 empty rows, then 50: 丙 and 丁 are never read


def test_empty_rows_before_the_first_content_also_end_a_table(tmp_path):
    path = write_workbook(tmp_path / "empty.xlsx", "".join(f'<row r="{n}"/>' for n in range(1, 61)) + row(61, "甲"))
    assert read(path) == []


def test_content_right_of_column_60_is_refused_but_column_60_is_read(tmp_path):
    far = write_workbook(tmp_path / "far.xlsx", row(1, "甲") + '<row r="2"><c r="BI2"><v>1</v></c></row>')
    assert "第 2 行有内容超出了第 60 列" in refusal(far)
    edge = write_workbook(tmp_path / "edge.xlsx", '<row r="1"><c r="BH1" s="3"/><c r="BH1"><v>7</v></c></row>')
    assert read(edge) == [(1, [None] * 59 + [7])]
    styled = write_workbook(tmp_path / "styled.xlsx", '<row r="1"><c r="A1"><v>1</v></c><c r="XFD1" s="2"/></row>')
    assert read(styled) == [(1, [1])]  # an empty formatted cell far right is not content


def test_more_rows_than_allowed_are_refused(tmp_path):
    path = write_workbook(tmp_path / "long.xlsx", "".join(row(n, n) for n in range(1, 7)))
    assert "表格超过 5 行" in refusal(path, rows=5)
    assert len(read(path, rows=6)) == 6


def test_a_cell_longer_than_allowed_is_refused_with_where_it_is(tmp_path):
    path = write_workbook(tmp_path / "long.xlsx", row(1, "甲") + row(2, "乙", "长" * 2001))
    assert "第 2 行第 2 列的内容超过 2000 个字" in refusal(path)


def test_a_huge_tag_and_a_document_type_are_refused_as_unreadable(tmp_path):
    huge = write_workbook(tmp_path / "tag.xlsx", f'<row r="1" x="{"a" * 2 * 1024 * 1024}"/>')
    assert refusal(huge) == spreadsheets.UNREADABLE
    laughs = '<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    path = write_workbook(tmp_path / "laughs.xlsx", row(1, "&b;"))
    text = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode().replace("<worksheet", laughs + "<worksheet")
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in {**_parts(tmp_path), "xl/worksheets/sheet1.xml": text}.items():
            archive.writestr(name, content)
    assert refusal(path) == spreadsheets.UNREADABLE


def _parts(tmp_path: Path) -> dict:
    model = write_workbook(tmp_path / "model.xlsx", "")
    with zipfile.ZipFile(model) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_a_zip_of_too_many_entries_is_refused_before_it_is_listed(tmp_path):
    path = write_workbook(tmp_path / "many.xlsx", row(1, "甲"))
    with zipfile.ZipFile(path, "a") as archive:
        for n in range(1_000):
            archive.writestr(f"junk/{n}", "")
    assert refusal(path) == spreadsheets.UNREADABLE


def test_a_workbook_written_by_openpyxl_reads_as_openpyxl_reads_it(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["姓名", "日期", "是否", "编号", "金额"])
    sheet.append(["张三", datetime.date(2020, 2, 27), True, 1234567, 1e30])
    sheet.append(["  ", datetime.datetime(2020, 2, 27, 13, 5), False, "=1+1", 615.5])
    workbook.create_sheet("第二页")["C3"] = "中间"
    workbook.save(tmp_path / "book.xlsx")
    tables = [list(table) for table in spreadsheets.tables(tmp_path / "book.xlsx")]
    assert tables == [
        [
            (1, ["姓名", "日期", "是否", "编号", "金额"]),
            (2, ["张三", datetime.datetime(2020, 2, 27), True, 1234567, 1e30]),
            (3, [None, datetime.datetime(2020, 2, 27, 13, 5), False, None, 615.5]),  # no cached formula value
        ],
        [(3, [None, None, "中间"])],
    ]


def test_the_county_fixture_reads_as_openpyxl_reads_it():
    sheet = openpyxl.load_workbook(ROSTER, read_only=True, data_only=True).worksheets[0]
    expected = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = [None if isinstance(v, str) and not v.strip() else v for v in values]
        while cells and cells[-1] is None:
            cells.pop()
        if cells:
            expected.append((number, cells))
    assert read(ROSTER) == expected and len(expected) > 90


# ---- CSV -----------------------------------------------------------------------------------


def write_csv(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "table.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_csv_rows_come_with_their_numbers_and_empty_cells_as_none(tmp_path):
    path = write_csv(tmp_path, "标题,,\n\n姓名, ,电话,,,\n李四,,139\n", encoding="gbk")
    assert read(path) == [(1, ["标题"]), (3, ["姓名", None, "电话"]), (4, ["李四", None, "139"])]


def test_csv_is_held_to_the_same_limits(tmp_path):
    assert "超出了第 60 列" in refusal(write_csv(tmp_path, "甲" + ",乙" * 60 + "\n"))
    assert read(write_csv(tmp_path, "甲" + ",乙" * 59 + "," * 500 + "\n"))[0][1][-1] == "乙"
    assert "第 1 行第 1 列的内容超过 2000 个字" in refusal(write_csv(tmp_path, "长" * 2001 + "\n"))
    assert "表格超过 3 行" in refusal(write_csv(tmp_path, "1\n2\n3\n4\n"), rows=3)
    assert "有一行超过" in refusal(write_csv(tmp_path, "," * 200_000))
    assert read(write_csv(tmp_path, "甲\n" + "\n" * 50 + "乙\n")) == [(1, ["甲"])]


def test_files_too_big_empty_or_of_another_kind_are_refused(tmp_path):
    assert "文件太大（超过 1 MB）" in refusal(write_csv(tmp_path, "甲\n" * 600_000), file_bytes=1024 * 1024)
    assert refusal(write_csv(tmp_path, "")) == "文件是空的"
    (tmp_path / "table.txt").write_text("甲")
    assert "只能导入" in refusal(tmp_path / "table.txt")
    (tmp_path / "renamed.xlsx").write_bytes(b"this is not a workbook")
    assert refusal(tmp_path / "renamed.xlsx") == spreadsheets.UNREADABLE
