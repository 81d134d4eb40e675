"""Writing a checked roster: households, members and categories in a handful of statements."""

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models import AuditEvent, Household, Person, PersonCategory
from services import audit
from services.audit import Actor
from services.cards.cards import issue_cards_bulk
from services.errors import Conflict
from services.inputs import small_int
from services.registry.persons import HEAD
from services.roster.file import Member, Preview

# ---- importing -----------------------------------------------------------------------------


def apply(session: Session, actor: Actor, preview: Preview) -> tuple[int, int]:
    """Write the checked families (the caller commits); return (households, persons) created."""
    new = [f for f in preview.families if f.household_id is None]
    highest = _highest_numbers(session, {f.area_code for f in new})
    households = []
    for f in new:
        highest[f.area_code] += 1
        number = f"{highest[f.area_code]:04d}"
        households.append(Household(area_code=f.area_code, household_no=number, address=f.address, phone=f.phone))
    try:
        # a savepoint: a clash undoes every row of this import and nothing else of the caller's; opening it
        # flushes anything pending first, as the inserts below bypass the unit of work
        with session.begin_nested():
            _insert_all(session, households, "area_code", "household_no")
            created = {id(f): h.id for f, h in zip(new, households, strict=True)}
            issue_cards_bulk(session, [h.id for h in households])
            people = [
                (f, m, _person(m, f.household_id or created[id(f)]))
                for f in preview.families
                for m in ([*f.members] if f.household_id else [f.head, *f.members])
            ]
            _insert_all(session, [person for _, _, person in people], "id_number")
            categories = [{"person_id": person.id, "category": c} for _, m, person in people for c in m.categories]
            if categories:
                session.exec(insert(PersonCategory), params=categories)
    except IntegrityError:  # someone registered the same ID or household number at the same moment
        raise Conflict("导入时有人同时登记了相同的身份证号或户编号，本次什么都没有导入，请重新导入") from None
    _audit(session, actor, preview, list(zip(new, households, strict=True)), people)
    return len(households), len(people)


def _insert_all(session: Session, objects: list, *key: str) -> None:
    """Insert rows of one table in multi-row statements and set their new ids.

    The ids come back through RETURNING matched on a unique key, not on order: SQLite cannot promise
    the order, and the ORM's flush would then insert one row per statement.
    """
    if not objects:
        return
    model = type(objects[0])
    statement = insert(model).returning(model.id, *(getattr(model, name) for name in key))
    params = [obj.model_dump(exclude={"id"}) for obj in objects]
    # render_nulls: rows with and without a phone or an amount still go in the same statement
    rows = session.exec(statement, params=params, execution_options={"render_nulls": True})
    ids = {tuple(row[1:]): row[0] for row in rows}
    for obj in objects:
        obj.id = ids[tuple(getattr(obj, name) for name in key)]


def _person(m: Member, household_id: int) -> Person:
    fields = {"name": m.name, "relation": m.relation, "is_head": m.relation == HEAD, "phone": m.phone}
    derived = {"id_number": m.id.number, "id_last4": m.id.last4, "birth_date": m.id.birth_date, "sex": m.id.sex}
    return Person(household_id=household_id, monthly_allowance_fen=m.allowance_fen, **fields, **derived)


def _highest_numbers(session: Session, codes: set[str]) -> dict[str, int]:
    """Return the highest numeric household number per village, in one query."""
    highest = dict.fromkeys(codes, 0)
    if codes:
        query = select(Household.area_code, Household.household_no).where(Household.area_code.in_(codes))
        for code, number in session.exec(query):
            highest[code] = max(highest[code], small_int(number) or 0)
    return highest


def _audit(session: Session, actor: Actor, preview: Preview, created, people) -> None:
    """Record one event per new household and per member added to an older one, in one INSERT."""
    source = {"source": "roster", "file": preview.file_name}
    events = []
    for family, household in created:
        detail = {"area_code": household.area_code, "persons": 1 + len(family.members), **source}
        events.append(audit.record(session, actor, "household.created", household, **detail))
    for family, _member, person in people:
        if family.household_id is not None:  # a member added to a household registered before
            detail = {"household_id": person.household_id, **source}
            events.append(audit.record(session, actor, "person.created", person, **detail))
    for event in events:  # taken back from the unit of work, which would insert them one by one
        session.expunge(event)
    if events:
        session.exec(insert(AuditEvent), params=[event.model_dump(exclude={"id"}) for event in events])
    counts = {"households": len(created), "persons": len(people), "already_present": preview.already_present}
    problems = {"errors": len(preview.errors), "skipped": len(preview.skipped), "duplicates": len(preview.duplicates)}
    audit.record(session, actor, "roster.imported", None, file=preview.file_name, **counts, **problems)


def summary(preview: Preview, households: int = 0, persons: int = 0, *, dry_run: bool = False) -> dict:
    """Return what an import did (or, for a dry run, would do) as plain data."""
    return {
        "households_created": households,
        "persons_created": persons,
        "duplicates_skipped": len(preview.duplicates),
        "errors": [p.as_dict() for p in preview.errors],
        "households_to_create": preview.households_to_create,
        "persons_to_create": preview.persons_to_create,
        "already_present": preview.already_present,
        "duplicate_rows": preview.duplicates,
        "skipped": [p.as_dict() for p in preview.skipped],
        "dry_run": dry_run,
    }


def describe(result: dict) -> str:
    """Return a short Chinese summary of an import result for the command line."""
    if result["dry_run"]:
        head = f"检查完毕（未写入）：可新增 {result['households_to_create']} 户、{result['persons_to_create']} 人"
    else:
        head = f"导入完成：新增 {result['households_created']} 户、{result['persons_created']} 人"
    lines = [f"{head}；已在册 {result['already_present']} 人；重复行 {result['duplicates_skipped']} 行已跳过"]
    if result["skipped"]:
        lines.append(f"随户跳过 {len(result['skipped'])} 行")
    if result["errors"]:
        lines.append(f"{len(result['errors'])} 行有错，未导入：")
        lines += [f"  第 {e['row']} 行：{e['reason']}" for e in result["errors"]]
    return "\n".join(lines)
