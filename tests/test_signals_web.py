"""The county's 部门名单导入 page: upload, a preview that changes nothing, confirm once."""

import io
import re
from pathlib import Path

import pytest
from sqlmodel import func, select

from models import Alert, Candidate, SignalImport, SignalRecord
from tests.conftest import page_text
from tests.payout_files import synthetic_id
from tests.signal_files import medical, write

STRANGER = synthetic_id(4000, born="1975")


def count(session, model) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def a_list(tmp_path: Path, world, name="医保.xlsx") -> bytes:
    rows = [
        medical("张明华", world.head_a.id_number, "6500"),
        medical("陈小芳", STRANGER, "12000", address="博尚镇勐准村"),
        medical("错号", "530902197501010000", "7000"),
    ]
    return write(tmp_path / name, "medical", rows).read_bytes()


def upload(client, data: bytes, kind="medical", name="医保.xlsx"):
    form = {"kind": kind, "file": (io.BytesIO(data), name)}
    return client.post("/signals/import", data=form, content_type="multipart/form-data")


def stored_upload(body: str) -> str:
    match = re.search(r'name="upload" value="([^"]+)"', body)
    assert match, "the preview offers no 确认导入"
    return match.group(1)


def test_the_form_names_the_kinds_and_columns(as_user):
    body = page_text(as_user("county").get("/signals/import"))
    assert "医保住院费用名单" in body and "个人自付（元）" in body and "上传并检查" in body


def test_the_form_requires_login(client):
    response = client.get("/signals/import")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("who", ["township", "city", "assistant_a"])
def test_others_may_not_import(as_user, who, world, tmp_path):
    client = as_user(who)
    assert client.get("/signals/import").status_code == 403
    assert upload(client, a_list(tmp_path, world)).status_code == 403


def test_the_preview_shows_what_would_happen_and_changes_nothing(as_user, session, world, tmp_path):
    body = page_text(upload(as_user("county"), a_list(tmp_path, world)))
    assert "还没有写入" in body and "确认导入" in body and "将产生的预警" in body
    assert "第 5 行：" in body and "校验位" in body  # the bad row, named
    assert "5309**********" not in body and "张明华" in body and "530902********8663" in body  # masked
    assert count(session, SignalRecord) == count(session, Alert) == count(session, Candidate) == 0
    assert count(session, SignalImport) == 0


def test_confirming_imports_once_and_a_second_upload_offers_nothing(as_user, session, world, tmp_path):
    client = as_user("county")
    data = a_list(tmp_path, world)
    stored = stored_upload(page_text(upload(client, data)))
    response = client.post("/signals/import/confirm", data={"upload": stored})
    assert response.status_code == 302
    assert "新增预警 1 条，待核实对象 1 人" in page_text(client.get(response.headers["Location"]))
    assert (count(session, Alert), count(session, Candidate), count(session, SignalRecord)) == (1, 1, 2)
    again = page_text(upload(client, data))
    assert "导入过了" in again and 'name="upload"' not in again
    assert client.post("/signals/import/confirm", data={"upload": stored}).status_code == 400  # spent
    assert (count(session, Alert), count(session, Candidate)) == (1, 1)


def test_a_file_of_another_kind_is_refused_in_plain_words(as_user, world, tmp_path):
    body = page_text(upload(as_user("county"), a_list(tmp_path, world), kind="death"), 400)
    assert "没有找到卫健（公安）死亡名单的表头" in body


def test_a_renamed_file_is_refused(as_user):
    body = page_text(upload(as_user("county"), b"not a workbook", name="x.xlsx"), 400)
    assert "文件打不开" in body


def test_a_death_confirmed_through_the_web_shows_on_the_household_page(as_user, world, tmp_path):
    client = as_user("county")
    data = write(
        tmp_path / "死亡.csv", "death", [["张明华", world.head_a.id_number, "碗窑村", "2026-11-05"]]
    ).read_bytes()
    body = page_text(upload(client, data, kind="death", name="死亡.csv"))
    assert "将标记去世、停发补贴" in body
    client.post("/signals/import/confirm", data={"upload": stored_upload(body)})
    page = page_text(as_user("township").get(f"/households/{world.household_a.id}"))
    assert "2026-11-05 去世" in page and "户内人员全部死亡" in page
