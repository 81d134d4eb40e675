"""The drafted 对象基本情况 and 解决措施: the campaign's statistics told as plain Chinese, for the officer to edit."""

from datetime import date

from services.campaigns.stats import NEED_COLUMNS, TABLE_CATEGORIES, AreaStats, Statistics
from services.money import yuan
from services.registry.categories import label as category_label
from services.visits.rules import NEED_TYPES


def chinese_date(day: date, with_year: bool = True) -> str:
    """Write a date the way a report does: 2026年2月25日."""
    return f"{day.year}年{day.month}月{day.day}日" if with_year else f"{day.month}月{day.day}日"


def window_text(start: date, end: date) -> str:
    """Write a campaign window: 2026年2月25日至2月29日 (the year once when both days share it)."""
    return f"{chinese_date(start)}至{chinese_date(end, with_year=end.year != start.year)}"


def percent(part: int, whole: int) -> str:
    """Write a share as a percentage with one decimal."""
    return f"{part * 100 / whole:.1f}%" if whole else "—"


def draft_basic_situation(stats: Statistics) -> str:
    """Return the drafted 对象基本情况, one paragraph per line."""
    total = stats.total
    paragraphs = [_objects(stats.area.name, total), _coverage(stats, total), _problems(total), _relief_and_care(total)]
    return "\n".join([*paragraphs, _discovery(total)])


def draft_measures(stats: Statistics) -> str:
    """Return the drafted 解决措施: what the checks of 主动发现 alerts led to (empty when none was checked)."""
    total = stats.total
    if not total.alerts_checked:
        return ""
    outcomes = total.outcomes
    done = [
        f"{label}{outcomes[code]}{unit}"
        for code, label, unit in (
            ("dibao", "纳入低保", "户"),
            ("tekun", "纳入特困供养", "户"),
            ("relief", "实施临时救助", "人次"),
            ("referral", "转介相关部门", "件"),
            ("resolved", "当场解决", "件"),
            ("excluded", "核实排除", "件"),
        )
        if outcomes.get(code)
    ]
    text = f"对主动发现预警逐条入户核实，期间核实{total.alerts_checked}条"
    return text + ("，其中" + "、".join(done) if done else "") + "。"


def _discovery(total: AreaStats) -> str:
    if total.alerts_raised:
        text = f"主动发现机制发出预警{total.alerts_raised}条，期间核实{total.alerts_checked}条"
        if total.alerts_waiting:
            text += f"，尚有{total.alerts_waiting}条未核实"
            text += f"（其中逾期{total.alerts_overdue}条）" if total.alerts_overdue else ""
    elif total.alerts_checked:
        text = f"期间核实主动发现预警{total.alerts_checked}条"
    else:
        text = "期间主动发现机制未发出预警"
    if total.candidates_found:
        return text + f"；发现在册以外的待核实对象{total.candidates_found}人。"
    return text + "。"


def _objects(area_name: str, total: AreaStats) -> str:
    tally = total.tally
    text = f"{area_name}共有在册困难群众{tally.households_due}户{tally.persons_due}人"
    if tally.institution_persons:
        text += f"（其中供养机构人员{tally.institution_persons}人）"
    categories = [
        f"{category_label(code)}{total.persons_by_category[code]}人"
        for code in TABLE_CATEGORIES
        if total.persons_by_category.get(code)
    ]
    if categories:
        text += "。按对象类别分：" + "、".join(categories) + "（同一人可属多个类别）"
    return text + "。"


def _coverage(stats: Statistics, total: AreaStats) -> str:
    tally, campaign = total.tally, stats.campaign
    text = (
        f"{campaign.name}期间（{window_text(campaign.start_date, campaign.end_date)}），"
        f"共排查回访{tally.households_visited}户{tally.persons_visited}人，"
        f"户排查率{percent(tally.households_visited, tally.households_due)}"
    )
    if tally.households_missing > 0:
        return text + f"，尚有{tally.households_missing}户未排查。"
    return text + "，做到不漏一户一人。" if tally.households_due else text + "。"


def _problems(total: AreaStats) -> str:
    if not total.needs_found:
        return "排查中未发现需要解决的问题。"
    found = total.needs_by_type
    kinds = [f"{NEED_TYPES[kind]}{found[kind]}个" for kind in NEED_COLUMNS if found.get(kind)]
    text = f"排查中发现问题{total.needs_found}个，其中" + "、".join(kinds)
    text += f"；已解决{total.needs_resolved}个"
    outcomes = []
    if total.dibao_included:
        outcomes.append(f"纳入低保{total.dibao_included}户")
    if total.moved_to_institution:
        outcomes.append(f"转为集中供养{total.moved_to_institution}户")
    if outcomes:
        text += "，其中" + "、".join(outcomes)
    unresolved = total.needs_found - total.needs_resolved
    text += f"，尚有{unresolved}个正在解决。" if unresolved else "，已全部解决。"
    return text


def _relief_and_care(total: AreaStats) -> str:
    tally = total.tally
    if total.relief_count:
        amount = yuan(total.relief_fen, grouped=False, short=True)
        text = f"期间共实施临时救助{total.relief_count}人次，金额{amount}元。"
    else:
        text = "期间未实施临时救助。"
    text += f"已签订三方委托照料服务协议{tally.care_agreements}户"
    if tally.wants_institutional_care:
        text += f"，有集中供养意愿的{tally.wants_institutional_care}户"
    return text + "。"
