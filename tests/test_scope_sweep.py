"""One sweep over app.url_map: every route that takes an id, a token, a UUID or an area, asked for village A's
objects by village B's assistant and by an anonymous visitor, never answers with village A's data.

A refusal (302 to the login page, 401, 403, 404, 405) is fine; a 200 is fine only as a page or JSON that carries
none of A's head's name, ID number and phone (the resident landing page of a card, an empty list). A route added
later is swept the moment it is registered; a parameter the sweep cannot fill makes it fail loudly.
"""

import io
import json
from datetime import UTC, date, datetime
from uuid import uuid4

import pytest
from sqlmodel import func, select

from models import (
    Alert,
    Candidate,
    CandidatePhoto,
    Card,
    CareAgreement,
    CareAgreementPhoto,
    Correction,
    Household,
    InstitutionRequest,
    Need,
    PayoutImport,
    Person,
    Photo,
    ReliefApplication,
    ReliefPhoto,
    Visit,
)
from tests.conftest import COUNTY, TOWNSHIP, VILLAGE_A, login
from tests.test_login_required import PARAMETER
from tests.test_photos import jpeg

# household A's head, ID number and phone; the name of the family village A's assistant reported (待核实对象)
SECRETS = ("张明华", "530902194505168663", "13900000001", "陈秋菊")
TEXT_TYPES = ("text/html", "application/json")

# Routes that read an area or a household from the query string, asked for village A's.
QUERY_PROBES = (
    f"/households/?area={VILLAGE_A}",
    f"/households/?village={VILLAGE_A}&q=0001",  # a typed name would come back in the search box
    "/relief/new?household={household_id}",
    f"/cards/sheet?area={VILLAGE_A}",
    f"/cards/sheet.pdf?area={VILLAGE_A}",
    f"/coverage/?area={VILLAGE_A}",
    f"/coverage/missing?area={VILLAGE_A}",
    f"/coverage/breakdown?area={VILLAGE_A}",
    f"/coverage/relief?area={VILLAGE_A}",
    f"/needs/?area={VILLAGE_A}",
    f"/relief/overview/?area={TOWNSHIP}",
    f"/reports/statistics.xlsx?area={VILLAGE_A}",
    f"/api/v1/coverage?area={VILLAGE_A}",
    "/api/v1/households?q=张明华",
    "/scan/lookup?no=0001",
    "/payouts/corrections?status=all",
    "/payouts/imports",
    f"/alerts/?area={VILLAGE_A}",
    f"/alerts/?area={TOWNSHIP}&state=all",
    "/households/{household_id}/visits/new?alert={alert_id}",
    "/care/requests?status=requested",
    "/candidates/?status=all",
)


