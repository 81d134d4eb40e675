"""The household registry: scoped queries, lookups and household-level changes."""

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import and_, case, exists, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models import Area, Household, Person, PersonCategory, User, utcnow
from services import audit
from services.audit import Actor
from services.cards.cards import issue_card, undelivered
from services.errors import Invalid, NotFound
from services.inputs import is_row_id, name_problem, small_int, text_problem
from services.paging import page_of
from services.permissions import require
from services.registry.categories import CATEGORIES
from services.registry.phones import PHONE_MESSAGE, is_phone_number, normal_phone
from services.scope import is_in_scope, where_in_scope, where_under

KINDS = {"family": "家庭", "institution": "供养/福利机构"}
STATUSES = {"active": "在册", "exited": "已退出"}
FLAGS = {"care_agreement": "已签订照料协议", "wants_institutional_care": "有集中供养意愿"}
EXIT_REASONS = ("收入提高，不再符合条件", "户内人员全部死亡", "迁出本地", "转入集中供养机构", "其他")
MAX_EXIT_NOTE = 180  # exit_reason holds 200: "其他：" and the note


# ---- reading -------------------------------------------------------------------------------


def households_in_scope(user: User):
    """Return a select() of the households the user may see."""
    return select(Household).where(where_in_scope(user, Household.area_code))


def get_household_for(session: Session, user: User, household_id: int, capability: str | None = None) -> Household:
    """Return the household if it lies in the user's scope (else 404, whether it exists or not).

    With a capability, a user in scope who lacks it is refused (403): scope first, so a 403 never
    tells someone outside the area that the household exists.
    """
    household = session.get(Household, household_id) if is_row_id(household_id) else None
    if household is None or not is_in_scope(user, household.area_code):
        raise NotFound()
    if capability is not None:
        require(user, capability, household)
    return household


def get_person_for(session: Session, user: User, person_id: int) -> tuple[Household, Person]:
    """Return a person and their household through the household's scope check."""
    person = session.get(Person, person_id) if is_row_id(person_id) else None
    if person is None:
        raise NotFound()
    return get_household_for(session, user, person.household_id), person


def assistant_of(session: Session, household: Household) -> User | None:
    """Return the household's assistant, if one is assigned."""
    return session.get(User, household.assistant_id) if household.assistant_id else None


def is_active(household: Household) -> bool:
    """Tell whether the household is on the register: only then does it take new visits and applications."""
    return household.status == "active"


def check_active(household: Household, work: str) -> None:
    """Refuse new work (a visit, an application) for a household that has left the register."""
    if not is_active(household):
        raise Invalid(f"这户已退出在册，不能再{work}")


def search_households(
    user: User,
    *,
    q: str = "",
    category: str = "",
    village: str = "",
    status: str = "active",
    card: str = "",
    area: str = "",
    kind: str = "",
    flag: str = "",
):
    """Return a select() of households in scope matching a search text and filters, by village and number.

    The text matches part of a member's name (typed % and _ are plain characters), the household
    number with or without its leading zeros ("12" finds 0012), a phone number or the last four
    characters of a member's ID number. card="undelivered" keeps households whose card has not
    reached them yet. area= keeps one area of any level (the coverage page links with it).
    """
    query = households_in_scope(user)
    if card == "undelivered":
        query = undelivered(query)
    if status in STATUSES:
        query = query.where(Household.status == status)
    if village:
        query = query.where(Household.area_code == village)
    if area:
        query = query.where(where_under(area, Household.area_code))
    if kind in KINDS:
        query = query.where(Household.kind == kind)
    if flag == "care_agreement":
        query = query.where(Household.care_agreement_signed)
    elif flag == "wants_institutional_care":
        query = query.where(Household.wants_institutional_care)
    if category in CATEGORIES:
        query = query.where(
            exists().where(
                Person.household_id == Household.id,
                PersonCategory.person_id == Person.id,
                PersonCategory.category == category,
            )
        )
    text = q.strip()
    if text:
        member = or_(Person.name.contains(text, autoescape=True), Person.phone == text)
        if re.fullmatch(r"[0-9]{3}[0-9xX]", text):
            member = or_(member, Person.id_last4 == text.upper())
        query = query.where(
            or_(
                _number_is(text),
                Household.phone == text,
                exists().where(Person.household_id == Household.id, member),
            )
        )
    # a township's or county's list reads village by village, each in number order (ids mix villages)
    return query.order_by(Household.area_code, Household.household_no, Household.id)


def _number_is(text: str):
    """Match the household number as typed, or with its leading zeros left out on either side (12, 012, 0012)."""
    if not (text.isascii() and text.isdigit() and text.strip("0")):
        return Household.household_no == text
    return or_(Household.household_no == text, func.ltrim(Household.household_no, "0") == text.lstrip("0"))


