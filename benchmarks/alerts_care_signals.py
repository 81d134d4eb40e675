"""The care and department-list part of benchmarks/alerts_run.py's data set: agreements, institution requests,
the carer question in visits, 低保边缘 households and the four department lists, inserted set-based.

Shares are chosen so that every care and signal rule has realistic work at 100,000 households: most 分散供养特困
and 留守儿童 hold an agreement (some expired, unsigned, ended or running out within 30 days; some renewed, so an
expired one sits beside a valid one), some wish to move into an institution (some waiting over 30 days), about 5 %
of their households' visits answer the carer question "no", and the lists name registered people (and a few nobody
registered) as the import would have matched them — the dead marked dead, households left with nobody exited.
"""

import json
import random
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session

from models import CareAgreement, Household, InstitutionRequest, Person, PersonCategory, SignalImport, SignalRecord
from services.care.agreements import default_duties

CARE = {"tekun_dispersed": "tekun", "left_behind_child": "child"}  # services/care/agreements.py KIND_FOR_CATEGORY
DUTIES_NO_SHARE = 0.05
# rows per 100,000 households (a smaller run scales them down)
MEDICAL, DISABILITY, DEATHS, UNEMPLOYMENT = 20_000, 2_000, 1_000, 3_000
MARGINAL_HOUSEHOLDS = 6_000
PER = 100_000
BATCH = 10_000


