"""The alerts a user may see, for lists and the API: scoped by the alert's village, red first, then the earliest due."""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case
from sqlmodel import Session, func, select

from models import Alert, AuditEvent
from services.alerts.outcomes import OPEN_STATES, OUTCOMES
from services.alerts.rules import GRADE_LABELS, RULES
from services.clock import CHINA, china_date, today_in_china
from services.errors import Invalid, NotFound
from services.inputs import is_row_id, small_int
from services.names import household_names, user_names
from services.scope import is_in_scope, where_in_scope, where_under

STATES = {"open": "待处理", "assigned": "已派给协理员", "checked": "已核实", "closed": "已办结"}
GRADE_ORDER = case((Alert.grade == "red", 0), (Alert.grade == "orange", 1), else_=2)


def parse_filters(state: str | None, household_id: str | None) -> tuple[str | None, int | None]:
    """Read ?state= and ?household_id=; refuse what is not one of them in plain words."""
    state = (state or "").strip() or None
    if state is not None and state not in STATES:
        raise Invalid({"state": "state 只能是 " + "、".join(STATES)})
    household = (household_id or "").strip()
    if not household:
        return state, None
    number = small_int(household)
    if number is None or number < 1:
        raise Invalid({"household_id": "household_id 应为正整数"})
    return state, number


def page(session: Session, user, state: str | None, household_id: int | None, *, offset: int, limit: int):
    """Return one page of the alerts in the user's scope that pass the filters, and whether more follow."""
    query = select(Alert).where(where_in_scope(user, Alert.area_code))
    if state:
        query = query.where(Alert.state == state)
    if household_id:
        query = query.where(Alert.household_id == household_id)
    query = query.order_by(GRADE_ORDER, Alert.due_at, Alert.id).offset(offset).limit(limit + 1)
    rows = list(session.exec(query))
    return rows[:limit], len(rows) > limit


# ---- one alert, the pages' list, the 首页 ---------------------------------------------------

PAGE_STATES = {"open": "未办结", "closed": "已办结", "all": "全部"}
LEVELS = {"village": "村（协理员）", "township": "乡镇", "county": "县（区）"}
# which level an officer's 首页 counts as "moved up to you"
LEVEL_OF_ROLE = {"township": "township", "county": "county", "city": "county", "admin": "county"}
ALERT_ACTIONS = ("alert.escalated", "alert.checked", "alert.closed", "alert.excluded")


def get_alert_for(session: Session, user, alert_id: int) -> Alert:
    """Return the alert if its village is in the user's scope; otherwise 404."""
    alert = session.get(Alert, alert_id) if is_row_id(alert_id) else None
    if alert is None or not is_in_scope(user, alert.area_code):
        raise NotFound()
    return alert


