"""The alerts a user may see, for lists and the API: scoped by the alert's village, red first, then the earliest due."""

from sqlalchemy import case
from sqlmodel import Session, select

from models import Alert
from services.errors import Invalid
from services.inputs import small_int
from services.scope import where_in_scope

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
