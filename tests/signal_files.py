"""Department lists as counties get them: a title row, the header, a row per event (.csv or .xlsx)."""

import csv
from pathlib import Path

from openpyxl import Workbook

# fmt: off
HEADERS = {
    "medical": ["序号", "姓名", "身份证号码", "住址", "入院日期", "出院日期", "医疗总费用（元）", "个人自付（元）",
                "就诊医院"],
    "disability": ["序号", "姓名", "公民身份号码", "村（社区）", "残疾类别", "残疾等级", "发证日期"],
    "death": ["序号", "姓名", "身份证号", "家庭住址", "死亡日期"],
    "unemployment": ["序号", "姓名", "身份证号码", "地址", "失业登记日期"],
}
# fmt: on
TITLES = {
    "medical": "临翔区城乡居民医保住院费用结算名单（2026年11月）",
    "disability": "临翔区新增重度残疾人名单",
    "death": "临翔区死亡人员名单",
    "unemployment": "临翔区失业登记人员名单",
}


def medical(name, id_number, self_paid, *, address="", admitted="2026-11-02", discharged="2026-11-12", total=None):
    """Return one 医保 row."""
    total = total if total is not None else str(float(self_paid) * 3)
    return [name, id_number, address, admitted, discharged, total, self_paid, "临沧市人民医院"]


def write(path: Path, kind: str, rows: list[list], header: list[str] | None = None) -> Path:
    """Write a list with its title row above the header, numbering the rows (序号); .xlsx or .csv by the suffix."""
    header = header or HEADERS[kind]
    lines = [[TITLES[kind]], header, *([str(n), *r] for n, r in enumerate(rows, start=1))]
    if path.suffix == ".xlsx":
        book = Workbook(write_only=True)
        sheet = book.create_sheet("名单")
        for line in lines:
            sheet.append(line)
        book.save(path)
    else:
        with open(path, "w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerows(lines)
    return path
