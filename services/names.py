"""How people and households are named on screens, cards and lists."""

from sqlalchemy import and_
from sqlmodel import Session, select

from models import Area, Household, Person, User

NO_HEAD = "（未登记户主）"


def household_label(session: Session, household: Household) -> str:
    """Return "碗窑村 0001号": how staff name a household."""
    village = session.get(Area, household.area_code)
    return f"{village.name if village else household.area_code} {household.household_no}号"


def mask_name(name: str | None) -> str:
    """Hide the middle of a name for anyone who may see it: 张*明, 李*; a one-character name is never shown whole."""
    if not name:
        return ""
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def user_names(session: Session, ids) -> dict[int, str]:
    """Return {user id: display name} for the given ids in one query."""
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(session.exec(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def household_names(session: Session, ids) -> dict[int, tuple[str, str, str]]:
    """Return {household id: (number, village name, head's name)} in one query."""
    head = and_(Person.household_id == Household.id, Person.is_head)
    query = (
        select(Household.id, Household.household_no, Area.name, Person.name)
        .join(Area, Area.code == Household.area_code)
        .outerjoin(Person, head)
        .where(Household.id.in_(set(ids)))
    )
    return {hid: (no, village, name or NO_HEAD) for hid, no, village, name in session.exec(query)}
