"""POST /api/v1/candidates: a field report stored once per UUID (409 for other content), its photo stored once,
stripped of metadata, and served only to staff whose scope holds the candidate."""

import io
from uuid import uuid4

from PIL import Image
from sqlmodel import func, select

from models import AuditEvent, Candidate, CandidatePhoto
from tests.conftest import VILLAGE_A, VILLAGE_B, login, page_text
from tests.test_api import assert_described, document  # noqa: F401  (the fixture)
from tests.test_photos import jpeg


def count(session, model) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def report(**changes) -> dict:
    return {"uuid": str(uuid4()), "name": "陈秋菊", "area_code": VILLAGE_A, "description": "独居，房屋漏雨", **changes}


def photo(color="green", photo_uuid=None) -> dict:
    return {"file": (io.BytesIO(jpeg(color)), "p.jpg"), "uuid": photo_uuid or str(uuid4())}


def jpeg_with_camera_data() -> bytes:
    """Return a JPEG that says which phone took it and where (EXIF make and GPS)."""
    exif = Image.Exif()
    exif[0x010F] = "SomePhone"  # Make
    exif[0x8825] = {1: "N", 2: (23.0, 53.0, 0.0)}  # GPSInfo: latitude
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), "green").save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_a_report_sent_five_times_is_stored_once(as_user, world, session, document):  # noqa: F811
    client = as_user("assistant_a")
    body = report()
    first = client.post("/api/v1/candidates", json=body)
    assert first.status_code == 201
    assert_described(document, "post", "/api/v1/candidates", 201, first.get_json())
    for _ in range(4):
        again = client.post("/api/v1/candidates", json=body)
        assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]
    candidate = session.exec(select(Candidate)).one()
    assert (candidate.source, candidate.status, candidate.reported_by_id) == (
        "field_report",
        "open",
        world.assistant_a.id,
    )
    assert session.exec(select(func.count()).where(AuditEvent.action == "candidate.reported")).one() == 1


def test_the_same_uuid_with_other_content_is_a_conflict(as_user, session):
    client = as_user("assistant_a")
    body = report()
    assert client.post("/api/v1/candidates", json=body).status_code == 201
    response = client.post("/api/v1/candidates", json={**body, "description": "换了内容"})
    assert response.status_code == 409 and response.get_json()["error"] == "candidate_conflict"
    assert session.exec(select(Candidate.description)).one() == "独居，房屋漏雨"


def test_another_assistant_replaying_the_uuid_learns_nothing(client, world, session):
    body = report()
    login(client, world.assistant_a)
    assert client.post("/api/v1/candidates", json=body).status_code == 201
    login(client, world.assistant_b)
    response = client.post("/api/v1/candidates", json={**body, "area_code": VILLAGE_B})
    assert response.status_code == 409 and "陈秋菊" not in response.get_data(as_text=True)


def test_a_report_for_a_village_not_one_s_own_is_refused(as_user, session):
    response = as_user("assistant_a").post("/api/v1/candidates", json=report(area_code=VILLAGE_B))
    assert response.status_code == 400 and response.get_json()["error"] == "candidate_refused"
    assert count(session, Candidate) == 0


def test_a_malformed_report_is_refused_field_by_field(as_user, session):
    response = as_user("assistant_a").post("/api/v1/candidates", json=report(name="", area_code="x", extra=1))
    assert response.status_code == 422
    fields = {f["field"] for f in response.get_json()["fields"]}
    assert {"name", "area_code", "extra"} <= fields
    assert count(session, Candidate) == 0


def test_only_assistants_report(as_user, session):
    assert as_user("township").post("/api/v1/candidates", json=report()).status_code == 403
    assert count(session, Candidate) == 0


def test_the_api_requires_login(client):
    assert client.post("/api/v1/candidates", json=report()).status_code == 401


