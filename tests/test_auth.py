from sqlmodel import select

from models import AuditEvent
from tests.conftest import PASSWORD, page_text


def post_login(client, username, password=PASSWORD, **query):
    return client.post("/login", data={"username": username, "password": password}, query_string=query)


def audit_actions(session, action):
    return session.exec(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_login_page_is_in_chinese(client):
    body = client.get("/login").get_data(as_text=True)
    assert "登录" in body and 'name="password"' in body


def test_correct_password_signs_in_and_is_audited(client, world, session):
    response = post_login(client, "assistant-a")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "李协理" in client.get("/").get_data(as_text=True)
    events = audit_actions(session, "login.success")
    assert [(e.user_id, e.ip) for e in events] == [(world.assistant_a.id, "127.0.0.1")]


def test_wrong_password_is_refused_in_plain_words_and_audited(client, world, session):
    response = post_login(client, "assistant-a", "wrong-password")
    assert response.status_code == 401
    assert "用户名或密码不对" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    failures = audit_actions(session, "login.failure")
    assert len(failures) == 1 and failures[0].username == "assistant-a"
    assert "wrong-password" not in (failures[0].detail or "")


def test_unknown_user_gets_the_same_message(client, world):
    response = post_login(client, "nobody")
    assert response.status_code == 401 and "用户名或密码不对" in response.get_data(as_text=True)


def test_inactive_user_cannot_sign_in(client, world, session):
    world.assistant_a.active = False
    session.add(world.assistant_a)
    session.commit()
    response = post_login(client, "assistant-a")
    assert response.status_code == 401
    assert "已停用" in response.get_data(as_text=True)


def test_pages_require_login(client, world):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_login_returns_to_the_page_asked_for_but_never_off_site(client, world):
    assert post_login(client, "assistant-a", next="/households/").headers["Location"] == "/households/"
    client.post("/logout")
    assert post_login(client, "assistant-a", next="https://evil.example/").headers["Location"] == "/"
    client.post("/logout")
    assert post_login(client, "assistant-a", next="//evil.example/").headers["Location"] == "/"


def test_logout_ends_the_session(client, world):
    post_login(client, "assistant-a")
    response = client.post("/logout", follow_redirects=True)
    assert "您已退出登录" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_repeated_failures_on_one_account_are_slowed_down(client, world):
    for _ in range(5):
        assert post_login(client, "assistant-a", "wrong").status_code == 401
    response = post_login(client, "assistant-a")  # even the right password waits now
    assert response.status_code == 429
    assert "登录尝试次数过多" in response.get_data(as_text=True)
    assert post_login(client, "assistant-b").status_code == 302  # other accounts are unaffected


def attempt_from(app, address, username, password=PASSWORD):
    """Post the login form from one client address (a phone on another network)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client.post("/login", data={"username": username, "password": password})


def test_failures_from_one_address_do_not_lock_the_owner_out_from_another(app, world, session):
    statuses = [attempt_from(app, "10.0.0.1", "assistant-a", "wrong").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    assert attempt_from(app, "10.0.0.2", "assistant-a").status_code == 302  # the owner, on another network
    blocked = attempt_from(app, "10.0.0.1", "assistant-a")  # even the right password waits on the first
    assert "登录尝试次数过多，为保护账号安全，请 1 分钟后再试" in page_text(blocked, 429)


def test_blocked_attempts_are_audited_with_username_and_address_but_no_password(app, world, session):
    for _ in range(6):
        attempt_from(app, "10.0.0.1", "assistant-a", "guess-123")
    events = audit_actions(session, "login.blocked")
    assert [(e.username, e.ip, e.user_id) for e in events] == [("assistant-a", "10.0.0.1", None)]
    assert "account" in events[0].detail and "guess-123" not in events[0].detail
    assert len(audit_actions(session, "login.failure")) == 5  # the blocked attempt never reached the password


def test_successful_logins_do_not_count_against_the_account(client, world):
    for _ in range(4):
        assert post_login(client, "assistant-a", "wrong").status_code == 401
    for _ in range(3):
        assert post_login(client, "assistant-a").status_code == 302
        client.post("/logout")
    assert post_login(client, "assistant-a", "wrong").status_code == 401  # the fifth failure, not the eighth try
    assert post_login(client, "assistant-a", "wrong").status_code == 429


def test_many_attempts_from_one_address_are_slowed_down(client, world):
    statuses = [post_login(client, f"someone-{i}", "wrong").status_code for i in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429


def test_new_account_must_change_password_before_anything_else(client, world, session):
    world.township.must_change_password = True
    session.add(world.township)
    session.commit()
    post_login(client, "township")
    response = client.get("/households/")
    assert response.status_code == 302 and response.headers["Location"] == "/password"
    assert "请先设置您自己的新密码" in client.get("/password").get_data(as_text=True)
    response = client.post("/password", data={"current": PASSWORD, "new": "new-secret-77", "confirm": "new-secret-77"})
    assert response.status_code == 302
    assert client.get("/households/").status_code == 200
    client.post("/logout")
    assert post_login(client, "township", "new-secret-77").status_code == 302


def test_password_change_refuses_a_short_or_mismatched_password(as_user):
    client = as_user("township")
    body = client.post("/password", data={"current": PASSWORD, "new": "short", "confirm": "short"})
    assert "至少 8 位" in body.get_data(as_text=True)
    body = client.post("/password", data={"current": PASSWORD, "new": "long-enough-1", "confirm": "long-enough-2"})
    assert "不一致" in body.get_data(as_text=True)
    body = client.post("/password", data={"current": "not-it", "new": "long-enough-1", "confirm": "long-enough-1"})
    assert "当前密码不对" in body.get_data(as_text=True)


def test_login_form_without_csrf_token_is_refused(make_app, world):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    response = post_login(client, "assistant-a")
    assert response.status_code == 400
    assert "请刷新页面" in response.get_data(as_text=True)


def test_login_with_csrf_token_from_the_page_works(make_app, world):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/login", data={"username": "assistant-a", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
