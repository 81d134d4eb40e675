"""The in-app scanner page and the household-number lookup behind it."""

import re

import pytest

from scripts.classic_worker import CLASSIC_WORKER, classic_worker_source
from tests.conftest import VILLAGE_A, VILLAGE_B, add_household, page_text

# ---- the scan page ----------------------------------------------------------------------------


def test_scan_page_offers_camera_photo_and_number_entry(as_user):
    body = page_text(as_user("assistant_a").get("/scan/"))
    assert "<video" in body and "开始扫码" in body
    assert re.search(r'<input[^>]*type="file"[^>]*accept="image/\*"[^>]*capture="environment"', body)
    assert "拍照识别" in body
    assert 'action="/scan/lookup"' in body and "输入户号" in body
    assert 'role="switch" aria-checked="false"' in body and "发卡模式" in body


def test_scan_page_requires_login(client):
    response = client.get("/scan/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", ["assistant_b", "township", "county", "city", "admin", "other_county"])
def test_every_role_may_scan(as_user, role):
    response = as_user(role).get("/scan/")
    assert response.status_code == 200 and "开始扫码" in page_text(response)


def test_scan_page_is_on_the_tab_bar_as_scan(as_user):
    body = page_text(as_user("assistant_a").get("/scan/"))
    assert re.search(r'<a href="/scan/" class="weui-tabbar__item weui-bar__item_on" aria-current="page">', body)


def test_deliver_mode_is_switched_on_by_the_query(as_user):
    body = page_text(as_user("assistant_a").get("/scan/?mode=deliver"))
    assert 'data-mode="deliver"' in body and 'role="switch" aria-checked="true"' in body
    assert "发卡模式：扫卡后确认此卡已交到户" in body
    assert 'href="/scan/"' in body  # the switch turns it off again


def test_the_vendored_decoder_can_be_asked_for(as_user):
    client = as_user("assistant_a")
    assert 'data-decoder="qr-scanner"' in page_text(client.get("/scan/?decoder=qr-scanner"))
    assert 'data-decoder="auto"' in page_text(client.get("/scan/?decoder=<script>"))


def test_qr_scanner_is_loaded_on_the_scan_page_only(as_user):
    client = as_user("assistant_a")
    assert "qr-scanner.umd.min.js" in page_text(client.get("/scan/"))
    for other in ("/households/", "/", "/me"):
        assert "qr-scanner" not in page_text(client.get(other)), other


def test_scan_page_scripts_all_come_from_our_static_files(as_user):
    body = page_text(as_user("assistant_a").get("/scan/"))
    scripts = re.findall(r"<script\b[^>]*>", body)
    assert len(scripts) >= 4  # htmx, app.js, qr-scanner, scan.js
    for tag in scripts:
        assert re.search(r'src="/static/[^"]+"', tag), tag
    assert re.search(r'data-worker="/static/vendor/qr-scanner-worker\.classic\.js\?v=\w+"', body)
    assert "style=" not in body and not re.search(r"\son[a-z]+=", body)  # the CSP allows neither


def test_worker_file_is_served_from_static_as_javascript(as_user):
    response = as_user("assistant_a").get("/static/vendor/qr-scanner-worker.classic.js")
    assert response.status_code == 200 and "javascript" in response.mimetype
    assert "self.onmessage" in page_text(response) and "createObjectURL" not in page_text(response)


def test_classic_worker_is_the_vendored_qr_scanner_worker():
    assert CLASSIC_WORKER.read_text() == classic_worker_source(), (
        "static/vendor/qr-scanner-worker.classic.js is out of date: run python scripts/classic_worker.py"
    )


# ---- looking a household up by its number ----------------------------------------------------


def test_own_household_number_opens_the_household(as_user, world):
    response = as_user("assistant_a").get("/scan/lookup?no=0001")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/households/{world.household_a.id}"


def test_a_short_number_is_padded_to_four_digits(as_user, world):
    response = as_user("assistant_a").get("/scan/lookup?no=1")
    assert response.headers["Location"] == f"/households/{world.household_a.id}"


def test_lookup_requires_login(client, world):
    response = client.get("/scan/lookup?no=0001")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_other_village_number_is_not_found_for_assistant(as_user, session, world):
    add_household(session, VILLAGE_B, "0002", "杨春花")
    session.commit()
    response = as_user("assistant_a").get("/scan/lookup?no=0002")
    body = page_text(response)
    assert response.status_code == 200
    assert "没有找到户号 0002（只查您辖区内的住户）" in body
    assert "杨春花" not in body and "勐准村" not in body


def test_unknown_number_is_not_found(as_user, world):
    body = page_text(as_user("township").get("/scan/lookup?no=9999"))
    assert "没有找到户号 9999（只查您辖区内的住户）" in body
    assert 'value="9999"' in body  # typed again easily


def test_township_officer_chooses_between_villages(as_user, world):
    response = as_user("township").get("/scan/lookup?no=0001")
    body = page_text(response)
    assert response.status_code == 200 and "请选择" in body
    assert "碗窑村" in body and "张明华" in body and f'href="/households/{world.household_a.id}"' in body
    assert "勐准村" in body and "杨梅国" in body and f'href="/households/{world.household_b.id}"' in body
    assert "段明" not in body and f'href="/households/{world.household_other.id}"' not in body
    assert "530902194505168663" not in body


def test_other_county_officer_goes_to_own_household_only(as_user, world):
    response = as_user("other_county").get("/scan/lookup?no=0001")  # 博尚镇's two 0001s are out of scope
    assert response.headers["Location"] == f"/households/{world.household_other.id}"


def test_active_households_are_listed_before_exited_ones(as_user, session, world):
    household_a = world.household_a
    household_a.status, household_a.exit_reason = "exited", "迁出本地"
    session.add(household_a)
    session.commit()
    body = page_text(as_user("township").get("/scan/lookup?no=0001"))
    assert body.index("杨梅国") < body.index("张明华")
    assert "已退出" in body


def test_many_matches_are_cut_short_with_a_hint(as_user, session, world, monkeypatch):
    monkeypatch.setattr("blueprints.scan.MAX_CHOICES", 1)
    add_household(session, VILLAGE_A, "0007", "李七")
    add_household(session, VILLAGE_B, "0007", "王七")
    session.commit()
    body = page_text(as_user("township").get("/scan/lookup?no=0007"))
    assert "只显示前 1 户" in body and "李七" in body and "王七" not in body


def test_empty_number_shows_the_scan_page(as_user, world):
    response = as_user("assistant_a").get("/scan/lookup?no=+")
    assert response.status_code == 200 and "开始扫码" in page_text(response) and "没有找到" not in page_text(response)


def test_lookup_is_not_a_search_by_name(as_user, world):
    body = page_text(as_user("assistant_a").get("/scan/lookup", query_string={"no": "张明华"}))
    assert "没有找到户号 张明华" in body


def test_lookup_keeps_village_a_numbers_apart(as_user, session, world):
    add_household(session, VILLAGE_A, "0012", "罗正华")
    session.commit()
    client = as_user("assistant_a")
    response = client.get("/scan/lookup?no=0012")
    assert response.status_code == 302
    assert "罗正华" in page_text(client.get(response.headers["Location"]))
