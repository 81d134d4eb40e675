"""Care agreements as records: recorded from the household page, photos of the signed paper, a .docx to print and
sign, the household's flag kept in step, and nothing of them outside the household's scope."""

import io
import json
from datetime import timedelta
from uuid import uuid4

import pytest
from docx import Document
from sqlmodel import select

from models import AuditEvent, CareAgreement, CareAgreementPhoto
from services.audit import Actor
from services.care import agreements
from services.clock import today_in_china
from tests.care_helpers import add_agreement
from tests.conftest import page_text
from tests.test_photos import jpeg

TODAY = today_in_china()


def form_for(world, **changes) -> dict:
    person = world.head_b
    data = {
        "person_id": str(person.id),
        "kind": "tekun",
        "carer_name": "杨照料",
        "carer_phone": "13700000009",
        "carer_relation": "子女",
        "duties": agreements.default_duties("tekun"),
        "signed_on": TODAY.isoformat(),
        "valid_until": (TODAY + timedelta(days=364)).isoformat(),
    }
    data.update(changes)
    return data


@pytest.fixture
def head_b(world, session):
    from tests.payouts_helpers import head_of

    world.head_b = head_of(session, world.household_b)
    return world.head_b


@pytest.fixture
def agreement_b(app, session, world, head_b):
    """A signed, valid agreement of village B's 分散供养特困 household, with one photo of the paper."""
    agreement = add_agreement(
        session, world.household_b, head_b, by=world.assistant_b, signed_on=TODAY, valid_until=TODAY + timedelta(300)
    )
    agreements.add_photo(
        session,
        Actor(world.assistant_b),
        agreement,
        uuid=str(uuid4()),
        data=jpeg("green"),
        folder=app.config["PHOTO_FOLDER"],
    )
    session.commit()
    return agreement


@pytest.fixture
def links(world, session, agreement_b) -> dict[str, str]:
    """Every GET address of agreement B: its page, form, .docx, photo and thumbnail."""
    base = f"/households/{world.household_b.id}/agreements/{agreement_b.id}"
    photo = session.exec(select(CareAgreementPhoto.id)).first()
    return {
        "page": base,
        "edit": f"{base}/edit",
        "docx": f"{base}.docx",
        "photo": f"/care/photos/{photo}.jpg",
        "thumb": f"/care/photos/{photo}_t.jpg",
    }


# ---- recording -----------------------------------------------------------------------------


def test_the_assistant_records_a_signed_agreement_and_the_household_counts_as_signed(as_user, world, session, head_b):
    client = as_user("assistant_b")
    form = page_text(client.get(f"/households/{world.household_b.id}/agreements/new"))
    assert "三方委托照料服务协议" in form and "平日有人照应" in form  # the default duties of a 特困 agreement
    response = client.post(f"/households/{world.household_b.id}/agreements/new", data=form_for(world))
    assert response.status_code == 302
    agreement = session.exec(select(CareAgreement)).one()
    assert (agreement.person_id, agreement.carer_phone, agreement.area_code) == (
        head_b.id,
        "13700000009",
        "530902100000",
    )
    session.refresh(world.household_b)
    assert world.household_b.care_agreement_signed
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "care.agreement_created")).one()
    shown = page_text(client.get(f"/households/{world.household_b.id}"))
    assert "杨照料" in shown and "有效期至" in shown


def test_an_unsigned_agreement_does_not_count_until_its_dates_are_filled_in(as_user, world, session, head_b):
    client = as_user("township")
    blank = form_for(world, signed_on="", valid_until="")
    assert client.post(f"/households/{world.household_b.id}/agreements/new", data=blank).status_code == 302
    agreement = session.exec(select(CareAgreement)).one()
    session.refresh(world.household_b)
    assert agreement.signed_on is None and not world.household_b.care_agreement_signed
    edited = client.post(f"/households/{world.household_b.id}/agreements/{agreement.id}/edit", data=form_for(world))
    assert edited.status_code == 302
    session.refresh(world.household_b)
    assert world.household_b.care_agreement_signed