def test_a_photo_is_stored_once_without_metadata_and_served_in_scope_only(as_user, client, world, session, app):
    reporter = as_user("assistant_a")
    body = report()
    assert reporter.post("/api/v1/candidates", json=body).status_code == 201
    upload_uuid = str(uuid4())
    assert Image.open(io.BytesIO(jpeg_with_camera_data())).getexif()  # what must not reach the server's copy
    upload = {"file": (io.BytesIO(jpeg_with_camera_data()), "p.jpg"), "uuid": upload_uuid}
    first = reporter.post(f"/api/v1/candidates/{body['uuid']}/photos", data=upload)
    assert first.status_code == 201, first.get_data(as_text=True)
    again = {"file": (io.BytesIO(jpeg_with_camera_data()), "p.jpg"), "uuid": upload_uuid}
    replay = reporter.post(f"/api/v1/candidates/{body['uuid']}/photos", data=again)
    assert replay.status_code == 200 and count(session, CandidatePhoto) == 1
    clash = reporter.post(f"/api/v1/candidates/{body['uuid']}/photos", data=photo("blue", upload_uuid))
    assert clash.status_code == 409
    url = first.get_json()["url"]
    served = reporter.get(url)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert not Image.open(io.BytesIO(served.data)).getexif()
    assert "private" in served.headers["Cache-Control"]
    login(client, world.township)
    assert client.get(url).status_code == 200
    for outsider in (world.assistant_b, world.other_county):
        login(client, outsider)
        assert client.get(url).status_code == 404
        assert client.get(first.get_json()["thumb_url"]).status_code == 404


def test_a_photo_for_someone_else_s_report_is_404(client, world, session):
    body = report()
    login(client, world.assistant_a)
    assert client.post("/api/v1/candidates", json=body).status_code == 201
    login(client, world.assistant_b)
    assert client.post(f"/api/v1/candidates/{body['uuid']}/photos", data=photo()).status_code == 404
    assert client.post(f"/api/v1/candidates/{uuid4()}/photos", data=photo()).status_code == 404
    assert count(session, CandidatePhoto) == 0


def test_a_report_takes_three_photos_at_most(as_user, session):
    client = as_user("assistant_a")
    body = report()
    client.post("/api/v1/candidates", json=body)
    for color in ("red", "green", "blue"):
        assert client.post(f"/api/v1/candidates/{body['uuid']}/photos", data=photo(color)).status_code == 201
    fourth = client.post(f"/api/v1/candidates/{body['uuid']}/photos", data=photo("white"))
    assert fourth.status_code == 400 and fourth.get_json()["error"] == "photo_refused"


def test_a_broken_photo_is_refused_and_nothing_is_stored(as_user, session):
    client = as_user("assistant_a")
    body = report()
    client.post("/api/v1/candidates", json=body)
    broken = {"file": (io.BytesIO(b"not a photo"), "p.jpg"), "uuid": str(uuid4())}
    response = client.post(f"/api/v1/candidates/{body['uuid']}/photos", data=broken)
    assert response.status_code == 400 and response.get_json()["error"] == "photo_refused"
    assert count(session, CandidatePhoto) == 0


def test_a_report_in_an_exported_outbox_file_lands_once_with_its_photo(as_user, world, session):
    from tests.test_outbox_import import outbox, upload
    from tests.test_outbox_import import photo as file_photo

    item = {"kind": "candidate", "payload": report(), "photos": [file_photo()]}
    elsewhere = {"kind": "candidate", "payload": report(area_code="530921100201"), "photos": []}
    content = outbox(world.assistant_a, [item, elsewhere])
    client = as_user("township")
    text = page_text(upload(client, content))
    assert "上报疑似困难户" in text and "上报的村不在您的辖区" in text
    candidate = session.exec(select(Candidate)).one()
    assert (candidate.reported_by_id, candidate.area_code) == (world.assistant_a.id, VILLAGE_A)
    assert count(session, CandidatePhoto) == 1
    upload(client, content)
    assert count(session, Candidate) == 1 and count(session, CandidatePhoto) == 1