@dataclass(frozen=True)
class Filters:
    """The list page's filters, each already checked (a value it does not know is dropped, not refused)."""

    grade: str = ""
    state: str = "open"
    level: str = ""
    overdue: bool = False
    rule: str = ""
    area: str = ""
    outcome: str = ""
    # China days, both inclusive (the statistics' links: raised or checked inside a campaign's window)
    raised_from: date | None = None
    raised_to: date | None = None
    checked_from: date | None = None
    checked_to: date | None = None

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments, the defaults left out."""
        args = {"grade": self.grade, "level": self.level, "rule": self.rule, "area": self.area, "outcome": self.outcome}
        args = {key: value for key, value in args.items() if value}
        for key in DAY_FILTERS:
            if getattr(self, key):
                args[key] = getattr(self, key).isoformat()
        if self.state != "open":
            args["state"] = self.state
        if self.overdue:
            args["overdue"] = "1"
        return args


DAY_FILTERS = ("raised_from", "raised_to", "checked_from", "checked_to")


def _day_arg(text: str | None) -> date | None:
    """A YYYY-MM-DD day, or None for anything else (a filter it cannot read is dropped, not refused)."""
    text = (text or "").strip()
    if len(text) != 10 or not text.isascii():
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _day_start(day: date) -> datetime:
    """The UTC moment a China day begins."""
    return datetime.combine(day, time(), CHINA).astimezone(UTC)


def parse_page_filters(args, user) -> Filters:
    """Read the list page's filters (grade, state, level, overdue=1, rule, area, outcome, raised_/checked_ days);
    an area outside the scope is a 404."""
    grade = (args.get("grade") or "").strip()
    state = (args.get("state") or "").strip()
    level = (args.get("level") or "").strip()
    rule = (args.get("rule") or "").strip()
    area = (args.get("area") or "").strip()
    outcome = (args.get("outcome") or "").strip()
    if area and not (len(area) == 12 and area.isascii() and area.isdigit() and is_in_scope(user, area)):
        raise NotFound()
    return Filters(
        grade=grade if grade in GRADE_LABELS else "",
        state=state if state in PAGE_STATES else "open",
        level=level if level in LEVELS else "",
        overdue=args.get("overdue") == "1",
        rule=rule if rule in RULES else "",
        area=area,
        outcome=outcome if outcome in OUTCOMES else "",
        **{key: _day_arg(args.get(key)) for key in DAY_FILTERS},
    )


def search(user, filters: Filters, now: datetime):
    """Return a select() of the alerts in scope that pass the filters, red first, then the earliest due."""
    query = select(Alert).where(where_in_scope(user, Alert.area_code))
    if filters.state == "open":
        query = query.where(Alert.state.in_(OPEN_STATES))
    elif filters.state == "closed":
        query = query.where(Alert.state == "closed")
    if filters.grade:
        query = query.where(Alert.grade == filters.grade)
    if filters.level:
        query = query.where(Alert.level == filters.level)
    if filters.overdue:
        query = query.where(Alert.due_at < now, Alert.state.in_(OPEN_STATES))
    if filters.rule:
        query = query.where(Alert.rule == filters.rule)
    if filters.area:
        query = query.where(where_under(filters.area, Alert.area_code))
    if filters.outcome:
        query = query.where(Alert.outcome == filters.outcome)
    for column, first, last in (
        (Alert.raised_at, filters.raised_from, filters.raised_to),
        (Alert.checked_at, filters.checked_from, filters.checked_to),
    ):
        if first:
            query = query.where(column >= _day_start(first))
        if last:
            query = query.where(column < _day_start(last + timedelta(days=1)))
    return query.order_by(GRADE_ORDER, Alert.due_at, Alert.id)


@dataclass
class AlertRow:
    """An alert as a list shows it: its rule's label, whom it is about (never an ID number), how late it is."""

    alert: Alert
    rule_label: str
    household: str  # 碗窑村 0001号
    head_name: str
    days_overdue: int

    @property
    def grade_label(self) -> str:
        return GRADE_LABELS.get(self.alert.grade, self.alert.grade)


def rows_for(session: Session, alerts: list[Alert], now: datetime) -> list[AlertRow]:
    """Name the alerts' households in one query and work out how many days each is past due."""
    names = household_names(session, [a.household_id for a in alerts if a.household_id])
    today = today_in_china(now)
    rows = []
    for alert in alerts:
        number, village, head = names.get(alert.household_id, ("", "", ""))
        late = (today - china_date(alert.due_at)).days if alert.state in OPEN_STATES else 0
        rule = RULES.get(alert.rule)
        household = f"{village} {number}号" if number else ("待核实对象" if alert.candidate_id else "")
        rows.append(AlertRow(alert, rule.label if rule else alert.rule, household, head, max(late, 0)))
    return rows


def list_rows(session: Session, query, now: datetime, *, offset: int, limit: int) -> tuple[list[AlertRow], bool]:
    """Return one page of the query's alerts as rows, and whether more follow."""
    alerts = list(session.exec(query.offset(offset).limit(limit + 1)))
    return rows_for(session, alerts[:limit], now), len(alerts) > limit


def task_clauses(user) -> tuple:
    """Return the WHERE clauses of an assistant's tasks: assigned to them, not checked yet, in their scope.

    One rule for 首页, the 走访 tab and the offline pack, so the phone with no signal lists what the page lists.
    """
    return (
        Alert.assigned_to_id == user.id,
        Alert.state == "assigned",
        where_in_scope(user, Alert.area_code),
    )