def test_ending_the_agreement_clears_the_flag(as_user, world, session, agreement_b, links):
    session.refresh(world.household_b)
    world.household_b.care_agreement_signed = True
    session.add(world.household_b)
    session.commit()
    client = as_user("assistant_b")
    assert client.post(links["page"] + "/end").status_code == 302
    session.refresh(world.household_b)
    session.refresh(agreement_b)
    assert agreement_b.status == "ended" and not world.household_b.care_agreement_signed


def test_an_expired_agreement_clears_the_flag_when_the_rules_run(session, world, agreement_b):
    from services.alerts import engine

    agreements.sync_flag(session, world.household_b)
    session.commit()
    engine.run(session, Actor(None), today=agreement_b.valid_until + timedelta(days=1), only={"care_agreement_missing"})
    session.commit()
    session.refresh(world.household_b)
    assert not world.household_b.care_agreement_signed


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"carer_phone": "call me"}, "电话号码只能包含数字"),
        ({"carer_name": ""}, "姓名"),
        ({"carer_relation": "朋友的朋友"}, "请选择照料人与被照料人的关系"),
        ({"valid_until": "2026-02-30"}, "有效期至请按"),
        ({"duties": "x" * 2001}, "职责最多"),
        ({"kind": "other"}, "请选择协议类型"),
    ],
)
def test_a_wrong_field_is_named_and_nothing_is_saved(as_user, world, session, head_b, changes, field):
    client = as_user("assistant_b")
    response = client.post(f"/households/{world.household_b.id}/agreements/new", data=form_for(world, **changes))
    assert field in page_text(response, 400)
    assert session.exec(select(CareAgreement)).all() == []


def test_a_person_of_another_household_cannot_be_the_one_cared_for(as_user, world, session, head_b):
    client = as_user("township")
    response = client.post(
        f"/households/{world.household_b.id}/agreements/new", data=form_for(world, person_id=str(world.head_a.id))
    )
    assert "请选择这户的被照料人" in page_text(response, 400)


def test_the_county_reads_agreements_but_does_not_record_them(as_user, world, agreement_b, links):
    client = as_user("county")
    assert "杨照料" in page_text(client.get(links["page"]))
    page_text(client.get(f"/households/{world.household_b.id}/agreements/new"), 403)


# ---- photos and the .docx ----------------------------------------------------------------


def test_a_photo_of_the_signed_paper_is_stored_once_and_served_in_scope(as_user, world, session, agreement_b, links):
    client = as_user("assistant_b")
    photo_uuid = str(uuid4())
    for _ in range(2):  # a resent form lands once
        data = {"file": (io.BytesIO(jpeg("red")), "paper.jpg"), "uuid": photo_uuid}
        response = client.post(links["page"] + "/photos", data=data)
        assert response.status_code == 302
    assert len(session.exec(select(CareAgreementPhoto)).all()) == 2  # the fixture's and this one
    stored = session.exec(select(CareAgreementPhoto).where(CareAgreementPhoto.uuid == photo_uuid)).one()
    image = client.get(f"/care/photos/{stored.id}.jpg")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert "private" in image.headers["Cache-Control"]


def test_a_file_that_is_no_photo_is_refused_with_a_reason(as_user, world, session, agreement_b, links):
    client = as_user("assistant_b")
    data = {"file": (io.BytesIO(b"not a picture"), "paper.jpg"), "uuid": str(uuid4())}
    response = client.post(links["page"] + "/photos", data=data, follow_redirects=True)
    assert "这不是照片文件" in page_text(response)
    assert len(session.exec(select(CareAgreementPhoto)).all()) == 1


def test_the_docx_names_the_parties_the_duties_and_the_dates(as_user, world, session, agreement_b, links):
    response = as_user("township").get(links["docx"])
    assert response.status_code == 200 and response.mimetype.endswith("wordprocessingml.document")
    text = "\n".join(p.text for p in Document(io.BytesIO(response.data)).paragraphs)
    assert "三方委托照料服务协议" in text
    assert "博尚镇人民政府" in text and "杨梅国" in text and "杨照料" in text and "13700000009" in text
    assert "平日有人照应" in text and f"{TODAY.year}年{TODAY.month}月{TODAY.day}日" in text
    assert "53090219551221719X" not in text and "530902********719X" in text  # masked, as everywhere
    assert "乙方（签字或手印）" in text
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "care.agreement_downloaded")).one()
    assert json.loads(event.detail)["household_id"] == world.household_b.id


