"""Household members: add, edit, their categories, and audited full ID views."""

from collections.abc import Mapping

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, delete, select

from models import Area, Household, Person, PersonCategory, User, utcnow
from services import audit
from services.audit import Actor
from services.errors import Invalid
from services.inputs import name_problem
from services.registry import idnumber
from services.registry.categories import CATEGORIES
from services.registry.phones import PHONE_MESSAGE, is_phone_number, normal_phone
from services.scope import is_in_scope

ID_ELSEWHERE = "id_number_elsewhere"  # Invalid.code: the number is registered outside the user's scope
ELSEWHERE_MESSAGE = "该身份证号已在别处登记，请联系乡镇经办员核实"
RELATIONS = ("本人", "配偶", "子", "女", "父亲", "母亲", "孙子", "孙女", "兄弟姐妹", "其他")
HEAD = "本人"
SEXES = ("男", "女")


def parse_person_form(form: Mapping, categories: list[str]) -> dict:
    """Validate one member's fields; raise Invalid listing what is wrong."""
    errors = {}
    name = str(form.get("name", "")).strip()
    if problem := name_problem(name):
        errors["name"] = problem
    relation = str(form.get("relation", "")).strip()
    if relation not in RELATIONS:
        errors["relation"] = "请选择与户主关系"
    raw_id = str(form.get("id_number", "")).strip()
    parsed = None
    if raw_id:
        try:
            parsed = idnumber.parse(raw_id)
        except idnumber.IdNumberError as error:
            errors["id_number"] = str(error)
    phone = normal_phone(form.get("phone"))
    if not is_phone_number(phone):
        errors["phone"] = PHONE_MESSAGE
    grade = str(form.get("disability_grade", "")).strip()
    if grade and grade not in ("1", "2", "3", "4"):
        errors["disability_grade"] = "残疾等级为 1 到 4 级"
    sex = str(form.get("sex", "")).strip()
    if sex not in ("", *SEXES):
        errors["sex"] = "性别请选择男或女"
    unknown = [c for c in categories if c not in CATEGORIES]
    if unknown:
        errors["categories"] = "保障类别有误"
    if errors:
        raise Invalid(errors)
    return {
        "name": name,
        "relation": relation,
        "phone": phone or None,
        "disability_grade": int(grade) if grade else None,
        "id_number": parsed.number if parsed else None,
        "id_last4": parsed.last4 if parsed else None,
        "birth_date": parsed.birth_date if parsed else None,
        "sex": parsed.sex if parsed else (sex or None),
        "categories": list(dict.fromkeys(categories)),
    }


def find_by_id_number(session: Session, number: str) -> Person | None:
    """Return the person registered with this ID number anywhere in the city."""
    return session.exec(select(Person).where(Person.id_number == number)).first()


def describe_duplicate(session: Session, user: User, existing: Person) -> Invalid:
    """Explain where an ID number is already registered: inside the user's scope with a link, outside not even where.

    Naming the village would tell anyone typing ID numbers where a person lives.
    """
    household = session.get(Household, existing.household_id)
    if is_in_scope(user, household.area_code):
        area = session.get(Area, household.area_code)
        return Invalid(
            {
                "id_number": f"该身份证号已登记在{area.name} {household.household_no} 号户",
                "existing_household_id": str(household.id),
            }
        )
    return Invalid({"id_number": ELSEWHERE_MESSAGE}, code=ID_ELSEWHERE)


def record_duplicate_elsewhere(session: Session, actor: Actor, number: str) -> None:
    """Audit that the user typed an ID number registered outside their scope (masked, never in full).

    The view calls it after rolling back the refused save, so the event outlives the refusal.
    """
    person = find_by_id_number(session, number)
    audit.record(session, actor, "person.duplicate_id_elsewhere", person, id_number=idnumber.mask(number))


def _check_unique_id(session: Session, user: User, number: str | None, person_id: int | None) -> None:
    if number is None:
        return
    existing = find_by_id_number(session, number)
    if existing is not None and existing.id != person_id:
        raise describe_duplicate(session, user, existing)


def _set_categories(session: Session, person: Person, categories: list[str]) -> None:
    session.exec(delete(PersonCategory).where(PersonCategory.person_id == person.id))
    for category in categories:
        session.add(PersonCategory(person_id=person.id, category=category))


def add_person(session: Session, actor: Actor, household: Household, data: dict) -> Person:
    """Add a member to a household; an ID number already registered anywhere is refused."""
    data = dict(data)
    categories = data.pop("categories")
    _check_unique_id(session, actor.user, data["id_number"], None)
    if data["relation"] == HEAD and _has_head(session, household):
        raise Invalid({"relation": "这户已有户主（本人），请选择其他关系"})
    person = Person(household_id=household.id, is_head=data["relation"] == HEAD, **data)
    try:
        with session.begin_nested():
            session.add(person)
    except IntegrityError:  # the same ID number was entered elsewhere at the same moment
        _check_unique_id(session, actor.user, data["id_number"], None)
        raise
    _set_categories(session, person, categories)
    household.updated_at = utcnow()
    session.add(household)
    audit.record(session, actor, "person.created", person, household_id=household.id)
    return person


def update_person(session: Session, actor: Actor, household: Household, person: Person, data: dict) -> None:
    """Change a member's fields and categories, auditing which fields changed.

    A blank ID number keeps the one on file: the edit form never shows it in full.
    """
    data = dict(data)
    categories = data.pop("categories")
    if data["id_number"] is None and person.id_number:
        data.update(id_number=person.id_number, id_last4=person.id_last4, birth_date=person.birth_date, sex=person.sex)
    _check_unique_id(session, actor.user, data["id_number"], person.id)
    if data["relation"] == HEAD and not person.is_head and _has_head(session, household):
        raise Invalid({"relation": "这户已有户主（本人），请选择其他关系"})
    changed = sorted(k for k, v in data.items() if getattr(person, k) != v)
    for key, value in data.items():
        setattr(person, key, value)
    person.is_head = person.relation == HEAD
    session.add(person)
    _set_categories(session, person, categories)
    audit.record(
        session, actor, "person.updated", person, household_id=household.id, fields=changed, categories=categories
    )


def categories_of(session: Session, person: Person) -> list[str]:
    """Return one person's category codes."""
    query = select(PersonCategory.category).where(PersonCategory.person_id == person.id)
    return sorted(session.exec(query).all(), key=list(CATEGORIES).index)


def _has_head(session: Session, household: Household) -> bool:
    query = select(Person.id).where(Person.household_id == household.id, Person.is_head)
    return session.exec(query).first() is not None


def reveal_id_number(session: Session, actor: Actor, person: Person) -> str:
    """Return a member's full ID number and audit that it was shown."""
    audit.record(session, actor, "person.id_viewed", person, household_id=person.household_id)
    return person.id_number or "—"