def households_by_number(user: User, household_no: str):
    """Return a select() of households in scope with this household number, active ones first.

    A short number is also tried padded to four digits, so "12" finds 0012.
    """
    text = household_no.strip()
    numbers = {text, text.zfill(4)} if text.isdigit() else {text}
    active_first = case((Household.status == "active", 0), else_=1)
    return (
        households_in_scope(user)
        .where(Household.household_no.in_(sorted(numbers)))
        .order_by(active_first, Household.area_code, Household.id)
    )


@dataclass
class HouseholdRow:
    """What the list shows of one household."""

    household: Household
    village: str
    head_name: str = "（未登记户主）"
    members: int = 0
    categories: list[str] = field(default_factory=list)


def list_rows(session: Session, query, *, offset: int, limit: int) -> tuple[list[HouseholdRow], bool]:
    """Run a household query for one page and fetch heads, counts and categories in bulk."""
    households, has_more = page_of(session, query, offset=offset, limit=limit)
    ids = [h.id for h in households]
    if not ids:
        return [], False
    names = dict(
        session.exec(select(Area.code, Area.name).where(Area.code.in_({h.area_code for h in households}))).all()
    )
    rows = {h.id: HouseholdRow(h, names.get(h.area_code, h.area_code)) for h in households}
    for household_id, name in session.exec(
        select(Person.household_id, Person.name).where(Person.household_id.in_(ids), Person.is_head)
    ):
        rows[household_id].head_name = name
    for household_id, count in session.exec(
        select(Person.household_id, func.count()).where(Person.household_id.in_(ids)).group_by(Person.household_id)
    ):
        rows[household_id].members = count
    for household_id, category in session.exec(
        select(Person.household_id, PersonCategory.category)
        .distinct()
        .join(PersonCategory, PersonCategory.person_id == Person.id)
        .where(Person.household_id.in_(ids))
    ):
        rows[household_id].categories.append(category)
    for row in rows.values():
        row.categories.sort(key=list(CATEGORIES).index)
    return [rows[i] for i in ids], has_more


def members_with_categories(session: Session, household: Household) -> list[tuple[Person, list[str]]]:
    """Return the household's members, head first, each with their categories."""
    persons = list(
        session.exec(
            select(Person).where(Person.household_id == household.id).order_by(Person.is_head.desc(), Person.id)
        )
    )
    by_person = defaultdict(list)
    if persons:
        for person_id, category in session.exec(
            select(PersonCategory.person_id, PersonCategory.category).where(
                PersonCategory.person_id.in_([p.id for p in persons])
            )
        ):
            by_person[person_id].append(category)
    return [(p, sorted(by_person[p.id], key=list(CATEGORIES).index)) for p in persons]


def assistants_by_village(session: Session, codes: list[str]) -> dict[str, list[User]]:
    """Return the active assistants of each village, in one query."""
    found: dict[str, list[User]] = {code: [] for code in codes}
    query = select(User).where(User.role == "assistant", User.area_code.in_(codes), User.active)
    for user in session.exec(query.order_by(User.display_name)):
        found[user.area_code].append(user)
    return found


def count_in_scope(session: Session, user: User) -> dict[str, int]:
    """Return active households, persons and undelivered cards in the user's scope."""
    scoped = and_(where_in_scope(user, Household.area_code), Household.status == "active")
    households = session.exec(select(func.count()).select_from(Household).where(scoped)).one()
    persons = session.exec(
        select(func.count()).select_from(Person).join(Household, Household.id == Person.household_id).where(scoped)
    ).one()
    no_card = session.exec(undelivered(select(func.count()).select_from(Household).where(scoped))).one()
    return {"households": households, "persons": persons, "undelivered": no_card}


# ---- writing -------------------------------------------------------------------------------


def _flag(form: Mapping, name: str) -> bool:
    return str(form.get(name, "")).lower() in ("1", "on", "true", "yes", "y")


