"""发放结果导入 on the web: a county uploads the bank's result file, previews it (nothing written), confirms, and
finds its past imports and their files; nobody outside the county (but the city) reaches them."""

import dataclasses
import io
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import func, select

from models import AuditEvent, Correction, Payment, PayoutImport
from services.payouts import result_file
from services.registry.idnumber import check_digit
from tests.conftest import COUNTY, VILLAGE_A, login, page_text

HEADER = "姓名,身份证号码,项目,发放期间,应发金额（元）,实发金额（元）,银行账号,发放状态,失败原因"
FILE_NAME = "临翔区2026年3月发放结果.csv"


def _stranger_id() -> str:
    first17 = "53090219800101123"
    return first17 + check_digit(first17)


def result_csv(*rows: str) -> bytes:
    """Return a county's result file as the 一卡通 platform exports it: two title rows above the header."""
    lines = ["临翔区2026年3月补贴资金发放结果", "导出时间：2026-04-05,,,,,,,,", HEADER, *rows]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def county_file() -> bytes:
    """张明华's 低保 failed (frozen account), 杨梅国's 特困 paid, and someone the registry does not know paid."""
    return result_csv(
        "张明华,530902194505168663,城乡低保,2026-03,600.00,0,6217001234567890,失败,账户已冻结",
        "杨梅国,53090219551221719X,特困人员供养,2026-03,1100.00,1100.00,6217009876543210,成功,",
        f"李四,{_stranger_id()},特困人员供养,2026-03,1100.00,1100.00,6217000000001111,成功,",
    )


def upload(client, data: bytes, name: str = FILE_NAME):
    return client.post("/payouts/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def stored_upload(body: str) -> str:
    match = re.search(r'name="upload" value="([^"]+)"', body)
    assert match, "the preview offers no 确认导入"
    return match.group(1)


def import_through_the_web(client, data: bytes | None = None) -> int:
    """Upload and confirm as whoever is signed in; return the import's id."""
    preview = page_text(upload(client, data or county_file()))
    response = client.post("/payouts/import/confirm", data={"upload": stored_upload(preview)})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return int(response.headers["Location"].rsplit("/", 1)[-1])


def count(session, model) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture
def uploads(app) -> Path:
    return Path(app.config["UPLOAD_FOLDER"])


@pytest.fixture
def kept(app) -> Path:
    return Path(app.config["PAYOUTS_FOLDER"])


# ---- upload and preview --------------------------------------------------------------------


def test_the_upload_form_is_for_county_officers(as_user):
    body = page_text(as_user("county").get("/payouts/import"))
    assert "上传并检查" in body and "发放状态" in body


@pytest.mark.parametrize("who", ["township", "city", "assistant_a", "admin"])
def test_others_may_not_import(as_user, who):
    client = as_user(who)
    assert client.get("/payouts/import").status_code == 403
    assert upload(client, county_file()).status_code == 403


def test_the_preview_shows_what_would_happen_and_changes_nothing(as_user, session, uploads):
    body = page_text(upload(as_user("county"), county_file()))
    assert "还没有写入" in body and "确认导入" in body
    assert "将新增的发放记录" in body and "将新增的整改事项" in body
    assert "发放失败" in body and "账户已冻结" in body and "不在本县（区）在册人员中" in body
    assert "530902194505168663" not in body  # ID numbers masked on screen
    for model in (Payment, Correction, PayoutImport):
        assert count(session, model) == 0, model
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "payouts.imported")).first() is None
    assert len(files_in(uploads)) == 1  # waiting for 确认导入


def test_the_preview_counts_the_rows_and_the_new_items(as_user):
    body = page_text(upload(as_user("county"), county_file()))
    numbers = re.findall(r'<div class="stat__num">(\d+)</div><div class="stat__label">([^<]+)</div>', body)
    assert dict((label, int(n)) for n, label in numbers) == {
        "文件里的发放记录": 3,
        "将新增的发放记录": 3,
        "发放成功": 2,
        "将新增的整改事项": 2,
    }


def test_rows_that_cannot_be_read_are_listed_and_nothing_can_be_imported(as_user, session, uploads):
    data = result_csv(
        "张明华,530902194505168663,城乡低保,2026-03,600.00,600.00,6217001234567890,成功,",
        "杨梅国,53090219551221719X,特困人员供养,2026-03,1100.00,一千,6217009876543210,成功,",
        "某某,530902194505168663,城乡低保,2026-13,600,600,6217,成功,",
    )
    body = page_text(upload(as_user("county"), data), 400)
    assert "整个文件都不能导入" in body
    assert "第 5 行" in body and "不是金额" in body
    assert "第 6 行" in body and "月份不对" in body
    assert 'name="upload"' not in body
    assert count(session, Payment) == 0 and files_in(uploads) == []