TASK_ORDER = (GRADE_ORDER, Alert.due_at, Alert.id)  # red first, then the earliest due


def tasks(session: Session, user, now: datetime, limit: int = 20) -> tuple[list[AlertRow], int]:
    """Return an assistant's assigned alerts to check (red first, earliest due) and how many there are in all."""
    mine = task_clauses(user)
    total = session.exec(select(func.count()).select_from(Alert).where(*mine)).one()
    if not total:
        return [], 0
    query = select(Alert).where(*mine).order_by(*TASK_ORDER).limit(limit)
    return rows_for(session, list(session.exec(query)), now), total


def open_for_household(session: Session, user, household_id: int, now: datetime) -> list[AlertRow]:
    """Return the household's alerts not yet checked (red first, earliest due), for its page."""
    query = (
        select(Alert)
        .where(Alert.household_id == household_id, Alert.state.in_(OPEN_STATES), where_in_scope(user, Alert.area_code))
        .order_by(GRADE_ORDER, Alert.due_at, Alert.id)
        .limit(20)
    )
    return rows_for(session, list(session.exec(query)), now)


@dataclass
class HomeCounts:
    """An officer's 首页: open alerts by grade, how many are overdue, how many were moved up to their level."""

    by_grade: dict[str, int]
    overdue: int
    moved_up: int
    level: str

    @property
    def total(self) -> int:
        return sum(self.by_grade.values())


def home_counts(session: Session, user, now: datetime) -> HomeCounts:
    """Count the open alerts in scope in one GROUP BY (grade, level, past due)."""
    late = case((Alert.due_at < now, 1), else_=0)
    query = (
        select(Alert.grade, Alert.level, late, func.count())
        .where(where_in_scope(user, Alert.area_code), Alert.state.in_(OPEN_STATES))
        .group_by(Alert.grade, Alert.level, late)
    )
    level = LEVEL_OF_ROLE.get(user.role, "township")
    counts = HomeCounts({grade: 0 for grade in GRADE_LABELS}, 0, 0, level)
    for grade, alert_level, is_late, number in session.exec(query):
        counts.by_grade[grade] = counts.by_grade.get(grade, 0) + number
        counts.overdue += number if is_late else 0
        counts.moved_up += number if alert_level == level else 0
    return counts


@dataclass
class Step:
    """One line of an alert's history."""

    at: datetime | None
    text: str


def history(session: Session, alert: Alert) -> list[Step]:
    """Tell how the alert went: raised, assigned, moved up, checked, closed (the last three from the audit trail)."""
    rule = RULES.get(alert.rule)
    steps = [Step(alert.raised_at, f"规则“{rule.label if rule else alert.rule}”发现")]
    if alert.assigned_to_id:
        name = user_names(session, [alert.assigned_to_id]).get(alert.assigned_to_id, "")
        steps.append(Step(None, f"派给协理员 {name} 走访核实"))
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.action.in_(ALERT_ACTIONS),
            AuditEvent.object_type == "alert",
            AuditEvent.object_id == str(alert.id),
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    events = list(session.exec(query))
    names = user_names(session, [e.user_id for e in events])
    for event in events:
        detail = json.loads(event.detail or "{}")
        who = names.get(event.user_id) or event.username or "系统"
        outcome = OUTCOMES.get(detail.get("outcome"), detail.get("outcome") or "")
        if event.action == "alert.escalated":
            to = "乡镇逾期仍未核实，移交县（区）" if detail.get("to") == "county" else "到期未核实，移交乡镇经办员"
            steps.append(Step(event.at, to))
        elif event.action == "alert.checked":
            steps.append(Step(event.at, f"{who} 走访核实：{outcome}"))
        else:
            how = "随走访办结" if detail.get("by_visit") or detail.get("visit_id") else "办结（未走访）"
            steps.append(Step(event.at, f"{who} {how}：{outcome}"))
    return steps
