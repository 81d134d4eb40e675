"""导入离线记录: a township officer uploads the outbox file an assistant's phone exported, and each record lands
as the assistant's own, through the API's services, once however often the file is uploaded; what cannot land
is listed with its reason in Chinese, and the rest still lands."""

import base64
import io
import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from sqlmodel import func, select

from models import AuditEvent, Household, Need, Photo, ReliefApplication, Visit
from services.audit import Actor
from services.offline import outbox_file
from services.registry.households import exit_household, update_household
from tests.conftest import OTHER_VILLAGE, VILLAGE_B, add_user, login, page_text
from tests.test_photos import jpeg

OUTBOX = "/imports/outbox"


def count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def visit_item(household, photos=(), **fields) -> dict:
    payload = {
        "uuid": str(uuid4()),
        "household_id": household.id,
        "kind": "routine",
        "visited_at": (datetime.now(UTC) - timedelta(days=3)).isoformat(),
        "needs": [{"type": "medical", "description": "需要降压药"}],
        **fields,
    }
    return {"kind": "visit", "payload": payload, "photos": list(photos)}


def photo(data: bytes | None = None, **fields) -> dict:
    data = jpeg("red") if data is None else data
    return {"uuid": str(uuid4()), "caption": "住房", "jpeg_base64": base64.b64encode(data).decode(), **fields}


def relief_item(world, **fields) -> dict:
    payload = {
        "uuid": str(uuid4()),
        "household_id": world.household_a.id,
        "person_id": world.head_a.id,
        "reason": "sudden_illness",
        "circumstances": "住院花了很多钱",
        "amount_yuan": "600",
        "payment_form": "card",
        "submit": False,
        **fields,
    }
    return {"kind": "relief", "payload": payload, "photos": []}


def outbox(user, items) -> dict:
    named = {"id": user.id, "username": user.username, "display_name": user.display_name}
    return {
        "format": "doudi-outbox",
        "version": 1,
        "exported_at": "2026-11-30T08:00:00Z",
        "user": named,
        "items": items,
    }


