"""Time running every 主动发现 rule over 100,000 households and 500,000 visits, and print JSON.

    python benchmarks/alerts_run.py [HOUSEHOLDS] [--visits N] [--database-url URL]

Fills a fresh temporary SQLite file (or the given scratch PostgreSQL database, whose schema is dropped and rebuilt)
set-based: households in five villages of two counties, their heads (and a second member in every third household)
with categories spread so that every rule has work, visits over the last 400 days (some urgent; the carer question
answered in care households' visits), needs, 整改 items, 高龄补贴 / 护理补贴 payments for half of those due them,
and care agreements, institution requests, 低保边缘 households and the four department lists
(benchmarks/alerts_care_signals.py). Then it times `engine.run` and its commit (first run: every alert raised), and a
second run (nothing new), each rule too (its queries and its alerts' insert). The goal (issue 14): at most 30 s.
"""

import argparse
import dataclasses
import json
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from benchmarks.alerts_care_signals import care_people, fill_care, fill_signals, self_checks  # noqa: E402
from benchmarks.seed_demo import fresh_database  # noqa: E402
from db import make_engine  # noqa: E402
from models import (  # noqa: E402
    Alert,
    Correction,
    Household,
    Need,
    Payment,
    PayoutImport,
    Person,
    PersonCategory,
    User,
    Visit,
)
from services.alerts import engine as alerts  # noqa: E402
from services.alerts.rules import RULES  # noqa: E402
from services.audit import Actor  # noqa: E402
from services.registry import areas  # noqa: E402

VILLAGES = ("530902100201", "530902100202", "530902100203", "530902200201", "530921100201")
CATEGORIES = (
    "dibao",
    "dibao",
    "dibao",
    "tekun_dispersed",
    "lonely_elderly",
    "serious_illness",
    "severe_disability",
    "orphan",
    "de_facto_orphan",
    "child_in_difficulty",
    "left_behind_child",
)
BATCH = 10_000


