"""Time the registry pages on a seeded database and print JSON: p50/p95 per page.

    python benchmarks/household_pages.py [HOUSEHOLDS] [--requests N] [--database-url URL]

Seeds HOUSEHOLDS demo households (default 100,000) into a fresh temporary SQLite file (or the given
scratch PostgreSQL database, whose schema is dropped and rebuilt), then drives the app in-process
through Flask's test client as demo-county (the biggest scope a routine user has) and demo-assistant.
In-process timing leaves out the network and gunicorn; it measures what our code and queries cost.
"""

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import Session, select  # noqa: E402

from app import create_app  # noqa: E402
from benchmarks.seed_demo import fresh_database  # noqa: E402
from models import Household, User  # noqa: E402
from services.accounts import sessions  # noqa: E402
from services.audit import Actor  # noqa: E402
from services.demo import seed as demo  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    """Return the value below which `share` of the sorted values fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(client, paths: list[str]) -> dict:
    """Request each path once (after one warm-up) and summarise the times in milliseconds."""
    client.get(paths[0])
    times = []
    for path in paths:
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return {
        "requests": len(times),
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(percentile(times, 0.95), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("households", type=int, nargs="?", default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    fresh_database(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    engine = app.extensions["doudi_engine"]
    with app.app_context(), Session(engine) as session:
        from services.registry import areas

        areas.load_lincang(session)
        session.commit()
        demo.seed_demo(session, Actor(user=None, ip="bench"), households=args.households, seed=1)
        users = {u.username: u.id for u in session.exec(select(User))}
        ids = session.exec(select(Household.id).where(Household.area_code.startswith("530902"))).all()
    rng = random.Random(1)
    results = {"database": engine.dialect.name, "households": args.households}
    for username in ("demo-county", "demo-assistant"):
        client = app.test_client()
        with client.session_transaction() as flask_session, Session(app.extensions["doudi_engine"]) as session:
            flask_session["_user_id"] = str(users[username])
            sessions.stamp(flask_session, session.get(User, users[username]), time.time())  # what a login stores
        if username == "demo-county":
            detail = [f"/households/{rng.choice(ids)}" for _ in range(args.requests)]
            results["household_page_county"] = timed(client, detail)
        pages = [f"/households/?page={rng.randint(1, 20)}" for _ in range(args.requests // 3)]
        results[f"list_{username}"] = timed(client, pages)
        searches = [f"/households/?q={q}" for q in ("张", "0012", "1234", "13800000000") * (args.requests // 12)]
        results[f"search_{username}"] = timed(client, searches)
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
