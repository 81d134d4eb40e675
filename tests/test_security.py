from pathlib import Path

import pytest

import config
from app import create_app
from tests.conftest import PASSWORD, page_text

WEUI_CSS = Path(__file__).resolve().parent.parent / "static/vendor/weui.min.css"


def test_every_response_carries_the_security_headers(client, world):
    for path in ("/login", "/healthz", "/households/"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_pages_are_never_cached_by_shared_caches(as_user):
    assert as_user("assistant_a").get("/households/").headers["Cache-Control"] == "private, no-store"


def test_pages_have_no_inline_script(as_user, world):
    client = as_user("assistant_a")
    headings = {
        "/": "兜底通",
        "/households/": "住户",
        f"/households/{world.household_a.id}": "碗窑村 0001号",
        "/me": "我的",
    }
    for path, heading in headings.items():
        body = page_text(client.get(path))
        assert f'<h1 class="topbar__title">{heading}</h1>' in body and '<script src="' in body, path
        assert "<script>" not in body and " onclick=" not in body and ' style="' not in body


def test_htmx_is_told_not_to_inject_its_indicator_style(client):
    body = client.get("/login").get_data(as_text=True)
    assert '"includeIndicatorStyles": false' in body
    assert '<meta name="csrf-token"' in body


def test_session_cookie_is_httponly_and_lax(client, world):
    response = client.post("/login", data={"username": "assistant-a", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookie_is_secure(monkeypatch, tmp_path):
    monkeypatch.setenv("DOUDI_ENV", "production")
    settings = config.from_environment(str(tmp_path))
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_production_refuses_the_development_secret_key(monkeypatch, database_url):
    monkeypatch.setenv("DOUDI_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(config.ConfigError, match="SECRET_KEY"):
        create_app({"DATABASE_URL": database_url})


def test_production_refuses_cards_without_a_public_https_address(monkeypatch, database_url):
    monkeypatch.setenv("DOUDI_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://10.0.0.5")
    with pytest.raises(config.ConfigError, match="PUBLIC_BASE_URL"):
        create_app({"DATABASE_URL": database_url})


def test_production_refuses_in_memory_rate_limits(monkeypatch, database_url):
    monkeypatch.setenv("DOUDI_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://doudi.example.cn")
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    with pytest.raises(config.ConfigError, match="RATELIMIT_STORAGE_URI"):
        create_app({"DATABASE_URL": database_url})


def test_malformed_number_setting_is_refused(monkeypatch):
    monkeypatch.setenv("PORT", "eighty")
    with pytest.raises(config.ConfigError, match="PORT"):
        config.env_int("PORT", 5000)


def test_static_files_are_cached_for_a_long_time_and_compressed(client):
    response = client.get("/static/vendor/weui.min.css", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert response.headers.get("Content-Encoding") == "br"
    assert len(response.data) < len(WEUI_CSS.read_bytes()) / 4  # CSS travels as about a sixth of its size


@pytest.mark.parametrize("accepted", ["gzip", "gzip, deflate, br, zstd"])
def test_static_files_are_compressed_for_old_webviews_and_new_chromium_alike(client, accepted):
    response = client.get("/static/vendor/weui.min.css", headers={"Accept-Encoding": accepted})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") in ("gzip", "br")
    assert len(response.data) < len(WEUI_CSS.read_bytes()) / 4


def test_pages_are_compressed(as_user):
    response = as_user("assistant_a").get("/households/", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("Content-Encoding") == "gzip"


def test_postgres_urls_use_psycopg3():
    assert config.normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert config.normalise_database_url("sqlite:///x") == "sqlite:///x"


def test_client_address_behind_a_trusted_proxy_is_audited(make_app, world, session):
    from sqlmodel import select

    from models import AuditEvent

    client = make_app(TRUSTED_PROXY_COUNT=1).test_client()
    client.post(
        "/login",
        data={"username": "assistant-a", "password": PASSWORD},
        headers={"X-Forwarded-For": "10.1.2.3"},
    )
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "login.success")).one()
    assert event.ip == "10.1.2.3"
