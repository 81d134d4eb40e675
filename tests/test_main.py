from models import AuditEvent
from tests.conftest import login


def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_manifest_names_the_app_and_its_icons(client):
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    assert response.json["name"] == "兜底通" and response.json["theme_color"] == "#07c160"
    for icon in response.json["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_home_shows_counts_of_the_users_own_area(as_user):
    body = as_user("assistant_a").get("/").get_data(as_text=True)
    assert "碗窑村" in body and "李协理" in body
    assert '<div class="stat__num">1</div><div class="stat__label">在册户数</div>' in body


def test_township_home_counts_both_villages(as_user):
    body = as_user("township").get("/").get_data(as_text=True)
    assert '<div class="stat__num">2</div><div class="stat__label">在册户数</div>' in body


def test_tab_bar_has_five_working_tabs(as_user):
    client = as_user("assistant_a")
    body = client.get("/").get_data(as_text=True)
    assert body.count('class="weui-tabbar__item') == 5
    for label, path in (
        ("首页", "/"),
        ("住户", "/households/"),
        ("扫码", "/scan/"),
        ("走访", "/visits/"),
        ("我的", "/me"),
    ):
        assert f'href="{path}"' in body and label in body
        assert client.get(path).status_code == 200


def test_me_shows_management_links_only_to_managers(as_user, client, world):
    assistant_page = as_user("assistant_a").get("/me").get_data(as_text=True)
    assert "账号管理" not in assistant_page and "导入花名册" not in assistant_page
    client.post("/logout")
    login(client, world.county)
    county_page = client.get("/me").get_data(as_text=True)
    assert "账号管理" in county_page and "导入花名册" in county_page and "服务电话" in county_page


def test_me_requires_login(client):
    assert client.get("/me").status_code == 302


def test_audit_events_cannot_be_changed_or_deleted(session, world):
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    session.add(AuditEvent(action="test.event"))
    session.commit()
    with pytest.raises(DBAPIError):
        session.exec(text("UPDATE auditevent SET action = 'changed'"))
        session.commit()
    session.rollback()
    with pytest.raises(DBAPIError):
        session.exec(text("DELETE FROM auditevent"))
        session.commit()


def test_me_offers_card_printing_to_township_officers_only(as_user, client, world):
    assert "打印户卡" not in as_user("assistant_a").get("/me").get_data(as_text=True)
    client.post("/logout")
    login(client, world.township)
    assert "打印户卡" in client.get("/me").get_data(as_text=True)


def test_officers_without_the_scan_tab_find_the_scanner_on_the_home_page(as_user, client, world):
    assert 'href="/scan/"' in as_user("assistant_a").get("/").get_data(as_text=True)  # the tab
    client.post("/logout")
    login(client, world.township)
    page = client.get("/").get_data(as_text=True)
    assert "扫户卡，打开这户" in page and 'href="/relief/"' in page
