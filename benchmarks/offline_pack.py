"""Measure the assistant's offline pack for one village of 500 households and print JSON.

    python benchmarks/offline_pack.py [HOUSEHOLDS] [--runs N] [--database-url URL]

Seeds HOUSEHOLDS (default 500) households into 碗窑村 of a fresh temporary SQLite file (or the given scratch
PostgreSQL database, whose schema is dropped and rebuilt): the demo's own synthetic families (names, ages, ID
numbers, categories), their cards, a third with open needs, most visited in the last months, a running
campaign with two thirds surveyed, and one household in five with an alert task assigned to the assistant.
Then, signed in as demo-assistant through Flask's test client, it prints what a phone downloads: the body's raw
bytes and its bytes as the app compresses it (br and gzip, chosen by Accept-Encoding), the p50 of building the
pack (the service alone) and of the whole request, over N runs.
The goal (DESIGN §8): at most 150 KB compressed for 500 households.
"""

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from app import create_app  # noqa: E402
from benchmarks.seed_demo import fresh_database  # noqa: E402
from models import Alert, Area, Campaign, Household, Need, Person, PersonCategory, User, Visit  # noqa: E402
from services.accounts import sessions  # noqa: E402
from services.cards.cards import issue_cards_bulk  # noqa: E402
from services.clock import today_in_china  # noqa: E402
from services.demo import people  # noqa: E402
from services.demo.fieldwork import NEEDS  # noqa: E402
from services.demo.seed import DEMO_PASSWORD, advance_sequence, ensure_accounts  # noqa: E402
from services.offline import pack as offline_pack  # noqa: E402
from services.registry import areas  # noqa: E402

VILLAGE = "530902100201"  # 碗窑村, 博尚镇: demo-assistant's village
PACK = "/api/v1/offline-pack"
GOAL_BYTES = 150 * 1024
# the alert tasks planted, with reasons as the rules write them (services/alerts/)
TASKS = (
    ("must_visit_overdue", "red", "分散供养特困人员、孤寡老人，应每 30 天走访，上次 2026-09-18，已逾期 44 天"),
    ("alone_no_contact_90", "red", "独居，90 天以上无人走访（上次走访 2026-08-20）"),
    ("need_open_too_long", "orange", "医疗诉求于 2026-10-02 提出，30 天仍未解决"),
    ("failed_not_reissued", "orange", "2026-10 发放失败，15 天仍未补发：账户已销户"),
    ("orphan_turning_18", "yellow", "2027-01-15 年满 18 岁，保障将变化"),
    ("care_agreement_missing", "orange", "分散供养特困人员，没有有效的三方委托照料服务协议"),
)


class _Place:
    """What people.plan_household needs of a village: the place its addresses start with, its township, county."""

    place, township, county = "博尚镇碗窑村", "博尚镇", "临翔区"


