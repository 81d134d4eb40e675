"""Preview hostile and large rosters and print JSON: seconds and peak memory per file.

    python benchmarks/roster_bomb.py [--timeout 60] [--cases whole_sheet,wide_rows,...]

Each case builds its file once (raw zip and XML, as tests/test_spreadsheets.py does), then previews it in a
fresh process exactly as the upload page does (services.roster.importer.check_file on a temporary SQLite
database with the Lincang areas). A case still running after --timeout seconds is stopped and reported so.

- fixture: the county roster of ../shared/fixtures, for scale.
- roster_20000_rows: a well-formed roster at the row limit (20,000 rows, 12 columns).
- whole_sheet: one real row, the sheet declaring A1:XFD1048576 (every cell Excel has).
- wide_rows: 3,000 one-cell rows declaring A1:XFD3001.
- wide_row_cells: one row of 1,000,000 empty <c/> cells, honest dimension (what reset_dimensions() alone
  does not catch: openpyxl holds a whole row's cells before it hands the row out).
- undeclared_rows: 1,000,000 empty <row/>s and no <dimension> at all (openpyxl then reads the whole sheet
  just to open the workbook).
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.measure import run_case  # noqa: E402
from tests.test_spreadsheets import row, whole_sheet_bomb, wide_rows_bomb, write_workbook  # noqa: E402

FIXTURE = ROOT.parent / "shared" / "fixtures" / "roster_linxiang_2020-02.xlsx"
HEADER = ("序号", "乡镇（街道）", "村（社区）", "户主姓名", "成员姓名", "与户主关系", "身份证号码", "性别")
HEADER += ("保障类别", "月保障金额（元）", "联系电话", "家庭住址")


def _large_roster(path: Path, rows: int = 20_000) -> Path:
    """Write a well-formed roster: one head per row, each with a checksum-valid ID of the demo generator."""
    import openpyxl

    from services.registry import idnumber

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["临翔区困难群众花名册"])
    sheet.append(list(HEADER))
    for n in range(1, rows + 1):
        body = f"53090219{50 + n // 1000 % 50:02d}0101{n % 1000:03d}"
        number = body + idnumber.check_digit(body)
        sheet.append([n, "博尚镇", "碗窑村", f"户主{n}", f"户主{n}", "本人", number, "男", "低保", 615.5, "", "碗窑村"])
    workbook.save(path)
    return path


BUILDERS = {
    "fixture": lambda folder: FIXTURE,
    "roster_20000_rows": lambda folder: _large_roster(folder / "roster_20000_rows.xlsx"),
    "whole_sheet": lambda folder: whole_sheet_bomb(folder / "whole_sheet.xlsx"),
    "wide_rows": lambda folder: wide_rows_bomb(folder / "wide_rows.xlsx"),
    "wide_row_cells": lambda folder: write_workbook(
        folder / "wide_row_cells.xlsx", '<row r="1">' + "<c/>" * 1_000_000 + "</row>", dimension="A1:A1"
    ),
    "undeclared_rows": lambda folder: write_workbook(
        folder / "undeclared_rows.xlsx", row(1, "临翔区花名册") + "<row/>" * 1_000_000
    ),
}


def preview_case(path: Path) -> dict:
    """Preview one file in this process (the child) and measure it."""
    from types import SimpleNamespace

    from sqlmodel import Session

    import db
    from benchmarks.measure import measure_here
    from services.errors import Invalid
    from services.registry import areas
    from services.roster import importer

    engine = db.make_engine(f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3")
    db.upgrade(engine)
    with Session(engine) as session:
        areas.load_lincang(session)
        session.commit()
    whole_city = SimpleNamespace(role="admin", area_code="")

    def preview() -> str:
        with Session(engine) as session:
            try:
                result = importer.check_file(session, whole_city, path, path.name)
            except Invalid as refusal:
                return f"refused: {refusal}"
        return f"previewed: {result.persons_to_create} persons, {len(result.errors)} row errors"

    return measure_here(preview)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--cases", default=",".join(BUILDERS))
    parser.add_argument("--case", help=argparse.SUPPRESS)  # the child's side
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(preview_case(Path(args.file)), ensure_ascii=False))
        return
    folder = Path(tempfile.mkdtemp())
    results = {}
    for name in args.cases.split(","):
        path = BUILDERS[name](folder)
        results[name] = {"file_bytes": path.stat().st_size}
        results[name] |= run_case(Path(__file__), name, ["--file", str(path)], args.timeout)
        print(json.dumps({name: results[name]}, ensure_ascii=False), file=sys.stderr, flush=True)
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
