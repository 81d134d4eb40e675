"""Time `flask --app app seed-demo` on a fresh database and print one JSON line per database.

    python benchmarks/seed_demo.py [HOUSEHOLDS] [--seed S] [--database-url URL]

Always runs on a new temporary SQLite file; also on PostgreSQL when --database-url or DATABASE_URL
points at one. The PostgreSQL schema is dropped and rebuilt first (DROP SCHEMA public CASCADE), so
give it a scratch database, never one holding real data. The target: 100,000 households in under
two minutes on two cores.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402  (after the path fix so the app's modules import)

import config  # noqa: E402
import db  # noqa: E402


def fresh_database(url: str) -> None:
    """Give the URL an empty, migrated schema (the command then loads the areas itself)."""
    engine = db.make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    db.upgrade(engine)
    engine.dispose()


def count_rows(url: str) -> tuple[int, int]:
    """Return (households, persons) in the database."""
    engine = db.make_engine(url)
    with engine.connect() as connection:
        households = connection.execute(text("SELECT count(*) FROM household")).scalar_one()
        persons = connection.execute(text("SELECT count(*) FROM person")).scalar_one()
    engine.dispose()
    return households, persons


def time_seed_demo(url: str, households: int, seed: int) -> dict:
    """Run seed-demo in its own process, as a user would, and measure the whole run."""
    fresh_database(url)
    command = [
        sys.executable,
        "-m",
        "flask",
        "--app",
        "app",
        "seed-demo",
        "--households",
        str(households),
        "--seed",
        str(seed),
    ]
    started = time.perf_counter()
    finished = subprocess.run(
        command, cwd=ROOT, env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if finished.returncode != 0:
        sys.exit(f"seed-demo failed on {url}:\n{finished.stdout}\n{finished.stderr}")
    made, persons = count_rows(url)
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    return {"database": dialect, "households": made, "persons": persons, "seconds": round(seconds, 2)}


def main() -> None:
    """Parse the arguments and time each database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("households", nargs="?", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="a scratch PostgreSQL database (its schema is wiped)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="doudi-bench-") as folder:
        sqlite_url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        print(json.dumps(time_seed_demo(sqlite_url, args.households, args.seed)), flush=True)
    if args.database_url:
        url = config.normalise_database_url(args.database_url)
        if not url.startswith("postgresql"):
            sys.exit("--database-url must point at PostgreSQL (SQLite is always measured)")
        print(json.dumps(time_seed_demo(url, args.households, args.seed)), flush=True)


if __name__ == "__main__":
    main()
