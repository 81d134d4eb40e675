"""Sessions end: on logout (copies of the cookie too), a password change, deactivation, a reset, idling and age."""

import time
from datetime import timedelta

import pytest
from flask_login.utils import encode_cookie
from sqlalchemy import event

import config
from services.accounts import sessions
from tests.conftest import PASSWORD, page_text

NEW_PASSWORD = "new-secret-77"


def signed_in_client(app, username: str, address: str = "127.0.0.1"):
    """Return a new client signed in through the real login form."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def me_status(client) -> int:
    return client.get("/api/v1/me").status_code


def copy_of(app, client):
    """Return a second client that replays the first one's session cookie, as a thief with a copy would."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_a_copied_cookie_works_until_logout_and_never_after(app, world):
    client = signed_in_client(app, "assistant-a")
    thief = copy_of(app, client)
    assert me_status(thief) == 200  # a copy is as good as the original while the session lasts
    client.post("/logout")
    assert me_status(thief) == 401
    response = thief.get("/households/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_logout_clears_what_the_user_left_in_the_session(app, world):
    client = signed_in_client(app, "assistant-a")
    with client.session_transaction() as cookie:
        cookie["last_scan"] = [world.household_a.id, 1]
    client.post("/logout")
    with client.session_transaction() as cookie:
        assert "last_scan" not in cookie and "_user_id" not in cookie


def test_password_change_on_one_phone_signs_out_the_other_but_not_itself(app, world):
    first = signed_in_client(app, "assistant-a")
    second = signed_in_client(app, "assistant-a")
    assert me_status(second) == 200
    form = {"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert first.post("/password", data=form).status_code == 302
    assert me_status(first) == 200
    assert "李协理" in page_text(first.get("/"))
    assert me_status(second) == 401


def test_a_refused_password_change_ends_no_session(app, world):
    first = signed_in_client(app, "assistant-a")
    second = signed_in_client(app, "assistant-a")
    form = {"current": "not-it", "new": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert "当前密码不对" in page_text(first.post("/password", data=form), 400)
    assert me_status(first) == 200 and me_status(second) == 200


def test_deactivation_ends_the_users_sessions_for_good(app, world, as_user):
    victim = signed_in_client(app, "assistant-a")
    thief = copy_of(app, victim)
    county = as_user("county")
    county.post(f"/users/{world.assistant_a.id}/active", data={"active": "0"})
    assert me_status(victim) == 401
    county.post(f"/users/{world.assistant_a.id}/active", data={"active": "1"})
    assert me_status(thief) == 401  # activated again, a session from before does not come back
    assert me_status(signed_in_client(app, "assistant-a")) == 200


def test_admin_password_reset_ends_the_users_sessions(app, world, as_user):
    victim = signed_in_client(app, "assistant-a")
    bystander = signed_in_client(app, "assistant-b")
    page_text(as_user("county").post(f"/users/{world.assistant_a.id}/reset"))
    assert me_status(victim) == 401
    assert me_status(bystander) == 200  # only that account's sessions end


def test_a_session_idle_for_12_hours_is_refused(app, world):
    client = signed_in_client(app, "assistant-a")
    with client.session_transaction() as cookie:
        cookie[sessions.SEEN_AT] = int(time.time()) - 12 * 3600 - 1
    assert me_status(client) == 401
    assert client.get("/").headers["Location"].startswith("/login")


def test_activity_keeps_a_session_alive_past_12_hours_since_login(app, world):
    client = signed_in_client(app, "assistant-a")
    now = int(time.time())
    with client.session_transaction() as cookie:
        cookie[sessions.SIGNED_IN_AT] = now - 3 * 24 * 3600
        cookie[sessions.SEEN_AT] = now - 11 * 3600  # used 11 hours ago: still counts, and is noted again
    assert me_status(client) == 200
    with client.session_transaction() as cookie:
        assert cookie[sessions.SEEN_AT] >= now
        assert cookie[sessions.SIGNED_IN_AT] == now - 3 * 24 * 3600  # the login time never moves


def test_a_session_signed_in_7_days_ago_is_refused_even_when_in_use(app, world):
    client = signed_in_client(app, "assistant-a")
    with client.session_transaction() as cookie:
        cookie[sessions.SIGNED_IN_AT] = int(time.time()) - 7 * 24 * 3600 - 1
        cookie[sessions.SEEN_AT] = int(time.time())
    assert me_status(client) == 401
    with client.session_transaction() as cookie:
        assert "_user_id" not in cookie  # the stale login is dropped, not just ignored


def test_a_session_from_before_session_versions_is_refused(app, world):
    """Cookies made by the old login (a user id and nothing else) stop working: everyone signs in once."""
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = str(world.assistant_a.id)
        cookie["_fresh"] = True
    assert me_status(client) == 401


def test_a_remember_me_cookie_signs_nobody_in(app, world):
    """The login never sets one; a valid one, made with the app's key, still restores no session."""
    with app.test_request_context():
        remember = encode_cookie(str(world.assistant_a.id))
    client = app.test_client()
    client.set_cookie(app.config.get("REMEMBER_COOKIE_NAME", "remember_token"), remember)
    assert me_status(client) == 401
    assert app.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=7)


def test_login_sets_no_remember_cookie_and_a_12_hour_session_cookie(make_app, world):
    client = make_app().test_client()
    before = time.time()
    response = client.post("/login", data={"username": "assistant-a", "password": PASSWORD})
    cookies = response.headers.getlist("Set-Cookie")
    assert len(cookies) == 1 and cookies[0].startswith("session=")
    expires = client.get_cookie("session").expires.timestamp()
    assert before + 12 * 3600 - 5 <= expires <= time.time() + 12 * 3600 + 5


def test_static_files_and_quick_page_views_send_no_cookie(app, world):
    client = signed_in_client(app, "assistant-a")
    assert "Set-Cookie" not in client.get("/static/vendor/weui.min.css").headers
    client.get("/api/v1/me")  # the first call keeps the CSRF token it hands to the outbox in the session
    assert "Set-Cookie" not in client.get("/api/v1/me").headers  # activity was noted at login, moments ago


def test_the_signed_in_user_is_loaded_in_one_query(app, world):
    client = signed_in_client(app, "assistant-a")
    statements = []
    engine = app.extensions["doudi_engine"]

    def note(_connection, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        assert me_status(client) == 200
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert len([s for s in statements if 'FROM "user"' in s or "FROM user" in s]) == 1


def test_session_lifetimes_come_from_the_environment(monkeypatch, tmp_path):
    settings = config.from_environment(str(tmp_path))
    assert settings["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=12)
    assert settings["SESSION_MAX_LIFETIME"] == timedelta(days=7)
    monkeypatch.setenv("SESSION_IDLE_HOURS", "4")
    monkeypatch.setenv("SESSION_MAX_DAYS", "2")
    settings = config.from_environment(str(tmp_path))
    assert settings["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=4)
    assert settings["SESSION_MAX_LIFETIME"] == settings["REMEMBER_COOKIE_DURATION"] == timedelta(days=2)


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("SESSION_IDLE_HOURS", "twelve", "whole number"),
        ("SESSION_IDLE_HOURS", "0", "at least 1"),
        ("SESSION_MAX_DAYS", "-3", "at least 1"),
        ("SESSION_IDLE_HOURS", "200", "not be longer"),
    ],
)
def test_malformed_session_lifetimes_are_refused(monkeypatch, tmp_path, name, value, complaint):
    monkeypatch.setenv(name, value)
    with pytest.raises(config.ConfigError, match=complaint):
        config.from_environment(str(tmp_path))


def test_a_shorter_idle_lifetime_from_the_settings_applies(make_app, world):
    app = make_app(PERMANENT_SESSION_LIFETIME=timedelta(hours=1))
    client = signed_in_client(app, "assistant-a")
    with client.session_transaction() as cookie:
        cookie[sessions.SEEN_AT] = int(time.time()) - 3601
    assert me_status(client) == 401
