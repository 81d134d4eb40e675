"""Import a county's department list in the caller's one transaction: store each row once, act on it, raise alerts.

A row is stored once (SignalRecord.key: the same list — or next month's repeating a row — adds nothing). A row of
a person registered in the county is matched by ID number: a severe disability updates the person's grade, a death
marks the person dead (their payments stop: services/payouts/due.py) and exits the household when nobody is left.
A row of someone nobody registered may become a 待核实对象 for the township of their address (CANDIDATE_WHEN). Then
that kind's rules run (services/alerts/signal_rules.py), so the alerts appear at once.

Two officers confirming the same list at the same moment both succeed: the records land once (ON CONFLICT DO
NOTHING); a candidate might be made twice, which the township dismisses — too rare to lock the county for.
"""

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session, select

from models import Area, Candidate, Household, Person, SignalImport, SignalRecord, utcnow
from services import audit
from services.alerts import engine
from services.alerts.signal_rules import RULES_OF_KIND, UNREGISTERED_MEDICAL
from services.bulk import insert_new
from services.money import yuan
from services.registry.households import exit_household
from services.registry.idnumber import mask
from services.scope import PREFIX_LENGTH, area_level, where_under
from services.signals import lists
from services.signals.lists import SignalRow

CHUNK = 900  # ids per IN (…): SQLite's old limit on bound parameters is 999
DEATH_EXIT_REASON = "户内人员全部死亡"  # services/registry/households.py EXIT_REASONS
SEVERE = (1, 2)
SAMPLE_ROWS = 30


@dataclass
class Outcome:
    """What importing a list did: the counts, the rows left out and why, as the CLI's --json prints them."""

    kind: str
    rows: int = 0
    created: int = 0  # records new to Doudi
    already: int = 0  # rows imported before (this list or an earlier one)
    matched: int = 0  # new records of people registered in the county
    elsewhere: int = 0  # registered in another county: left to that county's own list
    candidates: int = 0  # 待核实对象 created
    not_acted: int = 0  # new records of unregistered people below what makes a candidate
    deaths: int = 0
    exited: int = 0  # households exited because everyone in them died
    alerts: int = 0
    again: bool = False  # this county imported the very same file before
    import_id: int | None = None
    errors: list[dict] = field(default_factory=list)
    sample: list[dict] = field(default_factory=list)  # the first new rows and what became of them, for the preview

    def as_dict(self) -> dict:
        keys = ("kind", "rows", "created", "already", "matched", "elsewhere", "candidates", "not_acted", "deaths",
                "exited", "alerts", "again", "errors")  # fmt: skip
        return {key: getattr(self, key) for key in keys}


def import_file(
    session: Session,
    actor: audit.Actor,
    kind: str,
    county_code: str,
    path: Path,
    file_name: str,
    stored_name: str | None = None,
) -> Outcome:
    """Store the list's new rows, act on them and raise that kind's alerts; bad rows are named and left out."""
    rows, errors = lists.read(path, kind)
    outcome = Outcome(kind=kind, rows=len(rows) + len(errors), errors=[e.as_dict() for e in errors])
    digest = _file_digest(path)
    earlier = session.exec(
        select(SignalImport).where(
            SignalImport.area_code == county_code, SignalImport.kind == kind, SignalImport.sha256 == digest
        )
    ).first()
    with session.begin_nested():  # undoes only this import if a later step fails
        batch = earlier
        if earlier is None:
            batch = SignalImport(
                kind=kind,
                area_code=county_code,
                file_name=file_name[:100],
                sha256=digest,
                rows=outcome.rows,
                created_by_id=getattr(actor.user, "id", None),
            )
            session.add(batch)
            session.flush()
        outcome.import_id, outcome.again = batch.id, earlier is not None
        unique = {}
        for row in rows:
            unique.setdefault(row.key(kind), row)  # a row twice in the file counts once
        stored = _stored_keys(session, list(unique))
        new = {key: row for key, row in unique.items() if key not in stored}
        outcome.already = len(rows) - len(new)
        records = _act(session, actor, kind, county_code, batch.id, new, outcome)
        outcome.created = insert_new(session, SignalRecord.__table__, records, "key")
        if earlier is None:
            batch.created, batch.matched, batch.candidates = outcome.created, outcome.matched, outcome.candidates
        result = engine.run(session, actor, only=RULES_OF_KIND[kind])
        outcome.alerts = sum(result.raised.values())
        audit.record(
            session,
            actor,
            "signals.imported",
            batch,
            kind=kind,
            county=county_code,
            rows=outcome.rows,
            created=outcome.created,
            candidates=outcome.candidates,
            deaths=outcome.deaths,
            alerts=outcome.alerts,
            again=outcome.again,
        )
    return outcome