def test_a_broken_workbook_is_refused_and_not_kept(as_user, session, uploads):
    body = page_text(upload(as_user("county"), b"PK\x03\x04 not really a workbook", "结果.xlsx"), 400)
    assert "文件打不开" in body
    assert files_in(uploads) == [] and count(session, PayoutImport) == 0


def test_a_file_over_the_size_limit_is_refused_and_not_kept(as_user, monkeypatch, uploads):
    monkeypatch.setattr(result_file, "LIMITS", dataclasses.replace(result_file.LIMITS, file_bytes=400))
    body = page_text(upload(as_user("county"), county_file() + b"x" * 500), 400)
    assert "文件太大" in body
    assert files_in(uploads) == []


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"x", "结果.xls", "旧版 Excel"),
        (b"x", "结果.pdf", "只能导入"),
        (b"", FILE_NAME, "文件是空的"),
        (HEADER.encode(), FILE_NAME, "没有数据行"),
        ("姓名,金额\n张三,5\n".encode(), FILE_NAME, "没有找到表头"),
    ],
)
def test_a_file_that_is_not_a_result_file_is_refused_in_plain_words(as_user, uploads, data, name, message):
    body = page_text(upload(as_user("county"), data, name), 400)
    assert message in body and files_in(uploads) == []


def test_a_form_with_no_file_says_so(as_user):
    body = page_text(as_user("county").post("/payouts/import", data={}), 400)
    assert "请先选择要导入的发放结果文件" in body


# ---- confirming ----------------------------------------------------------------------------


def test_confirming_imports_the_payments_and_opens_the_corrections(as_user, session, world, uploads, kept):
    client = as_user("county")
    import_id = import_through_the_web(client)
    assert count(session, Payment) == 3
    failed = session.exec(select(Correction).where(Correction.kind == "failed")).one()
    assert (failed.household_id, failed.area_code, failed.status) == (world.household_a.id, VILLAGE_A, "open")
    stranger = session.exec(select(Correction).where(Correction.kind == "not_in_registry")).one()
    assert stranger.area_code == COUNTY and stranger.household_id is None
    batch = session.get(PayoutImport, import_id)
    assert (batch.area_code, batch.file_name, batch.rows, batch.created) == (COUNTY, FILE_NAME, 3, 3)
    assert files_in(uploads) == []
    assert (kept / COUNTY / batch.stored_name).read_bytes() == county_file()  # kept under instance/, not static
    body = page_text(client.get(f"/payouts/imports/{import_id}"))
    assert "已导入 3 条发放记录" in body and FILE_NAME in body and "钱科长" in body


def test_the_outcome_links_each_kind_to_the_corrections_list(as_user):
    client = as_user("county")
    body = page_text(client.get(f"/payouts/imports/{import_through_the_web(client)}"))
    links = {}
    for href in re.findall(r'href="(/payouts/corrections\?[^"]+)"', body):
        href = href.replace("&amp;", "&")
        links[parse_qs(urlsplit(href).query)["kind"][0]] = href
    assert set(links) == {"failed", "missing", "not_in_registry", "duplicate", "after_exit", "wrong_amount"}
    assert "program=" not in links["failed"]  # two programs in this file: the links are not narrowed to one
    listed = page_text(client.get(links["failed"]))
    assert "张明华" in listed and "李四" not in listed


def test_importing_the_same_file_again_says_it_adds_nothing(as_user, session):
    client = as_user("county")
    import_through_the_web(client)
    body = page_text(upload(client, county_file()))
    assert "这个文件导入过了，没有新增" in body and "钱科长" in body
    assert 'name="upload"' not in body
    assert count(session, Payment) == 3 and count(session, PayoutImport) == 1


def test_a_preview_confirmed_twice_imports_once(as_user, session):
    client = as_user("county")
    upload_id = stored_upload(page_text(upload(client, county_file())))
    assert client.post("/payouts/import/confirm", data={"upload": upload_id}).status_code == 302
    again = client.post("/payouts/import/confirm", data={"upload": upload_id})
    assert "已经导入过或预览已过期" in page_text(again, 400)
    assert count(session, Payment) == 3 and count(session, PayoutImport) == 1


def test_a_second_upload_replaces_the_first_unconfirmed_one(as_user, uploads):
    client = as_user("county")
    first = stored_upload(page_text(upload(client, county_file())))
    second = stored_upload(page_text(upload(client, county_file() + b"\n")))
    assert files_in(uploads) == [second]
    assert client.post("/payouts/import/confirm", data={"upload": first}).status_code == 400


