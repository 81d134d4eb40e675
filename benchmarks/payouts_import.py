"""Time importing and reconciling a county's 一卡通 result file of 100,000 rows, and print JSON.

    python benchmarks/payouts_import.py [ROWS] [--database-url URL] [--months M]

Registers ROWS / M households of 临翔区 on 低保 (one head each, 500 元 a month) in a fresh temporary SQLite file (or
the given scratch PostgreSQL database, whose schema is dropped and rebuilt), writes their result file for M months
(default 1) with a few problems planted (failed, missing, not in the registry, paid twice, a wrong amount), then
times `reconcile.import_file` and its commit: reading the file, storing every payment, reconciling each program and
period against the registry and opening the 整改 items, in one transaction. Then it imports the file again (nothing
new). The goal (issue 13): at most 10 s for 100,000 rows.
"""

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from benchmarks.seed_demo import fresh_database  # noqa: E402
from db import make_engine  # noqa: E402
from models import Correction, Household, Payment, Person, PersonCategory  # noqa: E402
from services.audit import Actor  # noqa: E402
from services.payouts import reconcile  # noqa: E402
from services.registry import areas  # noqa: E402
from tests.payout_files import row, synthetic_id, write_csv  # noqa: E402

COUNTY = "530902000000"
VILLAGES = ("530902100201", "530902100202", "530902100203", "530902200201")


def register(engine, households: int) -> list[tuple[str, str]]:
    """Insert the households, their heads and 低保 set-based; return (name, ID number) of each head."""
    heads = [(f"户主{i}", synthetic_id(i, born=str(1930 + i % 60))) for i in range(households)]
    with Session(engine) as session:
        areas.load_lincang(session)
        session.commit()
        session.execute(
            insert(Household),
            [{"area_code": VILLAGES[i % 4], "household_no": f"{i:06d}"} for i in range(households)],
        )
        ids = list(session.exec(select(Household.id).order_by(Household.id)))
        session.execute(
            insert(Person),
            [
                {"household_id": hid, "name": name, "is_head": True, "id_number": number, "id_last4": number[-4:],
                 "relation": "本人", "monthly_allowance_fen": 50000}
                for hid, (name, number) in zip(ids, heads, strict=True)
            ],
        )  # fmt: skip
        person_ids = list(session.exec(select(Person.id).order_by(Person.id)))
        session.execute(insert(PersonCategory), [{"person_id": p, "category": "dibao"} for p in person_ids])
        session.commit()
    return heads


def result_rows(heads, months: int) -> list[list]:
    """Return the bank's rows for every head and month, with a few problems planted."""
    periods = [f"2026-{m:02d}" for m in range(1, months + 1)]
    rows = [row(name, number, period=p) for name, number in heads for p in periods]
    rows[5] = row(heads[5][0], heads[5][1], period=periods[0], paid="0", status="失败", reason="账户已冻结")
    rows[7] = row("王陌生", synthetic_id(999_999 % 10_000 + 50_000, born="1999"), period=periods[0])  # 7 is missing
    rows[9] = rows[8]  # 8 paid twice, 9 missing
    rows[13] = row(heads[13][0], heads[13][1], period=periods[0], paid="400.00")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("rows", type=int, nargs="?", default=100_000)
    parser.add_argument("--months", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
    fresh_database(url)
    engine = make_engine(url)
    start = time.perf_counter()
    heads = register(engine, args.rows // args.months)
    registered = time.perf_counter() - start
    path = write_csv(folder / "result.csv", result_rows(heads, args.months))
    actor = Actor(user=None, ip="benchmark")
    timings = []
    for _attempt in range(2):  # the first imports everything, the second finds it all there
        with Session(engine) as session:
            start = time.perf_counter()
            outcome = reconcile.import_file(session, actor, COUNTY, path, path.name)
            session.commit()
            timings.append(time.perf_counter() - start)
            if _attempt == 0:
                first = outcome
    with Session(engine) as session:
        payments = session.exec(select(func.count()).select_from(Payment)).one()
        corrections = session.exec(select(func.count()).select_from(Correction)).one()
    print(
        json.dumps(
            {
                "database": engine.dialect.name,
                "rows": first.rows,
                "file_bytes": path.stat().st_size,
                "registry_households": len(heads),
                "seconds_import_and_reconcile": round(timings[0], 2),
                "seconds_second_import": round(timings[1], 2),
                "goal_seconds": 10,
                "within_goal": timings[0] <= 10,
                "created": first.created,
                "created_again": outcome.created,
                "payments": payments,
                "corrections": corrections,
                "problems": {kind: len(entries) for kind, entries in first.problems.items()},
                "errors": len(first.errors),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "seconds_registering": round(registered, 2),
            },
            ensure_ascii=False,
        )
    )
    engine.dispose()


if __name__ == "__main__":
    main()