def _file_digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()


def _stored_keys(session: Session, keys: list[str]) -> set[str]:
    found = set()
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        found.update(session.exec(select(SignalRecord.key).where(SignalRecord.key.in_(chunk))))
    return found


def _act(
    session: Session, actor, kind: str, county_code: str, import_id: int, new: dict[str, SignalRow], outcome: Outcome
) -> list[dict]:
    """Match the new rows to the registry, act on them, and return them as records to insert."""
    people = _people(session, [row.id.number for row in new.values()])
    in_county = where_under(county_code, Household.area_code)
    county_households = set()
    if people:
        ids = list({p.household_id for p in people.values()})
        for start in range(0, len(ids), CHUNK):
            query = select(Household.id).where(Household.id.in_(ids[start : start + CHUNK]), in_county)
            county_households.update(session.exec(query))
    places = _Places(session, county_code)
    open_candidates = _open_candidates(session, [r.id.number for r in new.values() if r.id.number not in people])
    anyone = engine.settings(session)[UNREGISTERED_MEDICAL]
    threshold = anyone.threshold if anyone.enabled else None  # switched off by the city: no candidates from 医保
    now = utcnow()
    records, dead = [], []
    for key, row in new.items():
        record = {
            "key": key,
            "kind": kind,
            "import_id": import_id,
            "row_no": row.row,
            "name": row.name,
            "id_number": row.id.number,
            "event_on": row.event_on,
            "end_on": row.end_on,
            "total_fen": row.total_fen,
            "self_paid_fen": row.self_paid_fen,
            "grade": row.grade,
            "previous_grade": None,
            "detail": row.detail,
            "person_id": None,
            "candidate_id": None,
            "created_at": now,
        }
        person = people.get(row.id.number)
        if person is not None and person.household_id not in county_households:
            outcome.elsewhere += 1  # not stored: the county where they live imports its own lists
            _note(outcome, row, "在其他县（区）登记，不处理")
            continue
        records.append(record)
        if person is not None:
            outcome.matched += 1
            _note(outcome, row, "在册", person.household_id)
            record["person_id"] = person.id
            if kind == "disability":
                record["previous_grade"] = person.disability_grade
                if person.disability_grade != row.grade:
                    session.execute(update(Person).where(Person.id == person.id).values(disability_grade=row.grade))
            elif kind == "death" and person.died_on is None:
                dead.append((person, row))
            continue
        if not _makes_candidate(kind, row, threshold):
            outcome.not_acted += 1
            _note(outcome, row, "不在册，未达到列为待核实对象的条件")
            continue
        candidate = open_candidates.get(row.id.number)
        if candidate is None:  # one open candidate per person, whatever lists name them
            candidate = Candidate(
                area_code=places.find(row.place),
                name=row.name,
                id_number=row.id.number,
                description=describe(kind, row),
                source=kind,
                reported_by_id=getattr(actor.user, "id", None),
            )
            session.add(candidate)
            session.flush()
            open_candidates[row.id.number] = candidate
            outcome.candidates += 1
        record["candidate_id"] = candidate.id
        _note(outcome, row, "不在册，列为待核实对象")
    _record_deaths(session, actor, dead, outcome)
    return records


def _note(outcome: Outcome, row: SignalRow, what: str, household_id: int | None = None) -> None:
    if len(outcome.sample) < SAMPLE_ROWS:
        outcome.sample.append(
            {
                "row": row.row,
                "name": row.name,
                "id_masked": mask(row.id.number),
                "what": what,
                "household_id": household_id,
            }
        )


def _people(session: Session, numbers: list[str]) -> dict[str, Person]:
    found = {}
    for start in range(0, len(numbers), CHUNK):
        query = select(Person).where(Person.id_number.in_(numbers[start : start + CHUNK]))
        found.update({p.id_number: p for p in session.exec(query)})
    return found


