"""The statistics table's columns: one list for the main table, one for 主动发现, and their merged headers.

The .xlsx (statistics_xlsx.py) and the work report's .docx (report_docx.py) set both tables from these lists,
so the two files show the same columns under the same headers.
"""

from collections.abc import Callable
from dataclasses import dataclass

from services.campaigns.discovery_stats import OUTCOMES
from services.campaigns.stats import NEED_COLUMNS, TABLE_CATEGORIES, AreaStats
from services.registry.categories import CATEGORIES
from services.visits.rules import NEED_TYPES

AREA_HEADER = "地区"
TOTAL_LABEL = "合计"
DISCOVERY = "主动发现（个）"
COUNT, PERCENT, YUAN = "#,##0", "0.0%", "#,##0.00"
WIDE = 8  # a city's 合计 of persons reaches "123,456"


@dataclass(frozen=True)
class Column:
    """One column of figures: its group header, its own header and how to read it from a row.

    A column with a subgroup sits under a second header row inside its group; in a table with sub-groups,
    a column without one has its own header merged down over both rows.
    """

    group: str
    label: str
    value: Callable[[AreaStats], float]
    number_format: str = COUNT
    width: float = 6  # at least, in Excel's units (about 7 px): 6 holds "12,345" in 宋体 10 pt
    subgroup: str = ""

    @property
    def path(self) -> tuple[str, ...]:
        """Return the headers above the figures, top to bottom."""
        return (self.group, self.subgroup, self.label) if self.subgroup else (self.group, self.label)

    def width_for(self, rows: list[AreaStats]) -> float:
        """Return a width that shows every row's figure: Excel prints ### for a number that does not fit."""
        shown = {COUNT: "{:,.0f}", PERCENT: "{:.1%}", YUAN: "{:,.2f}"}[self.number_format]
        longest = max(len(shown.format(self.value(row))) for row in rows)
        # a bold 宋体 digit is about 7 px, plus margins; LibreOffice rounds the glyphs up when it shrinks the
        # page to fit (to under 60 % for the main table), and 1.05 a digit once printed ### in the 合计 row
        return max(self.width, round(longest * 1.1 + 1, 1))


@dataclass(frozen=True)
class Block:
    """A header cell and the block it is merged over: header rows top–bottom, columns left–right (0 is 地区)."""

    text: str
    top: int
    left: int
    bottom: int
    right: int


def header_depth(columns: list[Column]) -> int:
    """Return how many header rows the columns need."""
    return max(len(column.path) for column in columns)


def header_blocks(columns: list[Column]) -> list[Block]:
    """Return the headers: 地区 down every header row, each group and subgroup across its columns, the labels.

    A label stands on the bottom header row; one with fewer headers above it than the others is merged down.
    """
    depth = header_depth(columns)
    blocks = [Block(AREA_HEADER, 0, 0, depth - 1, 0)]
    for level in range(depth):
        index = 0
        while index < len(columns):
            path = columns[index].path
            if len(path) <= level:  # its label was merged down from a row above
                index += 1
            elif level == len(path) - 1:
                blocks.append(Block(path[level], level, index + 1, depth - 1, index + 1))
                index += 1
            else:  # a group: as far right as the columns share it
                end = index
                while end + 1 < len(columns) and columns[end + 1].path[: level + 1] == path[: level + 1]:
                    end += 1
                blocks.append(Block(path[level], level, index + 1, level, end + 1))
                index = end + 1
    return blocks


def _statistics_columns() -> list[Column]:
    """Return the main table's figure columns, left to right."""
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
    return [
        *columns,
        Column(done, "已解决（个）", lambda s: s.needs_resolved),
        Column(done, "纳入低保", lambda s: s.dibao_included, width=5.5),
        Column(done, "临时救助（人次）", lambda s: s.relief_count),
        Column(done, "临时救助金额（元）", lambda s: s.relief_fen / 100, YUAN, 13),  # "12,345,678.90"
        Column(done, "签订照料协议（户）", lambda s: s.tally.care_agreements),
        Column(done, "转集中供养", lambda s: s.moved_to_institution, width=5.5),
    ]


# 11 columns this wide (and 地区) fill most of a landscape page's width at full size, so nothing is shrunk.
DISCOVERY_WIDTH = 10


def _discovery_columns() -> list[Column]:
    """Return the 主动发现 table's figure columns: the alerts, how the checked ones ended, the candidates."""
    alerts, results = "预警核实", "核实结果"

    def column(label: str, value: Callable[[AreaStats], float], subgroup: str = "") -> Column:
        return Column(DISCOVERY, label, value, width=DISCOVERY_WIDTH, subgroup=subgroup)

    return [
        column("发出预警", lambda s: s.alerts_raised, alerts),
        column("已核实", lambda s: s.alerts_checked, alerts),
        column("未核实", lambda s: s.alerts_waiting, alerts),
        column("其中逾期", lambda s: s.alerts_overdue, alerts),
        *(column(label, lambda s, o=o: s.outcomes.get(o, 0), results) for o, label in OUTCOMES.items()),
        column("待核实对象", lambda s: s.candidates_found),
    ]


STATISTICS_COLUMNS = _statistics_columns()
DISCOVERY_COLUMNS = _discovery_columns()