@pytest.fixture
def village_a(client, world, session) -> dict[str, object]:
    """Give village A one of everything through the API, as its assistant would: a visit with a photo and a need,
    a relief application with an evidence photo; return the value for each URL parameter name."""
    login(client, world.assistant_a)
    visit_uuid, relief_uuid = str(uuid4()), str(uuid4())
    visit = {"uuid": visit_uuid, "household_id": world.household_a.id, "kind": "routine"}
    visit["needs"] = [{"type": "medical", "description": "需要降压药"}]
    assert client.post("/api/v1/visits", json=visit).status_code == 201
    photo = {"file": (io.BytesIO(jpeg("red")), "a.jpg"), "uuid": str(uuid4())}
    assert client.post(f"/api/v1/visits/{visit_uuid}/photos", data=photo).status_code == 201
    relief = {
        "uuid": relief_uuid,
        "household_id": world.household_a.id,
        "person_id": world.head_a.id,
        "reason": "sudden_illness",
        "circumstances": "住院",
        "amount_yuan": "600",
        "payment_form": "card",
    }
    assert client.post("/api/v1/relief", json=relief).status_code == 201
    evidence = {"file": (io.BytesIO(jpeg("blue")), "b.jpg"), "uuid": str(uuid4())}
    assert client.post(f"/api/v1/relief/{relief_uuid}/photos", data=evidence).status_code == 201
    care = f"/households/{world.household_a.id}/agreements"
    agreement = {"person_id": world.head_a.id, "kind": "tekun", "carer_name": "张照料", "carer_phone": "13700000001"}
    agreement.update(carer_relation="子女", duties="平日有人照应", signed_on="2026-01-05", valid_until="2027-01-04")
    assert client.post(f"{care}/new", data=agreement).status_code == 302
    agreement_id = session.exec(select(CareAgreement.id)).one()
    paper = {"file": (io.BytesIO(jpeg("green")), "c.jpg"), "uuid": str(uuid4())}
    assert client.post(f"{care}/{agreement_id}/photos", data=paper).status_code == 302
    wish = {"person_id": world.head_a.id, "note": "想去敬老院"}
    assert client.post(f"/households/{world.household_a.id}/institution-requests", data=wish).status_code == 302
    report = {"uuid": str(uuid4()), "name": "陈秋菊", "area_code": VILLAGE_A, "description": "独居，房屋漏雨"}
    assert client.post("/api/v1/candidates", json=report).status_code == 201
    seen = {"file": (io.BytesIO(jpeg("green")), "c.jpg"), "uuid": str(uuid4())}
    assert client.post(f"/api/v1/candidates/{report['uuid']}/photos", data=seen).status_code == 201
    client.post("/logout")

    def one(model, *where) -> int:
        return session.exec(select(model.id).where(*where)).one()

    batch = PayoutImport(area_code=COUNTY, file_name="结果.csv", sha256="0" * 64, rows=1, created=1)
    session.add(batch)
    session.flush()
    session.add(
        Correction(
            key=f"failed:dibao:2026-03:h{world.household_a.id}",
            kind="failed",
            program_code="dibao",
            period="2026-03",
            area_code=VILLAGE_A,
            household_id=world.household_a.id,
            person_id=world.head_a.id,
            reason="2026年3月发放失败：账户已冻结",
            deadline=date(2026, 4, 20),
        )
    )
    alert = Alert(
        open_key=f"must_visit_overdue:h{world.household_a.id}",
        rule="must_visit_overdue",
        grade="red",
        area_code=VILLAGE_A,
        household_id=world.household_a.id,
        reason="重病重残，应每 30 天走访，已逾期 5 天",
        state="assigned",
        due_at=datetime(2026, 12, 20, tzinfo=UTC),
        assigned_to_id=world.assistant_a.id,
    )
    session.add(alert)
    session.commit()

    return {
        "household_id": world.household_a.id,
        "person_id": world.head_a.id,
        "visit_id": one(Visit, Visit.uuid == visit_uuid),
        "need_id": one(Need, Need.household_id == world.household_a.id),
        "application_id": one(ReliefApplication, ReliefApplication.uuid == relief_uuid),
        "photo_id": one(Photo, Photo.household_id == world.household_a.id),
        "relief_photo_id": session.exec(select(ReliefPhoto.id)).one(),
        "agreement_id": agreement_id,
        "agreement_photo_id": session.exec(select(CareAgreementPhoto.id)).one(),
        "request_id": session.exec(select(InstitutionRequest.id)).one(),
        "candidate_id": one(Candidate, Candidate.uuid == report["uuid"]),
        "candidate_photo_id": session.exec(select(CandidatePhoto.id)).one(),
        "candidate_uuid": report["uuid"],
        "user_id": world.assistant_a.id,
        "campaign_id": 1,
        "import_id": batch.id,
        "correction_id": one(Correction, Correction.household_id == world.household_a.id),
        "alert_id": alert.id,
        "token": session.exec(select(Card.token).where(Card.household_id == world.household_a.id)).one(),
        "uuid": visit_uuid,
        "relief_uuid": relief_uuid,
        "code": TOWNSHIP,
        "area_code": COUNTY,
        "filename": "css/app.css",
        "name": "household",  # the offline shells: the same for everyone, no one's data
    }