def seed_village(session: Session, households: int, rng: random.Random) -> None:
    """Put `households` synthetic households in the village, with cards, needs, visits and a campaign."""
    accounts = ensure_accounts(session, DEMO_PASSWORD)
    assistant = accounts["demo-assistant"]
    now = datetime.now(UTC)
    used: set[str] = set()
    household_rows, person_rows, category_rows, need_rows, visit_rows, alert_rows = [], [], [], [], [], []
    person_id = 0
    for number in range(1, households + 1):
        plan = people.plan_household(rng, None if number > 12 else number - 1, _Place)
        visited = now - timedelta(days=rng.randint(1, 120), minutes=rng.randrange(600)) if rng.random() < 0.85 else None
        household_rows.append(
            {
                "id": number,
                "area_code": VILLAGE,
                "household_no": f"{number:04d}",
                "address": plan.address,
                "phone": people.make_phone(rng) if rng.random() < 0.7 else None,
                "kind": plan.kind,
                "assistant_id": assistant.id,
                "last_visit_at": visited,
                "last_risk": rng.choice(("normal", "normal", "normal", "attention", "urgent")) if visited else None,
            }
        )
        for index, member in enumerate(plan.members):
            person_id += 1
            id_number = people.make_id_number(rng, VILLAGE[:6], member, used)
            person_rows.append(
                {
                    "id": person_id,
                    "household_id": number,
                    "name": member.name,
                    "id_number": id_number,
                    "id_last4": id_number[-4:],
                    "birth_date": member.birth_date,
                    "sex": member.sex,
                    "relation": member.relation,
                    "is_head": index == 0,
                    "phone": people.make_phone(rng) if 18 <= member.age <= 75 and rng.random() < 0.4 else None,
                }
            )
            category_rows += [{"person_id": person_id, "category": c} for c in member.categories]
        for _ in range(rng.choice((0, 0, 1, 1, 2)) if rng.random() < 0.5 else 0):
            need_type, description = rng.choice(NEEDS)
            status = rng.choice(("open", "open", "in_progress"))
            need_rows.append(
                {"household_id": number, "area_code": VILLAGE, "type": need_type, "description": description}
                | {"status": status, "created_by_id": assistant.id, "created_at": now, "updated_at": now}
            )
        if number % 5 == 0:  # an alert task for one household in five
            rule, grade, reason = TASKS[number // 5 % len(TASKS)]
            alert_rows.append(
                {"open_key": f"{rule}:h{number}", "rule": rule, "grade": grade, "area_code": VILLAGE}
                | {"household_id": number, "reason": reason, "state": "assigned", "level": "village"}
                | {"raised_at": now, "due_at": now + timedelta(days=number % 11 - 3), "assigned_to_id": assistant.id}
            )
        if rng.random() < 2 / 3:  # surveyed in the campaign running now
            visit_rows.append(
                {"uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "content_hash": "0" * 64}
                | {"household_id": number, "area_code": VILLAGE, "visitor_id": assistant.id, "kind": "survey"}
                | {"visited_at": now - timedelta(days=rng.randint(0, 5)), "created_at": now}
                | {"checklist": "{}", "self_checks": "{}", "changes": "[]"}
            )
            household_rows[-1]["last_visit_at"] = visit_rows[-1]["visited_at"]
            household_rows[-1]["last_risk"] = household_rows[-1]["last_risk"] or "normal"
    for model, rows in ((Household, household_rows), (Person, person_rows), (PersonCategory, category_rows)):
        session.execute(insert(model.__table__), rows)
    for model, rows in ((Need, need_rows), (Visit, visit_rows), (Alert, alert_rows)):
        if rows:
            session.execute(insert(model.__table__), rows)
    advance_sequence(session, Household, households)
    advance_sequence(session, Person, person_id)
    issue_cards_bulk(session, [row["id"] for row in household_rows])
    today = today_in_china()
    window = {"start_date": today - timedelta(days=6), "end_date": today + timedelta(days=3)}
    city = accounts["demo-city"]
    session.add(Campaign(name="2026 年冬季排查", created_by_id=city.id, **window))
    session.commit()


def p50_ms(run, runs: int) -> float:
    """Run once to warm up, then `runs` times; return the median in milliseconds."""
    run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("households", type=int, nargs="?", default=500)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    fresh_database(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    engine = app.extensions["doudi_engine"]
    with app.app_context(), Session(engine) as session:
        areas.load_lincang(session)
        session.commit()
        assert session.get(Area, VILLAGE) is not None
        seed_village(session, args.households, random.Random(1))
        assistant = session.exec(select(User).where(User.username == "demo-assistant")).one()
        build = p50_ms(lambda: offline_pack.encode(offline_pack.build_pack(session, assistant)), args.runs)
        members = len(session.exec(select(Person.id)).all())
    client = app.test_client()
    with client.session_transaction() as flask_session, Session(engine) as session:
        flask_session["_user_id"] = str(assistant.id)
        sessions.stamp(flask_session, session.get(User, assistant.id), time.time())  # what a login stores
    sizes = {}
    for encoding in ("identity", "gzip", "br"):
        response = client.get(PACK, headers={"Accept-Encoding": encoding})
        assert response.status_code == 200, response.status_code
        assert response.headers.get("Content-Encoding", "identity") == encoding
        sizes[encoding] = len(response.get_data())
        etag = response.headers["ETag"]
    unchanged = client.get(PACK, headers={"Accept-Encoding": "br", "If-None-Match": etag})
    request_ms = p50_ms(lambda: client.get(PACK, headers={"Accept-Encoding": "br"}), args.runs)
    not_modified_ms = p50_ms(
        lambda: client.get(PACK, headers={"Accept-Encoding": "br", "If-None-Match": etag}), args.runs
    )
    body = json.loads(client.get(PACK).get_data())
    result = {
        "database": engine.dialect.name,
        "households": len(body["households"]),
        "members": members,
        "open_needs": sum(len(h["needs"]) for h in body["households"]),
        "alert_tasks": len(body["alerts"]),
        "raw_bytes": sizes["identity"],
        "gzip_bytes": sizes["gzip"],
        "br_bytes": sizes["br"],
        "goal_bytes": GOAL_BYTES,
        "within_goal": max(sizes["gzip"], sizes["br"]) <= GOAL_BYTES,
        "bytes_per_household_br": round(sizes["br"] / max(1, len(body["households"])), 1),
        "runs": args.runs,
        "build_p50_ms": build,
        "request_p50_ms": request_ms,
        "not_modified_status": unchanged.status_code,
        "not_modified_bytes": len(unchanged.get_data()),
        "not_modified_p50_ms": not_modified_ms,
    }
    print(json.dumps(result, ensure_ascii=False))
    app.extensions["doudi_engine"].dispose()


if __name__ == "__main__":
    main()