def _insert(session: Session, model, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        session.execute(insert(model), rows[start : start + BATCH])


def fill(engine, households: int, visits: int, now: datetime) -> dict:
    """Insert the city's data set-based; return how much of each."""
    rng = random.Random(14)
    today = now.date()
    with Session(engine) as session:
        areas.load_lincang(session)
        session.add(User(username="bench", display_name="协理员", role="assistant", area_code=VILLAGES[0],
                         password_hash="x"))  # fmt: skip
        session.commit()
        visitor = session.exec(select(User.id)).one()
        # visits first, in Python, so that each household's last visit is known when it is inserted
        per_household: dict[int, list[tuple[datetime, str]]] = {}
        for _ in range(visits):
            i = rng.randrange(households)
            at = now - timedelta(days=rng.uniform(0, 400))
            risk = "urgent" if rng.random() < 0.02 else ("attention" if rng.random() < 0.1 else "normal")
            per_household.setdefault(i, []).append((at, risk))
        rows = []
        for i in range(households):
            done = sorted(per_household.get(i, []))
            last = done[-1] if done else (None, None)
            rows.append({
                "area_code": VILLAGES[i % len(VILLAGES)], "household_no": f"{i:06d}", "kind": "family",
                "status": "active", "care_agreement_signed": i % 2 == 0, "wants_institutional_care": False,
                "created_at": now - timedelta(days=420), "updated_at": now,
                "last_visit_at": last[0], "last_risk": last[1],
            })  # fmt: skip
        _insert(session, Household, rows)
        ids = list(session.exec(select(Household.id).order_by(Household.id)))
        people = []
        for i, hid in enumerate(ids):
            category = CATEGORIES[i % len(CATEGORIES)]
            if category in ("orphan", "de_facto_orphan"):
                born = today - timedelta(days=18 * 365 - rng.randrange(0, 3 * 365))
            elif category in ("child_in_difficulty", "left_behind_child"):
                born = today - timedelta(days=rng.randrange(3, 16) * 365)
            else:
                born = today - timedelta(days=rng.randrange(40, 100) * 365)
            grade = rng.choice((1, 2)) if category == "severe_disability" else (3 if i % 17 == 0 else None)
            people.append({"household_id": hid, "name": f"户主{i}", "relation": "本人", "is_head": True,
                           "birth_date": born, "disability_grade": grade})  # fmt: skip
            if i % 3 == 0:
                people.append({"household_id": hid, "name": f"家人{i}", "relation": "配偶", "is_head": False,
                               "birth_date": born + timedelta(days=700)})  # fmt: skip
        _insert(session, Person, people)
        heads = list(session.exec(select(Person.id, Person.household_id, Person.birth_date).where(Person.is_head)))
        by_household = {hid: (pid, born) for pid, hid, born in heads}
        categories = [
            {"person_id": by_household[hid][0], "category": CATEGORIES[i % len(CATEGORIES)]}
            for i, hid in enumerate(ids)
        ]
        _insert(session, PersonCategory, categories)
        visit_rows = []
        for i, done in per_household.items():
            for n, (at, risk) in enumerate(done):
                visit_rows.append({
                    "uuid": f"{i:08d}-{n:04d}", "content_hash": "0", "household_id": ids[i],
                    "area_code": VILLAGES[i % len(VILLAGES)], "visitor_id": visitor, "kind": "routine",
                    "visited_at": at, "created_at": at, "risk": risk, "checklist": "{}",
                    "self_checks": self_checks(rng, CATEGORIES[i % len(CATEGORIES)]),
                    "changes": "[]",
                })  # fmt: skip
        _insert(session, Visit, visit_rows)
        needs = [
            {"household_id": ids[i], "area_code": VILLAGES[i % len(VILLAGES)],
             "type": "temporary_relief" if i % 3 == 0 else "medical", "description": "基准", "status": "open",
             "created_by_id": visitor, "created_at": now - timedelta(days=rng.uniform(0, 60)), "updated_at": now}
            for i in range(0, households, 10)
        ]  # fmt: skip
        _insert(session, Need, needs)
        kinds = ("failed", "missing", "after_exit", "disputed", "wrong_amount")
        corrections = [
            {"key": f"{kinds[n % 5]}:dibao:2026-01:h{ids[i]}", "kind": kinds[n % 5], "program_code": "dibao",
             "period": "2026-01", "area_code": VILLAGES[i % len(VILLAGES)], "household_id": ids[i],
             "person_id": by_household[ids[i]][0], "reason": "基准", "status": "open",
             "deadline": today + timedelta(days=rng.randrange(-20, 20)),
             "created_at": now - timedelta(days=rng.uniform(0, 40))}
            for n, i in enumerate(range(0, households, 20))
        ]  # fmt: skip
        _insert(session, Correction, corrections)
        session.add(PayoutImport(area_code="530902000000", file_name="基准.csv", sha256="0" * 64))
        session.commit()
        batch = session.exec(select(PayoutImport.id)).one()
        month = f"{today.year}-{today.month:02d}"
        payments = []
        for i, hid in enumerate(ids):
            pid, born = by_household[hid]
            if VILLAGES[i % len(VILLAGES)].startswith("530921") or i % 2:
                continue  # 凤庆县 imported nothing; half of the rest are paid
            old = born <= date(today.year - 80, today.month, min(today.day, 28))
            severe = CATEGORIES[i % len(CATEGORIES)] == "severe_disability"
            for program in ("elderly",) * old + ("disability_care",) * severe:
                payments.append({"fingerprint": f"{program}-{i}", "import_id": batch, "row_no": i,
                                 "program_code": program, "period": month, "county_code": "530902000000",
                                 "area_code": VILLAGES[i % len(VILLAGES)], "person_id": pid, "household_id": hid,
                                 "name": f"户主{i}", "id_number": f"{i:018d}", "due_fen": 5000, "paid_fen": 5000,
                                 "status": "paid", "created_at": now})  # fmt: skip
        _insert(session, Payment, payments)
        others = dict(session.exec(select(Person.household_id, Person.id).where(~Person.is_head)).all())
        members = {
            i: (
                hid,
                VILLAGES[i % len(VILLAGES)],
                by_household[hid][0],
                others.get(hid),
                CATEGORIES[i % len(CATEGORIES)],
            )
            for i, hid in enumerate(ids)
        }
        care = fill_care(session, rng, now, care_people(members), visitor)
        signals = fill_signals(session, rng, now, members, visitor)
        session.commit()
    return {
        "households": households,
        "persons": len(people),
        "visits": len(visit_rows),
        "needs": len(needs),
        "corrections": len(corrections),
        "payments": len(payments),
        **care,
        **signals,
    }


class RuleClock:
    """Per-rule seconds of a run, from the rule's first query to its alerts inserted, by wrapping the rules' functions
    and the engine's insert_new (the engine itself stays as it is)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.current, self.started = None, 0.0

    def __enter__(self):
        self.rules, self.insert_new = dict(RULES), alerts.insert_new
        for code, rule in self.rules.items():
            RULES[code] = dataclasses.replace(rule, check=self._timed(code, rule.check))
        alerts.insert_new = self._insert
        return self

    def __exit__(self, *_exc):
        RULES.update(self.rules)
        alerts.insert_new = self.insert_new

    def _timed(self, code, check):
        def timed(session, ctx):
            self.current, self.started = code, time.perf_counter()
            yield from check(session, ctx)

        return timed

    def _insert(self, *args, **kwargs):
        raised = self.insert_new(*args, **kwargs)
        self.seconds[self.current] = time.perf_counter() - self.started
        return raised


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("households", type=int, nargs="?", default=100_000)
    parser.add_argument("--visits", type=int, default=500_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
    fresh_database(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    start = time.perf_counter()
    data = fill(engine, args.households, args.visits, now)
    filled = time.perf_counter() - start
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:  # fresh statistics, as autovacuum would have them by night
            connection.exec_driver_sql("ANALYZE")
    actor = Actor(user=None, ip="benchmark")
    timings, results, clocks = [], [], []
    for _attempt in range(2):  # the first raises everything, the second finds it all open
        with Session(engine) as session, RuleClock() as clock:
            start = time.perf_counter()
            results.append(alerts.run(session, actor, now=now))
            session.commit()
            timings.append(time.perf_counter() - start)
            clocks.append(clock.seconds)
    rules = {
        code: {
            "raised": results[0].raised.get(code, 0),
            "seconds": round(clocks[0].get(code, 0), 2),
            "seconds_second_run": round(clocks[1].get(code, 0), 2),
        }
        for code in RULES
    }
    with Session(engine) as session:
        stored = session.exec(select(func.count()).select_from(Alert)).one()
    print(
        json.dumps(
            {
                "database": engine.dialect.name,
                **data,
                "seconds_run": round(timings[0], 2),
                "seconds_second_run": round(timings[1], 2),
                "goal_seconds": 30,
                "within_goal": max(timings) <= 30,
                "rules": rules,
                "raised": sum(results[0].raised.values()),
                "raised_again": sum(results[1].raised.values()),
                "alerts": stored,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "seconds_filling": round(filled, 2),
            },
            ensure_ascii=False,
        )
    )
    engine.dispose()


if __name__ == "__main__":
    main()