def _open_candidates(session: Session, numbers: list[str]) -> dict[str, Candidate]:
    found = {}
    for start in range(0, len(numbers), CHUNK):
        query = select(Candidate).where(
            Candidate.id_number.in_(numbers[start : start + CHUNK]), Candidate.status == "open"
        )
        found.update({c.id_number: c for c in session.exec(query)})
    return found


# Who nobody registered becomes a 待核实对象:
# - medical: a self-paid cost above the city's anyone-threshold (rule signal_medical_unregistered, 10,000 元), kept
#   with the rules' settings so the city changes it where it changes the 6,000 元 for registered people;
# - disability: a new severe disability (grade 1–2), which 重度残疾人护理补贴 follows;
# - unemployment: registered unemployment, which may leave a family without income;
# - death: never — nobody is left to check on the person, and a family the death leaves in need is found the other
#   ways (a field report, the next lists).
def _makes_candidate(kind: str, row: SignalRow, medical_threshold: int | None) -> bool:
    if kind == "medical":
        return medical_threshold is not None and row.self_paid_fen > medical_threshold * 100
    if kind == "disability":
        return row.grade in SEVERE
    return kind == "unemployment"


def describe(kind: str, row: SignalRow) -> str:
    """Say in Chinese what the list said of the person (a candidate's description)."""
    if kind == "medical":
        stay = f"{row.event_on} 入院" + (f"，{row.end_on} 出院" if row.end_on else "")
        where = f"（{row.detail}）" if row.detail else ""
        total = f"，医疗总费用 {yuan(row.total_fen)} 元" if row.total_fen is not None else ""
        return f"医保名单：{stay}{where}{total}，个人自付 {yuan(row.self_paid_fen)} 元"
    if kind == "disability":
        what = f"{row.detail}" if row.detail else ""
        since = f"，{row.event_on} 发证" if row.event_on else ""
        return f"残联名单：{what}{row.grade}级残疾{since}"
    if kind == "death":
        return f"死亡名单：{row.event_on} 去世"
    return f"人社名单：{row.event_on} 登记失业"


def _record_deaths(session: Session, actor, dead: list[tuple[Person, SignalRow]], outcome: Outcome) -> None:
    """Mark the people dead and exit each household in which nobody is left alive."""
    if not dead:
        return
    for person, row in dead:
        person.died_on = row.event_on
        session.add(person)
        audit.record(session, actor, "person.died", person, died_on=row.event_on, source="death_list")
    outcome.deaths += len(dead)
    session.flush()
    for household_id in {person.household_id for person, _row in dead}:
        alive = session.exec(
            select(Person.id).where(Person.household_id == household_id, Person.died_on.is_(None))
        ).first()
        household = session.get(Household, household_id)
        if alive is None and household.status == "active":
            exit_household(session, actor, household, DEATH_EXIT_REASON)
            outcome.exited += 1


class _Places:
    """Find the village (else the township, else the county) of an address within one county."""

    def __init__(self, session: Session, county_code: str):
        self.county = county_code
        low = county_code[: PREFIX_LENGTH[2]]
        areas = session.exec(select(Area).where(Area.code.startswith(low), Area.level.in_((3, 4)))).all()
        self.townships = [a for a in areas if area_level(a.code) == 3]
        self.villages = [a for a in areas if area_level(a.code) == 4]

    def find(self, place: str) -> str:
        if not place:
            return self.county
        townships = [t for t in self.townships if _named(t.name, place)]
        villages = [v for v in self.villages if _named(v.name, place)]
        if townships:  # the township named narrows villages of the same name elsewhere in the county
            inside = [v for v in villages if any(v.code.startswith(t.code[:9]) for t in townships)]
            villages = inside or villages
        if villages:
            longest = max(len(v.name) for v in villages)
            villages = [v for v in villages if len(v.name) == longest]
            if len(villages) == 1:
                return villages[0].code
            parents = {v.code[:9] for v in villages}
            if len(parents) == 1:
                return parents.pop() + "000"
        if len(townships) == 1:
            return townships[0].code
        return self.county


def _named(name: str, place: str) -> bool:
    """Tell whether an address names the area, whole or without its 村/社区/镇/乡 (碗窑村 in 博尚镇碗窑3组)."""
    if name in place:
        return True
    for ending in ("村委会", "社区", "街道", "村", "镇", "乡"):
        if name.endswith(ending) and len(name) - len(ending) >= 2:
            return name[: -len(ending)] in place
    return False
