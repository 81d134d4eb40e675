"""Run the 主动发现 rules: raise new alerts set-based, and move overdue ones up to the township, then the county.

One open alert per rule and subject (Alert.open_key): a rule that finds the same household again raises nothing.
An alert about a household that has an assistant is assigned to them as it is raised (a task on their 首页);
otherwise it stays open for the township. `run` is what `flask --app app run-alerts` calls (cron in production);
it audits one `alerts.run` event with the counts rather than one event per alert. `run_cheap` runs a few set-based
rules when the data they read changes (a payout file imported, a visit saved), without escalating.
"""

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, insert, or_, update
from sqlmodel import Session, select

from models import Alert, AlertRule, AuditEvent, Household, User, utcnow
from services import audit
from services.alerts.base import Context, Hit
from services.alerts.outcomes import OPEN_STATES
from services.alerts.rules import RULES
from services.bulk import insert_new
from services.clock import today_in_china

# the rules a payout import and a saved visit may change the answer of (all set-based over 整改 items)
MONEY_RULES = ("failed_not_reissued", "paid_after_exit", "correction_overdue", "family_says_unpaid")
VISIT_RULES = ("family_says_unpaid",)
CHUNK = 500  # ids per UPDATE … IN (…): well under every database's limit on bound parameters
FEW = 1000  # hits a rule may find before insert_new's ON CONFLICT beats looking the open keys up first


@dataclass(frozen=True)
class Setting:
    """A rule as the city set it: switched on or off, the days to check, its threshold."""

    enabled: bool
    days: int
    threshold: int | None


@dataclass
class RunResult:
    """What a run did, per rule: alerts raised, hits that already had an open alert, alerts moved up."""

    raised: dict[str, int] = field(default_factory=dict)
    assigned: int = 0
    already_open: dict[str, int] = field(default_factory=dict)
    escalated: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def escalated_total(self) -> int:
        return sum(self.escalated.values())

    def as_dict(self) -> dict:
        return {
            "raised": self.raised,
            "assigned": self.assigned,
            "already_open": self.already_open,
            "escalated": self.escalated_total,
            "seconds": round(self.seconds, 2),
        }


def settings(session: Session) -> dict[str, Setting]:
    """Return every rule's setting: the city's AlertRule row over the rule's defaults."""
    stored = {row.code: row for row in session.exec(select(AlertRule))}
    merged = {}
    for code, rule in RULES.items():
        row = stored.get(code)
        if row is None:
            merged[code] = Setting(True, rule.days, rule.threshold)
        else:
            threshold = row.threshold if row.threshold is not None else rule.threshold
            merged[code] = Setting(row.enabled, row.days or rule.days, threshold)
    return merged


def open_key(rule: str, hit: Hit) -> str:
    return f"{rule}:{hit.subject}"


def run(session: Session, actor: audit.Actor, today=None, only=None, now: datetime | None = None) -> RunResult:
    """Run the enabled rules (or only those named), raise the new alerts, escalate the overdue ones; audit once.

    `today` (a date) runs the rules as of that day in China (noon there); `now` gives the moment itself.
    """
    started = time.perf_counter()
    if now is None:
        now = utcnow() if today is None else datetime(today.year, today.month, today.day, 4, tzinfo=UTC)
    chosen = settings(session)
    codes = [c for c in RULES if chosen[c].enabled and (only is None or c in only)]
    result = _raise(session, codes, chosen, now)
    result.assigned = _assign_open(session)
    for code in codes:
        result.escalated[code] = _escalate(session, actor, code, chosen[code].days, now)
    result.seconds = time.perf_counter() - started
    audit.record(
        session,
        actor,
        "alerts.run",
        None,
        raised=result.raised,
        assigned=result.assigned,
        already_open=result.already_open,
        escalated=result.escalated,
        seconds=round(result.seconds, 2),
    )
    return result


def run_cheap(session: Session, actor: audit.Actor, trigger: str, rules=MONEY_RULES) -> RunResult:
    """Run a few set-based rules because their data just changed; audit only when they raised something."""
    started = time.perf_counter()
    chosen = settings(session)
    codes = [c for c in rules if chosen[c].enabled]
    result = _raise(session, codes, chosen, utcnow())
    if any(result.raised.values()):
        result.assigned = _assign_open(session)
    result.seconds = time.perf_counter() - started
    raised = {code: n for code, n in result.raised.items() if n}
    if raised:  # a visit saved most often finds nothing new: no event then, to keep the trail readable
        audit.record(session, actor, "alerts.cheap_run", None, trigger=trigger, raised=raised, assigned=result.assigned)
    return result