def upload(client, content, name="doudi-outbox-assistant-a-20261130-0800.json"):
    data = content if isinstance(content, bytes) else json.dumps(content, ensure_ascii=False).encode()
    return client.post(OUTBOX, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


@pytest.fixture
def the_file(world):
    """Two visits (one with a photo) and a relief draft, from village A's assistant's phone."""
    items = [visit_item(world.household_a, [photo()]), visit_item(world.household_a), relief_item(world)]
    return outbox(world.assistant_a, items)


# ---- landing as the assistant, once -------------------------------------------------------------------------


def test_the_officer_lands_the_files_records_as_the_assistant_and_it_is_audited(as_user, world, session, the_file):
    text = page_text(upload(as_user("township"), the_file))
    assert "已导入 3 条，已有 0 条，未导入 0 条" in text and "李协理（assistant-a）的记录" in text
    assert text.count('data-outbox-item="imported"') == 3 and "碗窑村 0001号" in text and "1 张照片" in text
    visits = session.exec(select(Visit).order_by(Visit.id)).all()
    assert [v.uuid for v in visits] == [item["payload"]["uuid"] for item in the_file["items"][:2]]
    assert {v.visitor_id for v in visits} == {world.assistant_a.id}
    (stored_photo,) = session.exec(select(Photo)).all()
    assert stored_photo.visit_id == visits[0].id and stored_photo.uploaded_by_id == world.assistant_a.id
    (application,) = session.exec(select(ReliefApplication)).all()
    assert application.created_by_id == world.assistant_a.id and application.state == "draft"
    assert {n.created_by_id for n in session.exec(select(Need))} == {world.assistant_a.id}
    (event,) = session.exec(select(AuditEvent).where(AuditEvent.action == "outbox.imported")).all()
    assert event.user_id == world.township.id and event.object_id == str(world.assistant_a.id)
    detail = json.loads(event.detail)
    assert detail["assistant"] == "assistant-a" and detail["photos"] == 1
    assert detail["counts"] == {"imported": 3, "duplicate": 0, "refused": 0}
    created = session.exec(select(AuditEvent.user_id).where(AuditEvent.action == "visit.created")).all()
    assert created == [world.assistant_a.id, world.assistant_a.id]


def test_the_same_file_again_lands_nothing_new_and_says_so(as_user, world, session, the_file):
    client = as_user("township")
    page_text(upload(client, the_file))
    before = [count(session, model) for model in (Visit, Photo, Need, ReliefApplication)]
    text = page_text(upload(client, the_file))
    assert "已导入 0 条，已有 3 条，未导入 0 条" in text and text.count("已有（重复）") == 3
    assert [count(session, model) for model in (Visit, Photo, Need, ReliefApplication)] == before == [2, 1, 2, 1]
    events = session.exec(select(AuditEvent.detail).where(AuditEvent.action == "outbox.imported")).all()
    assert json.loads(events[-1])["counts"] == {"imported": 0, "duplicate": 3, "refused": 0}


def test_a_visit_that_already_arrived_from_the_phone_is_a_duplicate_and_gets_its_missing_photo(
    client, as_user, world, session, the_file
):
    first = the_file["items"][0]
    phone = as_user("assistant_a")
    assert phone.post("/api/v1/visits", json=first["payload"]).status_code == 201  # the photo never made it
    phone.post("/logout")
    text = page_text(upload(as_user("township"), the_file))
    assert "已导入 3 条" in text and count(session, Visit) == 2 and count(session, Photo) == 1


def test_a_visit_made_before_the_household_exited_lands_for_the_township_to_check(as_user, world, session):
    item = visit_item(world.household_a, needs=[])
    exit_household(session, Actor(world.township), session.get(Household, world.household_a.id), "迁出本地")
    session.commit()
    text = page_text(upload(as_user("township"), outbox(world.assistant_a, [item])))
    assert "已导入 1 条" in text
    (review,) = session.exec(select(Need)).all()
    assert review.type == "review" and "之后已退出在册" in review.description


# ---- items refused one by one --------------------------------------------------------------------------------


def test_refused_items_are_listed_with_their_reasons_and_the_others_land(as_user, world, session):
    items = [
        visit_item(world.household_other),  # 凤庆县: outside the officer's township
        visit_item(world.household_a, kind="walk"),  # not a kind of visit
        {"kind": "visit", "payload": {"uuid": "not-a-uuid"}},
        {"kind": "letter", "payload": {}},
        visit_item(world.household_a, visited_at=(datetime.now(UTC) - timedelta(days=40)).isoformat()),
        relief_item(world, amount_yuan="0"),
        visit_item(world.household_a, photos=[photo()] * 10),
        visit_item(world.household_a),  # this one is fine
    ]
    text = page_text(upload(as_user("township"), outbox(world.assistant_a, items)))
    assert "已导入 1 条，已有 0 条，未导入 7 条" in text
    assert "这户不在您的辖区，未导入" in text
    assert "走访类型的选项不对" in text
    assert "走访编号的格式不对" in text and "请填写住户" in text
    assert "记录类型的选项不对" in text
    assert "走访时间早于 30 天前" in text
    assert "金额" in text  # the relief rules' own words about the amount
    assert "一条记录最多 9 张照片，这条有 10 张" in text
    assert count(session, Visit) == 1 and count(session, ReliefApplication) == 0
    assert "段明" not in text  # nothing of the household outside the scope is shown


def test_a_household_moved_out_of_the_assistants_village_is_refused_by_name(as_user, world, session):
    item = visit_item(world.household_a)
    household = session.get(Household, world.household_a.id)
    update_household(session, Actor(world.township), household, {"area_code": VILLAGE_B})
    session.commit()
    text = page_text(upload(as_user("township"), outbox(world.assistant_a, [item])))
    assert "这户已不在李协理的辖区（可能已迁出）" in text and count(session, Visit) == 0


def test_a_broken_photo_is_named_and_the_visit_still_lands(as_user, world, session):
    item = visit_item(world.household_a, [photo(), photo(b"not a photo"), {**photo(), "jpeg_base64": "%%%"}])
    text = page_text(upload(as_user("township"), outbox(world.assistant_a, [item])))
    assert "已导入 1 条" in text
    assert "第 2 张照片未导入：这不是照片文件" in text and "第 3 张照片未导入：照片的内容不完整" in text
    assert count(session, Visit) == 1 and count(session, Photo) == 1


# ---- files refused whole ------------------------------------------------------------------------------------


def test_a_file_naming_an_assistant_outside_the_scope_is_refused(as_user, world, session, password_hash):
    stranger = add_user(session, password_hash, "an-shi", "assistant", OTHER_VILLAGE, display_name="段协理")
    session.commit()
    client = as_user("township")
    refusals = {
        "段协理）不是您辖区内的协理员": outbox(stranger, [visit_item(world.household_a)]),
        "赵经办）不是您辖区内的协理员": outbox(world.township, [visit_item(world.household_a)]),
        "找不到文件中的协理员账号（someone）": {
            **outbox(world.assistant_a, [visit_item(world.household_a)]),
            "user": {"id": world.assistant_a.id, "username": "someone"},
        },
    }
    for words, content in refusals.items():
        assert words in page_text(upload(client, content), 400)
    assert count(session, Visit) == 0
    assert count(session, AuditEvent) == 0


def test_a_stopped_assistants_file_is_refused(as_user, world, session, the_file):
    world.assistant_a.active = False
    session.add(world.assistant_a)
    session.commit()
    assert "账号已停用" in page_text(upload(as_user("township"), the_file), 400)
    assert count(session, Visit) == 0


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "请先选择"),  # an empty part, as a form sent with no file
        (b"\xff\xfe not utf-8", "不是兜底通导出的未上传记录文件"),
        (b'{"format": "doudi-outbox", "version": 1, "items": [', "文件不完整或不是 JSON"),
        (b"[1, 2, 3]", "不是兜底通导出的未上传记录文件"),
        (b'{"format": "roster"}', "不是兜底通导出的未上传记录文件"),
        (b'{"format": "doudi-outbox", "version": 2}', "文件的版本不对"),
        (b'{"format": "doudi-outbox", "version": 1, "items": []}', "文件的格式不对：请填写协理员"),
        (b'{"format": "doudi-outbox", "items": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "层次太深"),
        (b'{"format": "doudi-outbox", "version": 1, "a": [[[[[[[[[1]]]]]]]]]}', "层次太深"),
    ],
)
def test_a_file_that_is_not_an_outbox_is_refused_in_plain_words(as_user, world, session, content, words):
    name = "" if content == b"" else "outbox.json"
    assert words in page_text(upload(as_user("township"), content, name=name), 400)
    assert count(session, Visit) == 0 and count(session, AuditEvent) == 0