def test_an_unsigned_agreement_prints_with_blank_dates(as_user, world, session, head_b):
    agreement = add_agreement(session, world.household_b, head_b, by=world.township, kind="child")
    session.commit()
    response = as_user("assistant_b").get(f"/households/{world.household_b.id}/agreements/{agreement.id}.docx")
    text = "\n".join(p.text for p in Document(io.BytesIO(response.data)).paragraphs)
    assert "留守儿童委托监护责任确认书" in text and "______年____月____日" in text


# ---- the trio: login and scope -----------------------------------------------------------


@pytest.mark.parametrize("name", ["page", "edit", "docx", "photo", "thumb"])
def test_every_agreement_url_requires_login(client, world, agreement_b, name, links):
    response = client.get(links[name])
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("who", ["assistant_a", "other_county"])
@pytest.mark.parametrize("name", ["page", "edit", "docx", "photo", "thumb"])
def test_outside_the_households_scope_every_agreement_url_is_404(as_user, world, agreement_b, who, name, links):
    page_text(as_user(who).get(links[name]), 404)


@pytest.mark.parametrize("who", ["assistant_a", "other_county"])
def test_outside_the_scope_nothing_can_be_posted_either(as_user, world, session, agreement_b, who, links):
    client = as_user(who)
    base = links["page"]
    page_text(client.post(base + "/end"), 404)
    page_text(
        client.post(base + "/photos", data={"file": (io.BytesIO(jpeg("red")), "a.jpg"), "uuid": str(uuid4())}), 404
    )
    page_text(client.post(f"/households/{world.household_b.id}/agreements/new", data=form_for(world)), 404)
    session.refresh(agreement_b)
    assert agreement_b.status == "active" and len(session.exec(select(CareAgreementPhoto)).all()) == 1


def test_an_agreement_asked_for_under_another_household_is_404(as_user, world, agreement_b):
    page_text(as_user("township").get(f"/households/{world.household_a.id}/agreements/{agreement_b.id}"), 404)


def test_the_nightly_cleanup_keeps_the_files_of_agreement_photos(app, session, agreement_b):
    from datetime import timedelta as span

    from services.visits.photos import path_for, remove_orphan_files

    folder = app.config["PHOTO_FOLDER"]
    photo = session.exec(select(CareAgreementPhoto)).one()
    removed = remove_orphan_files(session, folder, span(0), now=path_for(folder, photo.sha256).stat().st_mtime + 10)
    assert "skipped" not in removed  # an agreement photo row is a photo row: the folder is trusted
    assert removed["photos"]["files"] == 0 and path_for(folder, photo.sha256).exists()


def test_an_ended_agreement_cannot_be_edited(as_user, world, session, agreement_b, links):
    client = as_user("assistant_b")
    client.post(links["page"] + "/end")
    response = client.post(links["edit"], data=form_for(world, carer_name="王新"))
    assert "已终止的协议不能再修改" in page_text(response, 400)
    session.refresh(agreement_b)
    assert agreement_b.carer_name == "杨照料"


def test_the_demo_backs_its_signed_flags_with_agreement_records(app, session):
    from sqlalchemy import func

    from models import Household

    assert app.test_cli_runner().invoke(args=["seed-demo", "--households", "120"]).exit_code == 0
    records = session.exec(select(CareAgreement)).all()
    assert records and all(agreements.is_valid(a, TODAY) for a in records)
    flagged = set(session.exec(select(Household.id).where(Household.care_agreement_signed)).all())
    assert {a.household_id for a in records} <= flagged
    assert session.exec(select(func.count(func.distinct(CareAgreement.household_id)))).one() == len(records)  # one each
