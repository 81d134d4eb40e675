"""The city's settings of the 主动发现 rules: each rule switched on or off, its days to check, its threshold."""

from dataclasses import dataclass

from sqlmodel import Session

from models import AlertRule, utcnow
from services import audit
from services.alerts.engine import settings
from services.alerts.rules import RULES
from services.errors import Invalid
from services.inputs import small_int

MIN_DAYS, MAX_DAYS = 1, 365
# a threshold counts days (2 days after an urgent visit … 90 days without contact) or 元 (a hospital bill)
THRESHOLD_LIMITS = {"天": (1, 365), "元": (1, 10_000_000)}


@dataclass
class RuleRow:
    """A rule as the settings page shows it."""

    code: str
    label: str
    grade: str
    explanation: str
    enabled: bool
    days: int
    threshold: int | None  # None: the rule has no number to set
    default_days: int
    default_threshold: int | None
    unit: str  # of the threshold

    @property
    def threshold_limits(self) -> tuple[int, int]:
        return THRESHOLD_LIMITS[self.unit]


def rows(session: Session) -> list[RuleRow]:
    """Return every rule with the city's setting over its defaults, in the table's order."""
    chosen = settings(session)
    return [
        RuleRow(
            code=code,
            label=rule.label,
            grade=rule.grade,
            explanation=rule.explanation,
            enabled=chosen[code].enabled,
            days=chosen[code].days,
            threshold=chosen[code].threshold if rule.threshold is not None else None,
            default_days=rule.days,
            default_threshold=rule.threshold,
            unit=rule.unit,
        )
        for code, rule in RULES.items()
    ]


def parse_form(form) -> dict[str, dict]:
    """Read the form: enabled-<code> (a checkbox), days-<code>, threshold-<code>; refuse numbers out of bounds."""
    errors, values = {}, {}
    for code, rule in RULES.items():
        days = small_int(form.get(f"days-{code}"))
        if days is None or not MIN_DAYS <= days <= MAX_DAYS:
            errors[f"days-{code}"] = f"核实期限请填写 {MIN_DAYS} 到 {MAX_DAYS} 之间的天数"
        threshold = None
        if rule.threshold is not None:
            low, high = THRESHOLD_LIMITS[rule.unit]
            threshold = small_int(form.get(f"threshold-{code}"))
            if threshold is None or not low <= threshold <= high:
                what = "天数" if rule.unit == "天" else "金额（元）"
                errors[f"threshold-{code}"] = f"阈值请填写 {low} 到 {high:,} 之间的{what}"
        values[code] = {"enabled": form.get(f"enabled-{code}") == "1", "days": days, "threshold": threshold}
    if errors:
        raise Invalid(errors)
    return values


def save(session: Session, actor: audit.Actor, values: dict[str, dict]) -> dict[str, dict]:
    """Write an AlertRule row for each rule whose setting changed; audit what changed once; return the changes."""
    chosen = settings(session)
    changes = {}
    for code, value in values.items():
        before = chosen[code]
        threshold = value["threshold"] if RULES[code].threshold is not None else None
        was = {"enabled": before.enabled, "days": before.days, "threshold": before.threshold}
        now = {"enabled": value["enabled"], "days": value["days"], "threshold": threshold or before.threshold}
        if was == now:
            continue
        changes[code] = {key: [was[key], now[key]] for key in was if was[key] != now[key]}
        row = session.get(AlertRule, code) or AlertRule(code=code, days=now["days"])
        row.enabled, row.days, row.threshold = now["enabled"], now["days"], threshold
        row.updated_at, row.updated_by_id = utcnow(), actor.user.id if actor.user else None
        session.add(row)
    if changes:
        audit.record(session, actor, "alerts.rules_changed", None, changes=changes)
    return changes
