"""The household page's timeline: visits newest first, with photos, needs and the evidence of each visit."""

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

from PIL import Image
from sqlmodel import select

from models import Card, CardScan
from services.api.schemas import Location, NeedIn, VisitIn
from services.audit import Actor
from services.visits import photos
from services.visits.visits import record_visit
from tests.conftest import login

HOME = (23.8870, 100.0890)


def visit(session, user, household, **fields):
    """Record a visit through the service, as the form would have when it was made (it arrived then)."""
    payload = VisitIn(uuid=uuid4(), household_id=household.id, kind=fields.pop("kind", "routine"), **fields)
    recorded, _created = record_visit(session, Actor(user), payload, received_at=payload.visited_at)
    session.commit()
    return recorded


def jpeg(colour="green") -> bytes:
    """Return a small JPEG, as a phone would send after shrinking."""
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(buffer, "JPEG")
    return buffer.getvalue()


def add_photo(app, session, user, visit_row, caption="住房", colour="green"):
    folder = Path(app.config["PHOTO_FOLDER"])
    photo, _created = photos.add_photo(
        session, Actor(user), visit_row, uuid=str(uuid4()), caption=caption, data=jpeg(colour), folder=folder
    )
    session.commit()
    return photo


def page(client, household) -> str:
    return client.get(f"/households/{household.id}").get_data(as_text=True)


def test_household_without_visits_says_so(as_user, world):
    body = page(as_user("assistant_a"), world.household_a)
    assert "走访记录（0 次）" in body and "还没有走访记录" in body


def test_visits_are_listed_newest_first_with_kind_visitor_time_and_link(as_user, world, session):
    older = visit(
        session, world.assistant_a, world.household_a, kind="survey", visited_at=datetime(2024, 3, 1, 2, 0, tzinfo=UTC)
    )
    newer = visit(
        session, world.township, world.household_a, kind="adhoc", visited_at=datetime(2024, 5, 2, 16, 30, tzinfo=UTC)
    )
    body = page(as_user("assistant_a"), world.household_a)
    assert "走访记录（2 次）" in body
    assert body.index("临时探视") < body.index("排查回访")
    assert "2024-05-03 00:30 · 赵经办" in body  # shown in China time
    assert "2024-03-01 10:00 · 李协理" in body
    assert f'href="/visits/{newer.id}"' in body and f'href="/visits/{older.id}"' in body


def test_risk_is_tagged_red_for_urgent_and_orange_for_attention(as_user, world, session):
    visit(session, world.assistant_a, world.household_a, risk="urgent", visited_at=datetime.now(UTC))
    visit(
        session,
        world.assistant_a,
        world.household_a,
        risk="attention",
        visited_at=datetime.now(UTC) - timedelta(days=3),
    )
    visit(session, world.assistant_a, world.household_a, visited_at=datetime.now(UTC) - timedelta(days=9))
    body = page(as_user("assistant_a"), world.household_a)
    assert '<span class="tag tag--danger">紧急</span>' in body
    assert '<span class="tag tag--warn">关注</span>' in body
    assert "正常</span>" not in body  # a normal visit needs no tag


def test_photos_show_as_lazy_thumbnails_that_open_full_size(app, as_user, world, session):
    row = visit(session, world.assistant_a, world.household_a)
    first = add_photo(app, session, world.assistant_a, row, "住房", "green")
    second = add_photo(app, session, world.assistant_a, row, "厨房", "blue")
    client = as_user("assistant_a")
    body = page(client, world.household_a)
    for photo, caption in ((first, "住房"), (second, "厨房")):
        assert f'href="/photos/{photo.id}.jpg"' in body
        assert f'<img src="/photos/{photo.id}_t.jpg" loading="lazy" width="72" height="72" alt="{caption}">' in body
    assert "2 张照片" in body
    thumb = client.get(f"/photos/{first.id}_t.jpg")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"


def test_needs_of_a_visit_show_with_their_status(as_user, world, session):
    visit(
        session,
        world.assistant_a,
        world.household_a,
        needs=[NeedIn(type="medical", description="需要长期用药报销"), NeedIn(type="dibao", description="申请低保")],
        changes=["hospitalised"],
    )
    body = page(as_user("assistant_a"), world.household_a)
    assert "医疗</span>需要长期用药报销" in body and "纳入低保</span>申请低保" in body
    assert "复核</span>走访发现：有成员住院，请复核保障资格" in body
    assert body.count('<span class="tag tag--status-open">待处理</span>') == 3


def test_evidence_line_shows_scan_gps_accuracy_and_photo_count(as_user, world, session):
    card = session.exec(select(Card).where(Card.household_id == world.household_a.id)).one()
    scan = CardScan(card_id=card.id, household_id=world.household_a.id, user_id=world.assistant_a.id)
    session.add(scan)
    session.commit()
    visit(
        session,
        world.assistant_a,
        world.household_a,
        scan_id=scan.id,
        location=Location(lat=HOME[0], lon=HOME[1], accuracy=12.4),
    )
    visit(session, world.assistant_a, world.household_a, visited_at=datetime.now(UTC) - timedelta(days=30))
    body = page(as_user("assistant_a"), world.household_a)
    entries = body.split('<article class="visit-entry"')[1:]
    assert "扫码到户" in entries[0] and "有定位 ±12 米" in entries[0] and "0 张照片" in entries[0]
    assert "扫码到户" not in entries[1] and "无定位" in entries[1]


def test_a_visit_far_from_the_usual_place_is_flagged(as_user, world, session):
    now = datetime.now(UTC)
    visit(
        session,
        world.assistant_a,
        world.household_a,
        visited_at=now - timedelta(days=60),
        location=Location(lat=HOME[0], lon=HOME[1], accuracy=10),
    )
    visit(
        session,
        world.assistant_a,
        world.household_a,
        visited_at=now - timedelta(days=30),
        location=Location(lat=HOME[0] + 0.0002, lon=HOME[1], accuracy=10),
    )
    visit(
        session,
        world.assistant_a,
        world.household_a,
        visited_at=now,
        location=Location(lat=HOME[0] + 0.045, lon=HOME[1], accuracy=10),
    )  # about 5 km north
    body = page(as_user("assistant_a"), world.household_a)
    entries = body.split('<article class="visit-entry"')[1:]
    assert "离户超过 1 公里" in entries[0]
    assert re.search(r"距常在位置 5\.\d 公里", entries[0])
    assert "离户超过 1 公里" not in entries[1] and re.search(r"距常在位置 \d+ 米", entries[1])


def test_timeline_of_another_village_is_not_reachable(as_user, world, session):
    visit(session, world.assistant_b, world.household_b, notes="只给勐准村看")
    response = as_user("assistant_a").get(f"/households/{world.household_b.id}")
    assert response.status_code == 404 and "走访记录" not in response.get_data(as_text=True)


def test_timeline_requires_login(client, world):
    response = client.get(f"/households/{world.household_a.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_township_sees_the_timeline_of_both_villages(client, world, session):
    visit(session, world.assistant_b, world.household_b, risk="attention")
    login(client, world.township)
    body = page(client, world.household_b)
    assert "走访记录（1 次）" in body and "王协理" in body and "关注" in body