def _raise(session: Session, codes: list[str], chosen: dict[str, Setting], now: datetime) -> RunResult:
    """Run the rules and insert an alert for each subject without an open one; assign them as they go in."""
    day = today_in_china(now)
    result = RunResult()
    cache: dict = {}
    for code in codes:
        rule, setting = RULES[code], chosen[code]
        ctx = Context(now=now, today=day, threshold=setting.threshold, cache=cache)
        rows = {}
        for hit in rule.check(session, ctx):
            key = open_key(code, hit)
            if key in rows:
                continue
            rows[key] = {
                "open_key": key,
                "rule": code,
                "grade": rule.grade,
                "area_code": hit.area_code,
                "household_id": hit.household_id,
                "person_id": hit.person_id,
                "candidate_id": hit.candidate_id,
                "reason": hit.reason[:300],
                "state": "open",
                "level": "village",
                "raised_at": now,
                "due_at": now + timedelta(days=setting.days),
            }
        new = _not_open(session, rows) if len(rows) <= FEW else rows
        raised = insert_new(session, Alert.__table__, list(new.values()), "open_key")
        result.raised[code] = raised
        result.already_open[code] = len(rows) - raised
    return result


def _not_open(session: Session, rows: dict[str, dict]) -> dict[str, dict]:
    """Drop the rows whose subject has an open alert already: for a few hits (the cheap runs after a visit), one
    indexed lookup is cheaper than insert_new's two counts of the whole alert table."""
    if not rows:
        return rows
    taken = set(session.exec(select(Alert.open_key).where(Alert.open_key.in_(list(rows)))))
    return {key: row for key, row in rows.items() if key not in taken}


def _assign_open(session: Session) -> int:
    """Give each unchecked village-level alert about a household to the household's active assistant.

    One UPDATE after the inserts rather than per row: it also picks up the alerts raised before the household had
    an assistant, and moves a task to the new assistant when the household changed hands. A task whose household
    has no active assistant any more goes back to the township (open, nobody's). Alerts already moved up to the
    township stay with the township.
    """
    assistant = (
        select(Household.assistant_id)
        .join(User, User.id == Household.assistant_id)
        .where(Household.id == Alert.household_id, User.active, User.role == "assistant")
        .scalar_subquery()
    )
    village = (Alert.level == "village", Alert.household_id.is_not(None))
    give = (
        update(Alert)
        .where(
            *village,
            assistant.is_not(None),
            or_(Alert.state == "open", and_(Alert.state == "assigned", Alert.assigned_to_id != assistant)),
        )
        .values(state="assigned", assigned_to_id=assistant)
        .execution_options(synchronize_session=False)
    )
    given = session.execute(give).rowcount
    orphaned = (
        update(Alert)
        .where(*village, Alert.state == "assigned", assistant.is_(None))
        .values(state="open", assigned_to_id=None)
        .execution_options(synchronize_session=False)
    )
    return given + session.execute(orphaned).rowcount


def _escalate(session: Session, actor: audit.Actor, code: str, days: int, now: datetime) -> int:
    """Move the rule's unchecked alerts past their due date to the township; past it by `days` more, to the county.

    Each move is audited on its alert (the alert's page tells its story from them); the ids are read first so the
    events name exactly the alerts the UPDATE moved.
    """
    moved = 0
    for level, to, past in (("village", "township", now), ("township", "county", now - timedelta(days=days))):
        late = (Alert.rule == code, Alert.state.in_(OPEN_STATES), Alert.level == level, Alert.due_at < past)
        ids = list(session.exec(select(Alert.id).where(*late)))
        if not ids:
            continue
        for chunk in range(0, len(ids), CHUNK):
            part = ids[chunk : chunk + CHUNK]
            statement = (
                update(Alert)
                .where(Alert.id.in_(part), Alert.level == level)
                .values(level=to)
                .execution_options(synchronize_session=False)
            )
            session.execute(statement)
        events = [_event(actor, "alert.escalated", alert_id, {"from": level, "to": to}) for alert_id in ids]
        session.execute(insert(AuditEvent), events)
        moved += len(ids)
    return moved


def _event(actor: audit.Actor, action: str, alert_id: int, detail: dict) -> dict:
    """One audit row about an alert, for a bulk insert (audit.record adds ORM objects one by one)."""
    user = actor.user
    return {
        "user_id": getattr(user, "id", None),
        "username": getattr(user, "username", None),
        "action": action,
        "object_type": "alert",
        "object_id": str(alert_id),
        "ip": actor.ip,
        "detail": json.dumps(detail, ensure_ascii=False),
        "at": utcnow(),
    }
