"""Result files as counties get them from the bank's 一卡通 platform: title rows, the header, a row per payment."""

import csv
from pathlib import Path

from openpyxl import Workbook

from services.registry.idnumber import check_digit

HEADER = [
    "姓名",
    "身份证号码",
    "项目",
    "发放期间",
    "应发金额（元）",
    "实发金额（元）",
    "银行账号",
    "发放状态",
    "失败原因",
]
TITLES = [["临沧市临翔区社会救助资金一卡通发放结果"], ["导出时间：2026-04-02 09:30"]]


def synthetic_id(index: int, born: str = "1960") -> str:
    """Return a valid 18-digit ID number of 临翔区, unique per index (the birth date moves one day per index)."""
    day = 1 + index % 28
    month = 1 + (index // 28) % 12
    serial = index // (28 * 12)
    first17 = f"530902{born}{month:02d}{day:02d}{serial:03d}"
    return first17 + check_digit(first17)


def row(name, id_number, program="城乡低保", period="2026-03", due="500.00", paid="500.00", status="成功", reason=""):
    """Return one result-file row as the bank writes it."""
    return [name, id_number, program, period, due, paid, "6228480012345678", status, reason]


def write_csv(path: Path, rows: list[list], header: list[str] = HEADER) -> Path:
    """Write a result file as CSV (UTF-8 with BOM, as Excel saves it) with the title rows above the header."""
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows(TITLES)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list], header: list[str] = HEADER) -> Path:
    """Write a result file as .xlsx with the title rows above the header."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("发放结果")
    for line in [*TITLES, header, *rows]:
        sheet.append(line)
    book.save(path)
    return path
