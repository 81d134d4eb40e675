"""The city's programs and standards: amounts per band, import and 整改 deadlines, and 价格临时补贴 periods.

A form is read whole before anything is stored: one wrong field and nothing changes. Every change is audited
(`payouts.standard_changed`, with what it was and what it became).
"""

import json
from dataclasses import dataclass, field

from sqlmodel import Session, select

from models import PriceSubsidyPeriod, Program, ProgramStandard
from services import audit
from services.errors import Invalid
from services.money import yuan, yuan_to_fen
from services.payouts.programs import CADENCE_LABELS, DEFAULT_PROGRAMS, Period, all_programs, parse_period
from services.payouts.result_file import MAX_FEN
from services.registry.categories import CATEGORIES

# The bands the city sets amounts for: (band, label); the amount is per person per month, per year for 高龄.
BANDS = {
    "disability_living": [("", "每人每月")],
    "disability_care": [("1", "一级，每人每月"), ("2", "二级，每人每月")],
    "elderly": [("80", "80–89 岁，每人每年"), ("90", "90–99 岁，每人每年"), ("100", "100 岁及以上，每人每年")],
}
HOW_SET = {
    "household": "按户：县里花名册上各户的保障金",
    "person": "按人：县里花名册上的供养金",
    "child": "按人：花名册上的基本生活费（满 18 岁停发）",
    "grade": "按残疾等级：市里定的标准",
    "age_band": "按年龄段：市里定的标准（按当年的周岁）",
    "price": "按市里开放的期间、对象和金额",
}
DUE_DAYS = (1, 28)
CORRECTION_DAYS = (1, 90)
MAX_MONTHS = 36  # a 价格临时补贴 period longer than three years is a typing error


@dataclass
class Band:
    band: str
    label: str
    amount_fen: int | None


@dataclass
class ProgramView:
    program: Program
    cadence_label: str
    how: str
    bands: list[Band] = field(default_factory=list)


@dataclass
class Settings:
    """A checked form: amounts by (program, band) and (results_due_day, correction_days) by program."""

    amounts: dict[tuple[str, str], int] = field(default_factory=dict)
    days: dict[str, tuple[int, int]] = field(default_factory=dict)


def amount_field(program: str, band: str) -> str:
    return f"amount-{program}-{band or 'flat'}"


def programs_view(session: Session) -> list[ProgramView]:
    """Return every program with its cadence, how its amount is set and its bands' amounts."""
    rates = _standards(session)
    views = []
    order = {row[0]: index for index, row in enumerate(DEFAULT_PROGRAMS)}  # 低保 first, as the city lists them
    for code, program in sorted(all_programs(session).items(), key=lambda item: order.get(item[0], len(order))):
        view = ProgramView(
            program, CADENCE_LABELS.get(program.cadence, program.cadence), HOW_SET.get(program.basis, "")
        )
        for band, label in BANDS.get(code, []):
            standard = rates.get((code, band))
            view.bands.append(Band(band, label, standard.amount_fen if standard else None))
        views.append(view)
    return views


def _standards(session: Session) -> dict[tuple[str, str], ProgramStandard]:
    return {(s.program_code, s.band): s for s in session.exec(select(ProgramStandard))}


def parse_form(session: Session, form) -> Settings:
    """Read the standards form; raise Invalid naming every wrong field (nothing is stored)."""
    errors: dict[str, str] = {}
    settings = Settings()
    rates = _standards(session)
    programs = all_programs(session)
    for code, bands in BANDS.items():
        if code not in programs:
            continue
        for band, label in bands:
            name = amount_field(code, band)
            text = (form.get(name) or "").strip()
            if not text:
                if (code, band) in rates:
                    errors[name] = f"{programs[code].name}（{label}）的标准不能清空"
                continue
            try:
                settings.amounts[(code, band)] = _bounded_fen(text)
            except Invalid as problem:
                errors[name] = f"{programs[code].name}（{label}）：{problem.message}"
    for code, program in programs.items():
        due = _whole(form.get(f"due_day-{code}"), DUE_DAYS, f"{program.name}的导入截止日", f"due_day-{code}", errors)
        days = _whole(
            form.get(f"correction_days-{code}"),
            CORRECTION_DAYS,
            f"{program.name}的整改期限",
            f"correction_days-{code}",
            errors,
        )
        if due is not None and days is not None:
            settings.days[code] = (due, days)
    if errors:
        raise Invalid(errors)
    return settings


