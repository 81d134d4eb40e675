"""Time campaign coverage on a seeded database and print one JSON line per database: p50/p95 per level.

    python benchmarks/coverage.py [HOUSEHOLDS] [--visits N] [--repeat N] [--database-url URL] [--explain]

Seeds HOUSEHOLDS demo households (default 100,000) and --visits visits (default 500,000, a third of
them survey visits of the demo campaign) with `flask seed-demo` into a fresh temporary SQLite file,
and into the given scratch PostgreSQL database too (its schema is dropped and rebuilt first). Then
times services.campaigns.coverage.coverage (households and persons) and services.campaigns.stats.statistics
(everything the coverage page and the statistics table show) for the city (as demo-city), 临翔区
(demo-county), 博尚镇 (demo-township) and 碗窑村 (demo-assistant), counting missing_households for
碗窑村, and the city's coverage page, its breakdown (loaded after it) and statistics.xlsx through
the app. --explain prints the query plans of the city coverage to stderr. The target: the city page well under a second.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func  # noqa: E402  (after the path fix so the app's modules import)
from sqlmodel import Session, select  # noqa: E402

import config  # noqa: E402
import db  # noqa: E402
from benchmarks.household_pages import percentile  # noqa: E402
from benchmarks.seed_demo import fresh_database  # noqa: E402
from models import Area, Campaign, User  # noqa: E402
from services.accounts import sessions  # noqa: E402
from services.campaigns.coverage import coverage, missing_households  # noqa: E402
from services.campaigns.stats import statistics as full_statistics  # noqa: E402
from services.demo.visits import CAMPAIGN_NAME  # noqa: E402

LEVELS = (  # (name, area code, who looks)
    ("city", "530900000000", "demo-city"),
    ("county", "530902000000", "demo-county"),
    ("township", "530902100000", "demo-township"),
    ("village", "530902100201", "demo-assistant"),
)


def seed(url: str, households: int, visits: int, seed_value: int) -> float:
    """Run seed-demo in its own process on a fresh schema and return how long it took."""
    fresh_database(url)
    command = [sys.executable, "-m", "flask", "--app", "app", "seed-demo", "--households", str(households)]
    command += ["--visits", str(visits), "--seed", str(seed_value)]
    started = time.perf_counter()
    finished = subprocess.run(command, cwd=ROOT, env={**os.environ, "DATABASE_URL": url}, capture_output=True)
    if finished.returncode != 0:
        sys.exit(f"seed-demo failed on {url}:\n{finished.stdout.decode()}\n{finished.stderr.decode()}")
    seconds = time.perf_counter() - started
    if url.startswith("postgresql"):
        # What autovacuum does within a minute of a bulk load: without the visibility map PostgreSQL
        # cannot answer from the covering indexes alone, and the first minutes would be measured.
        engine = db.make_engine(url)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
        engine.dispose()
    return seconds


def timed(repeat: int, call) -> tuple[dict, object]:
    """Call once to warm up, then `repeat` times; return p50/p95 in milliseconds and the last result."""
    result = call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - start) * 1000)
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(percentile(times, 0.95), 1)}, result


def explain(session: Session, call) -> None:
    """Print the plan of every statement the call runs that reads visits (EXPLAIN QUERY PLAN / EXPLAIN ANALYZE)."""
    connection = session.connection()
    statements = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        statements.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", capture)
    try:
        call()
    finally:
        event.remove(connection, "before_cursor_execute", capture)
    prefix = "EXPLAIN QUERY PLAN " if connection.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
    for statement, parameters in statements:
        if "visit" not in statement:
            continue
        print(f"--- {connection.dialect.name}\n{statement}", file=sys.stderr)
        for row in connection.exec_driver_sql(prefix + statement, parameters):
            print("   ", row[-1], file=sys.stderr)


def measure(url: str, repeat: int, show_plans: bool) -> dict:
    """Time each level's coverage and the village's missing list on an already seeded database."""
    engine = db.make_engine(url)
    results = {}
    with Session(engine) as session:
        campaign = session.exec(select(Campaign).where(Campaign.name == CAMPAIGN_NAME)).one()
        users = {u.username: u for u in session.exec(select(User).where(User.username.like("demo-%")))}
        for name, code, username in LEVELS:
            area = session.get(Area, code)
            timing, found = timed(repeat, lambda u=users[username], a=area: coverage(session, u, campaign, a))
            results[name] = {**timing, "households_due": found.total.households_due}
            results[name]["households_visited"] = found.total.households_visited
            timing, _ = timed(repeat, lambda u=users[username], a=area: full_statistics(session, u, campaign, a))
            results[f"{name}_statistics"] = timing
        village = session.get(Area, LEVELS[-1][1])
        missing = missing_households(users["demo-assistant"], campaign, village).subquery()
        count = select(func.count()).select_from(missing)
        timing, rows = timed(repeat, lambda: session.exec(count).one())
        results["missing_village"] = {**timing, "rows": rows}
        if show_plans:
            city = session.get(Area, LEVELS[0][1])
            explain(session, lambda: coverage(session, users["demo-city"], campaign, city))
            explain(session, lambda: session.exec(count).one())
    engine.dispose()
    return results | measure_pages(url, repeat, campaign.id, users["demo-city"].id)


def measure_pages(url: str, repeat: int, campaign_id: int, city_user_id: int) -> dict:
    """Time the city's coverage page and its statistics table end to end through the app (no network)."""
    from app import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "benchmark", "RATELIMIT_ENABLED": False})
    client = app.test_client()
    with client.session_transaction() as flask_session, Session(app.extensions["doudi_engine"]) as session:
        flask_session["_user_id"] = str(city_user_id)
        flask_session["_fresh"] = True
        sessions.stamp(flask_session, session.get(User, city_user_id), time.time())  # what a real login stores
    results = {}
    for name, path in (
        ("page_city", f"/coverage/?campaign={campaign_id}"),
        ("breakdown_city", f"/coverage/breakdown?campaign={campaign_id}"),  # htmx loads it after the page
        ("xlsx_city", f"/reports/statistics.xlsx?campaign={campaign_id}"),
        ("visits_tab_city", "/visits/"),  # due visits per assistant, counted in SQL
    ):
        timing, response = timed(repeat, lambda p=path: client.get(p))
        results[name] = {**timing, "status": response.status_code, "bytes": len(response.data)}
    return results


def run(url: str, args) -> dict:
    """Seed one database, time it, and return the JSON-ready summary."""
    seconds = seed(url, args.households, args.visits, args.seed)
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    summary = {"database": dialect, "households": args.households, "visits": args.visits}
    summary["seed_seconds"] = round(seconds, 1)
    summary["repeat"] = args.repeat
    return summary | measure(url, args.repeat, args.explain)


def main() -> None:
    """Parse the arguments and measure each database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("households", nargs="?", type=int, default=100_000)
    parser.add_argument("--visits", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--explain", action="store_true", help="print the query plans to stderr")
    parser.add_argument("--database-url", default="", help="a scratch PostgreSQL database (its schema is wiped)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="doudi-bench-") as folder:
        print(json.dumps(run(f"sqlite:///{Path(folder) / 'bench.sqlite3'}", args)), flush=True)
    if args.database_url:
        url = config.normalise_database_url(args.database_url)
        if not url.startswith("postgresql"):
            sys.exit("--database-url must point at PostgreSQL (SQLite is always measured)")
        print(json.dumps(run(url, args)), flush=True)


if __name__ == "__main__":
    main()