def test_the_same_file_a_second_time_confirmed_from_two_previews_adds_nothing(make_app, world, session, password_hash):
    """Two tabs previewed the same file; the second confirm finds it imported and says so."""
    app = make_app()
    tabs = [app.test_client(), app.test_client()]
    stored = []
    for tab in tabs:
        login(tab, world.county)
        stored.append(stored_upload(page_text(upload(tab, county_file()))))
    assert tabs[0].post("/payouts/import/confirm", data={"upload": stored[0]}).status_code == 302
    second = tabs[1].post("/payouts/import/confirm", data={"upload": stored[1]}, follow_redirects=True)
    assert "这个文件导入过了，没有新增" in page_text(second)
    assert count(session, PayoutImport) == 1 and count(session, Payment) == 3


# ---- past imports and their files -----------------------------------------------------------


def test_the_county_lists_its_imports_with_who_when_rows_and_new(as_user):
    client = as_user("county")
    import_through_the_web(client)
    body = page_text(client.get("/payouts/imports"))
    assert FILE_NAME in body and "钱科长" in body and "3 行，新增 3" in body and "临翔区" in body
    assert FILE_NAME in page_text(client.get("/payouts/import"))  # the upload page shows the latest


def test_the_county_downloads_the_file_it_imported_and_it_is_audited(as_user, session):
    client = as_user("county")
    import_id = import_through_the_web(client)
    response = client.get(f"/payouts/imports/{import_id}/file")
    assert response.status_code == 200 and response.data == county_file()
    assert "attachment" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "payouts.file_downloaded")).one()
    assert event.object_id == str(import_id)


def test_the_city_sees_every_county_import_and_its_file(as_user, client, world):
    import_id = import_through_the_web(as_user("county"))
    as_user("city")
    assert FILE_NAME in page_text(client.get("/payouts/imports"))
    assert FILE_NAME in page_text(client.get(f"/payouts/imports/{import_id}"))
    assert client.get(f"/payouts/imports/{import_id}/file").data == county_file()


@pytest.mark.parametrize("who", ["other_county", "township"])
def test_officers_outside_the_county_get_404_for_the_import_and_its_file(as_user, client, who):
    import_id = import_through_the_web(as_user("county"))
    as_user(who)
    assert client.get(f"/payouts/imports/{import_id}").status_code == 404
    assert client.get(f"/payouts/imports/{import_id}/file").status_code == 404
    assert FILE_NAME not in page_text(client.get("/payouts/imports"))


@pytest.mark.parametrize("who", ["assistant_a", "assistant_b"])
def test_assistants_reach_no_import(as_user, client, who):
    import_id = import_through_the_web(as_user("county"))
    as_user(who)
    assert client.get("/payouts/imports").status_code == 403
    assert client.get(f"/payouts/imports/{import_id}").status_code == 404
    assert client.get(f"/payouts/imports/{import_id}/file").status_code == 404


def test_an_import_that_does_not_exist_is_404(as_user):
    client = as_user("county")
    assert client.get("/payouts/imports/999").status_code == 404
    assert client.get("/payouts/imports/999/file").status_code == 404


def test_an_import_without_a_kept_file_offers_no_download(as_user, session, kept):
    client = as_user("county")
    import_id = import_through_the_web(client)
    batch = session.get(PayoutImport, import_id)
    (kept / COUNTY / batch.stored_name).unlink()
    assert "下载导入的文件" not in page_text(client.get(f"/payouts/imports/{import_id}"))
    assert client.get(f"/payouts/imports/{import_id}/file").status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/payouts/import"),
        ("POST", "/payouts/import"),
        ("POST", "/payouts/import/confirm"),
        ("GET", "/payouts/imports"),
        ("GET", "/payouts/imports/1"),
        ("GET", "/payouts/imports/1/file"),
    ],
)
def test_every_import_page_asks_a_stranger_to_sign_in(client, world, method, path):
    response = client.open(path, method=method)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# ---- 我的 ------------------------------------------------------------------------------------


def test_me_links_to_import_and_corrections_by_capability(as_user, client):
    county = page_text(as_user("county").get("/me"))
    assert "发放结果导入" in county and "整改事项" in county
    township = page_text(as_user("township").get("/me"))
    assert "发放结果导入" not in township and "整改事项" in township
    assistant = page_text(as_user("assistant_a").get("/me"))
    assert "发放结果导入" not in assistant and "整改事项" not in assistant