def _bounded_fen(text: str) -> int:
    fen = yuan_to_fen(text)
    if fen > MAX_FEN:
        raise Invalid(f"金额不能超过 {yuan(MAX_FEN)} 元，请核对")
    return fen


def _whole(value, bounds: tuple[int, int], label: str, name: str, errors: dict) -> int | None:
    text = (value or "").strip()
    low, high = bounds
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        errors[name] = f"{label}应填 {low}–{high} 之间的整数"
        return None
    return int(text)


def save(session: Session, actor: audit.Actor, settings: Settings) -> int:
    """Store what changed, each change audited with before and after; return how many changed."""
    changes = 0
    rates = _standards(session)
    for (code, band), fen in settings.amounts.items():
        standard = rates.get((code, band))
        before = standard.amount_fen if standard else None
        if before == fen:
            continue
        if standard is None:
            standard = ProgramStandard(program_code=code, band=band, amount_fen=fen)
        standard.amount_fen = fen
        session.add(standard)
        session.flush()
        audit.record(
            session, actor, "payouts.standard_changed", standard, program=code, band=band, before=before, after=fen
        )
        changes += 1
    programs = all_programs(session)
    for code, (due, days) in settings.days.items():
        program = programs[code]
        for name, value in (("results_due_day", due), ("correction_days", days)):
            before = getattr(program, name)
            if before == value:
                continue
            setattr(program, name, value)
            session.add(program)
            audit.record(
                session,
                actor,
                "payouts.standard_changed",
                program,
                program=code,
                field=name,
                before=before,
                after=value,
            )
            changes += 1
    return changes


@dataclass
class PriceChoice:
    start: Period
    end: Period
    amount_fen: int
    categories: list[str]


def parse_price_period(form) -> PriceChoice:
    """Read the 开放价格临时补贴 form; raise Invalid naming every wrong field."""
    errors: dict[str, str] = {}
    months = {}
    for name, label in (("start_month", "开始月份"), ("end_month", "结束月份")):
        text = (form.get(name) or "").strip()
        try:
            period = parse_period(text) if text else None
        except Invalid:
            period = None
        if period is None or period.cadence != "monthly":
            errors[name] = f"{label}应写成 2026-03"
        else:
            months[name] = period
    start, end = months.get("start_month"), months.get("end_month")
    if start and end:
        span = (end.year - start.year) * 12 + end.month - start.month + 1
        if span < 1:
            errors["end_month"] = "结束月份不能早于开始月份"
        elif span > MAX_MONTHS:
            errors["end_month"] = f"一次最多开放 {MAX_MONTHS} 个月"
    amount = None
    try:
        amount = _bounded_fen((form.get("amount") or "").strip())
    except Invalid as problem:
        errors["amount"] = f"每人每月金额：{problem.message}"
    chosen = [c for c in CATEGORIES if c in set(form.getlist("categories"))]
    if len(chosen) != len(set(form.getlist("categories"))) or not chosen:
        errors["categories"] = "请勾选发给哪些对象（只能从列出的类别里选）"
    if errors:
        raise Invalid(errors)
    return PriceChoice(start, end, amount, chosen)


def open_price_period(session: Session, actor: audit.Actor, choice: PriceChoice) -> PriceSubsidyPeriod:
    """Open a 价格临时补贴 period (a later one wins where two cover the same month), audited."""
    period = PriceSubsidyPeriod(
        start_month=choice.start.code,
        end_month=choice.end.code,
        amount_fen=choice.amount_fen,
        categories=json.dumps(choice.categories),
    )
    session.add(period)
    session.flush()
    after = {
        "start_month": period.start_month,
        "end_month": period.end_month,
        "amount_fen": period.amount_fen,
        "categories": choice.categories,
    }
    audit.record(session, actor, "payouts.standard_changed", period, program="price_subsidy", before=None, after=after)
    return period


@dataclass
class PriceRow:
    period: PriceSubsidyPeriod
    label: str
    categories: str


def price_periods(session: Session, limit: int = 24) -> list[PriceRow]:
    """Return the 价格临时补贴 periods opened, newest first."""
    rows = session.exec(select(PriceSubsidyPeriod).order_by(PriceSubsidyPeriod.id.desc()).limit(limit)).all()
    found = []
    for row in rows:
        start, end = parse_period(row.start_month), parse_period(row.end_month)
        span = start.label if start == end else f"{start.label}至{end.label}"
        names = "、".join(CATEGORIES.get(c, c) for c in json.loads(row.categories))
        found.append(PriceRow(row, span, names))
    return found