def test_a_file_of_more_than_500_items_is_refused(as_user, world, session):
    items = [visit_item(world.household_a) for _ in range(501)]
    text = page_text(upload(as_user("township"), outbox(world.assistant_a, items)), 400)
    assert "一个文件最多 500 条记录，这个文件有 501 条" in text and count(session, Visit) == 0


def test_a_file_over_the_size_limit_is_refused(as_user, world, session, the_file, monkeypatch):
    monkeypatch.setattr(outbox_file, "MAX_FILE_BYTES", 1024 * 1024)  # 1 MB here, instead of 50
    padded = {**the_file, "phone_notes": "x" * (1024 * 1024)}
    assert "文件太大（超过 1 MB）" in page_text(upload(as_user("township"), padded), 400)
    assert count(session, Visit) == 0


def test_a_file_larger_than_the_photo_upload_limit_is_still_taken(make_app, world, session, the_file):
    client = make_app(MAX_CONTENT_LENGTH=64 * 1024).test_client()  # far below a photo-laden outbox
    login(client, world.township)
    the_file["items"][0]["photos"].append(photo(jpeg("blue", size=(1600, 1200))))
    padded = {**the_file, "phone_notes": "x" * 200_000}  # fields the phone adds for itself are ignored
    assert "已导入 3 条" in page_text(upload(client, padded))
    assert count(session, Photo) == 2


# ---- who may ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["assistant_a", "county", "city"])
def test_only_township_officers_may_import(as_user, world, session, the_file, user):
    client = as_user(user)
    assert client.get(OUTBOX).status_code == 403
    assert upload(client, the_file).status_code == 403
    assert count(session, Visit) == 0


def test_anonymous_is_sent_to_the_login_page(client, world, the_file):
    for response in (client.get(OUTBOX), upload(client, the_file)):
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_form_and_the_link_on_me(as_user, world):
    client = as_user("township")
    assert "导入离线记录" in page_text(client.get("/me"))
    form = page_text(client.get(OUTBOX))
    assert 'enctype="multipart/form-data"' in form and "导出未上传记录" in form and "最大 50 MB" in form
    client.post("/logout")
    assert "导入离线记录" not in page_text(as_user("assistant_a").get("/me"))