def parse_household_form(session: Session, user: User, form: Mapping) -> dict:
    """Validate the household fields of a form; raise Invalid listing what is wrong."""
    errors = {}
    area_code = str(form.get("area_code", "")).strip()
    area = session.get(Area, area_code) if area_code else None
    if area is None or area.level != 4 or not is_in_scope(user, area_code):
        errors["area_code"] = "请选择您辖区内的村（社区）"
    kind = str(form.get("kind", "family"))
    if kind not in KINDS:
        errors["kind"] = "请选择类型"
    address = str(form.get("address", "")).strip()
    if len(address) > 200:
        errors["address"] = "地址太长（最多 200 字）"
    elif problem := text_problem(address, "地址"):
        errors["address"] = problem
    phone = normal_phone(form.get("phone"))
    if not is_phone_number(phone):
        errors["phone"] = PHONE_MESSAGE
    guardian = str(form.get("guardian", "")).strip()
    if guardian and (problem := name_problem(guardian, "监护人")):
        errors["guardian"] = problem
    assistant_id = str(form.get("assistant_id", "")).strip()
    assistant = None
    if assistant_id:
        chosen = small_int(assistant_id)
        assistant = session.get(User, chosen) if is_row_id(chosen) else None
        if assistant is None or assistant.role != "assistant" or assistant.area_code != area_code:
            errors["assistant_id"] = "请选择本村的协理员"
    if errors:
        raise Invalid(errors)
    return {
        "area_code": area_code,
        "kind": kind,
        "address": address or None,
        "phone": phone or None,
        "guardian": guardian or None,
        "wants_institutional_care": _flag(form, "wants_institutional_care"),
        "assistant_id": assistant.id if assistant else None,
    }


def next_household_no(session: Session, area_code: str) -> str:
    """Return the next free household number in a village (0001, 0002, …)."""
    numbers = session.exec(select(Household.household_no).where(Household.area_code == area_code)).all()
    highest = max((small_int(n) or 0 for n in numbers), default=0)
    return f"{highest + 1:04d}"


def add_household(session: Session, actor: Actor, data: dict) -> Household:
    """Insert a household with the next number of its village."""
    for _attempt in range(3):
        household = Household(household_no=next_household_no(session, data["area_code"]), **data)
        try:
            with session.begin_nested():
                session.add(household)
        except IntegrityError:  # another officer took the same number at the same moment: take the next
            continue
        issue_card(session, household)
        audit.record(session, actor, "household.created", household, area_code=household.area_code)
        return household
    raise Invalid({"household_no": "户编号冲突，请重试"})


def update_household(session: Session, actor: Actor, household: Household, data: dict) -> str | None:
    """Change a household's fields and audit which ones changed.

    A household moved to a village that already uses its number takes that village's next free
    number; the new number is returned (None when the number stayed) so the page can say so.
    """
    changed = {k: v for k, v in data.items() if getattr(household, k) != v}
    if not changed:
        return None
    old_no = household.household_no
    moving = "area_code" in changed
    taken = moving and _number_taken(session, changed["area_code"], old_no)
    for _attempt in range(3):
        if taken:
            changed["household_no"] = next_household_no(session, changed["area_code"])
        try:
            with session.begin_nested():  # undoes only this change; the values are set again below
                for key, value in changed.items():
                    setattr(household, key, value)
                household.updated_at = utcnow()
                session.add(household)
        except IntegrityError:  # another household took this number in the new village at the same moment
            taken = True
            continue
        detail = {"fields": sorted(changed)}
        if "household_no" in changed:
            detail["household_no"] = {"from": old_no, "to": household.household_no}
        audit.record(session, actor, "household.updated", household, **detail)
        return household.household_no if "household_no" in changed else None
    raise Invalid({"area_code": "新村（社区）的户编号冲突，请重试"})


def _number_taken(session: Session, area_code: str, household_no: str) -> bool:
    query = select(Household.id).where(Household.area_code == area_code, Household.household_no == household_no)
    return session.exec(query).first() is not None


def exit_household(session: Session, actor: Actor, household: Household, reason: str, note: str = "") -> None:
    """Mark a household as exited with a reason; nothing is ever deleted."""
    if household.status == "exited":
        raise Invalid({"reason": "这户已经退出"})
    if reason not in EXIT_REASONS:
        raise Invalid({"reason": "请选择退出原因"})
    if reason == "其他" and not note.strip():
        raise Invalid({"note": "选择“其他”时请写明原因"})
    if reason == "其他" and len(note.strip()) > MAX_EXIT_NOTE:
        raise Invalid({"note": f"原因最多 {MAX_EXIT_NOTE} 字"})
    household.status = "exited"
    household.exit_reason = reason if reason != "其他" else f"其他：{note.strip()}"
    household.exited_at = household.updated_at = utcnow()
    session.add(household)
    audit.record(session, actor, "household.exited", household, reason=household.exit_reason)


def restore_household(session: Session, actor: Actor, household: Household) -> None:
    """Bring an exited household back into the register."""
    if household.status != "exited":
        return
    household.status, household.exit_reason, household.exited_at = "active", None, None
    household.updated_at = utcnow()
    session.add(household)
    audit.record(session, actor, "household.restored", household)