def requests_for_village_a(app, values: dict) -> list[tuple[str, str, str]]:
    """Return (endpoint, method, path) for every rule with a parameter, filled with village A's objects."""
    adapter = app.url_map.bind("localhost")
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        names = [m["name"] for m in PARAMETER.finditer(rule.rule)]
        if not names or rule.endpoint == "static":
            continue
        filled = {}
        for name in names:
            key = name
            if rule.endpoint.startswith("photos.relief_") and name == "photo_id":
                key = "relief_photo_id"
            elif rule.endpoint == "api.add_relief_photo" and name == "uuid":
                key = "relief_uuid"
            elif rule.endpoint.startswith("photos.candidate_") and name == "photo_id":
                key = "candidate_photo_id"
            elif rule.endpoint == "api.add_candidate_photo" and name == "uuid":
                key = "candidate_uuid"
            assert key in values, f"teach the sweep a value for <{name}> in {rule.rule} ({rule.endpoint})"
            filled[name] = values[key]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, adapter.build(rule.endpoint, filled, method=method)))
    return found


def state(session, household_id: int) -> str:
    """Return what a request could change about household A and its objects, to compare before and after."""
    session.expire_all()
    rows = [session.get(Household, household_id).model_dump(exclude={"updated_at"})]
    for model in (Person, Visit, Need, Photo, ReliefApplication, ReliefPhoto, Card, CareAgreementPhoto):
        rows.append(session.exec(select(func.count()).select_from(model)).one())
    for model in (Candidate, CandidatePhoto):
        rows.append(session.exec(select(func.count()).select_from(model)).one())
    rows += [a.model_dump() for a in session.exec(select(ReliefApplication))]
    rows += [a.model_dump() for a in session.exec(select(Alert))]
    rows += [a.model_dump(exclude={"updated_at"}) for a in session.exec(select(CareAgreement))]
    rows += [r.model_dump() for r in session.exec(select(InstitutionRequest))]
    rows += [c.model_dump() for c in session.exec(select(Candidate))]
    return json.dumps(rows, default=str, sort_keys=True)


def leaks(response) -> str | None:
    """Say how a response gives away household A, or None when it does not."""
    if response.status_code != 200:
        return None
    if response.mimetype not in TEXT_TYPES:
        return f"200 {response.mimetype}"  # a card, a photo, a spreadsheet, a PDF of village A
    body = response.get_data(as_text=True)
    shown = [secret for secret in SECRETS if secret in body]
    return f"200 showing {shown}" if shown else None


@pytest.mark.parametrize("who", ["assistant_b", None])
def test_village_a_stays_out_of_reach_of_village_b_and_of_strangers(app, client, world, village_a, session, who):
    if who:
        login(client, getattr(world, who))
    before = state(session, world.household_a.id)
    swept, leaked = [], []
    probes = requests_for_village_a(app, village_a)
    probes += [("query", "GET", path.format(**village_a)) for path in QUERY_PROBES]
    for endpoint, method, path in probes:
        response = client.open(path, method=method)
        swept.append(endpoint)
        if problem := leaks(response):
            leaked.append(f"{method} {path} ({endpoint}): {problem}")
        assert response.status_code < 500, f"{method} {path}: {response.status_code}"
    assert leaked == [], "village A's data reached " + (who or "an anonymous visitor") + ":\n" + "\n".join(leaked)
    assert state(session, world.household_a.id) == before, "a request from outside changed village A's data"
    # the sweep really swept: every kind of parameter, and all the query probes
    assert len(swept) >= 55 and {"photos.relief_thumb", "api.add_relief_photo", "cards.landing"} <= set(swept)
    assert {"care.docx", "care.photo_thumb", "care.request_place"} <= set(swept)
    assert {"candidates.show", "candidates.dismiss", "photos.candidate_thumb", "api.add_candidate_photo"} <= set(swept)


def test_the_sweep_would_see_a_leak(app, client, world, village_a):
    """The same checks on village A's own assistant find A's data: the sweep is not blind."""
    login(client, world.assistant_a)
    shown = [path for _e, method, path in requests_for_village_a(app, village_a) if method == "GET"]
    leaked = [path for path in shown if leaks(client.get(path))]
    assert f"/households/{world.household_a.id}" in leaked and f"/households/{world.household_a.id}/card.png" in leaked
    candidate = village_a["candidate_id"]
    assert (
        f"/candidates/{candidate}" in leaked and f"/photos/candidates/{village_a['candidate_photo_id']}_t.jpg" in leaked
    )