def _insert(session: Session, model, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        session.execute(model.__table__.insert(), rows[start : start + BATCH])


def self_checks(rng: random.Random, category: str) -> str:
    """A visit's self-checks as visits.py stores them (json.dumps): care households answer the carer question."""
    if category not in CARE:
        return "{}"
    checks = {"payment_received": True, "caregiver_present": rng.random() >= DUTIES_NO_SHARE}
    if category == "tekun_dispersed":
        checks["care_agreement_signed"] = True
    return json.dumps(checks)


def fill_care(session: Session, rng: random.Random, now: datetime, care_people: list[tuple], visitor: int) -> dict:
    """Insert agreements and institution requests for (person id, household id, village, category) of care people."""
    today = now.date()
    agreements, requests = [], []

    def agreement(pid, hid, village, category, signed, until, status="active"):
        agreements.append({
            "household_id": hid, "person_id": pid, "kind": CARE[category], "area_code": village[:9] + "000",
            "carer_name": "照料人", "carer_phone": "13800000000", "carer_relation": "邻居",
            "duties": default_duties(CARE[category]), "signed_on": signed, "valid_until": until, "status": status,
            "ended_on": today - timedelta(days=10) if status == "ended" else None, "created_by_id": visitor,
            "created_at": now - timedelta(days=400), "updated_at": now,
        })  # fmt: skip

    for pid, hid, village, category in care_people:
        r = rng.random()
        if r < 0.10:
            pass  # never recorded
        elif r < 0.18:  # expired, not renewed
            until = today - timedelta(days=rng.randrange(1, 200))
            agreement(pid, hid, village, category, until - timedelta(days=364), until)
        elif r < 0.22:  # printed, not signed yet
            agreement(pid, hid, village, category, None, today + timedelta(days=365))
        elif r < 0.25:  # ended early (the carer moved away)
            agreement(pid, hid, village, category, today - timedelta(days=200), today + timedelta(days=165), "ended")
        else:
            soon = r < 0.33
            until = today + timedelta(days=rng.randrange(0, 31) if soon else rng.randrange(31, 365))
            agreement(pid, hid, village, category, until - timedelta(days=364), until)
            if rng.random() < 0.3:  # renewed: last year's paper is still on record
                agreement(pid, hid, village, category, until - timedelta(days=729), until - timedelta(days=365))
        if category == "tekun_dispersed" and rng.random() < 0.15:
            status = rng.choices(("requested", "confirmed", "placed", "declined"), (40, 20, 25, 15))[0]
            at = now - timedelta(days=rng.uniform(0, 120))
            requests.append({
                "open_person_id": pid if status in ("requested", "confirmed") else None, "person_id": pid,
                "household_id": hid, "area_code": village, "status": status, "requested_at": at,
                "requested_by_id": visitor,
                "confirmed_at": at + timedelta(days=5) if status != "requested" else None,
                "placed_at": at + timedelta(days=20) if status == "placed" else None,
                "declined_at": at + timedelta(days=10) if status == "declined" else None,
            })  # fmt: skip
    _insert(session, CareAgreement, agreements)
    _insert(session, InstitutionRequest, requests)
    return {"care_agreements": len(agreements), "institution_requests": len(requests)}


def fill_signals(session: Session, rng: random.Random, now: datetime, people: dict, visitor: int) -> dict:
    """Insert 低保边缘 categories, the four lists' records and what importing them did to the registry.

    `people` maps a household index to (household id, village, head id, other member id or None, category).
    """
    today = now.date()
    indexes = sorted(people)

    def scaled(count: int) -> int:
        return max(1, count * len(indexes) // PER)

    deaths, unemployed = scaled(DEATHS), scaled(UNEMPLOYMENT)
    marginal = rng.sample([i for i in indexes if people[i][4] != "dibao"], scaled(MARGINAL_HOUSEHOLDS))
    _insert(session, PersonCategory, [{"person_id": people[i][2], "category": "dibao_marginal"} for i in marginal])
    imports = {}
    for kind in ("medical", "disability", "death", "unemployment"):
        batch = SignalImport(kind=kind, area_code="530902000000", file_name=f"{kind}.xlsx", sha256=kind.ljust(64, "0"),
                             created_by_id=visitor, created_at=now - timedelta(days=2))  # fmt: skip
        session.add(batch)
        session.flush()
        imports[kind] = batch.id
    records: list[dict] = []

    def record(kind, pid, **values):
        n = len(records)
        records.append({
            "key": f"{kind}:{n:08d}", "kind": kind, "import_id": imports[kind], "row_no": n + 2, "name": f"名单{n}",
            "id_number": f"{n:018d}", "event_on": today - timedelta(days=rng.randrange(5, 60)), "end_on": None,
            "total_fen": None, "self_paid_fen": None, "grade": None, "previous_grade": None, "detail": None,
            "person_id": pid, "candidate_id": None, "created_at": now - timedelta(days=2), **values,
        })  # fmt: skip

    def anyone(i):
        _, _, head, other, _ = people[i]
        return other if other and rng.random() < 0.4 else head

    for _ in range(scaled(MEDICAL)):
        pid = anyone(rng.choice(indexes)) if rng.random() < 0.9 else None  # a tenth are nobody registered
        paid = rng.randrange(600_001, 3_000_000) if rng.random() < 0.15 else rng.randrange(10_000, 600_000)
        record("medical", pid, total_fen=paid * 3, self_paid_fen=paid, detail="临沧市人民医院",
               end_on=today - timedelta(days=rng.randrange(0, 5)))  # fmt: skip
    graded = []
    for i in rng.sample(indexes, scaled(DISABILITY)):
        pid, grade = anyone(i), rng.choice((1, 1, 2, 2, 2, 2, 3, 4))
        previous = rng.choices((None, 3, 4, 1, 2), (60, 10, 10, 10, 10))[0]
        record("disability", pid, grade=grade, previous_grade=previous, detail="肢体")
        graded.append({"id": pid, "disability_grade": grade})
    # deaths: members of two-person households (who leave a widow alone) and heads living alone (the household exits)
    pairs = [i for i in indexes if people[i][3] is not None]
    alone = [i for i in indexes if people[i][3] is None]
    died, exited = [], []
    for i in rng.sample(pairs, deaths - deaths // 5) + rng.sample(alone, deaths // 5):
        pid = people[i][3] if people[i][3] is not None else people[i][2]
        record("death", pid)
        died.append({"id": pid, "died_on": records[-1]["event_on"]})
        if people[i][3] is None:
            exited.append({"id": people[i][0], "status": "exited", "exit_reason": "户内人员全部死亡", "exited_at": now})
    for i in rng.sample(marginal, unemployed // 2) + rng.sample(indexes, unemployed - unemployed // 2):
        record("unemployment", anyone(i), detail="人社失业登记")
    _insert(session, SignalRecord, records)
    for model, rows in ((Person, graded), (Person, died), (Household, exited)):
        session.execute(update(model), rows)  # ORM bulk UPDATE by primary key: as the import left them
    return {"signal_records": len(records), "dibao_marginal_households": len(marginal), "deaths": len(died)}


def care_people(people: dict) -> list[tuple]:
    """(person id, household id, village, category) of the heads in a care category."""
    return [(head, hid, village, category) for hid, village, head, _, category in people.values() if category in CARE]
