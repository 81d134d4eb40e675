"""Account management: who may see, create, deactivate and reset whom."""

import json

import pytest
from sqlmodel import select

from models import AuditEvent, User
from tests.conftest import OTHER_COUNTY, VILLAGE_A, add_user, login

NEW_ASSISTANT = {
    "display_name": "周新",
    "username": "zhou-xin",
    "phone": "13811112222",
    "role": "assistant",
    "area_code": VILLAGE_A,
    "password": "start-here-2024",
}


def fresh_user(session, username: str) -> User | None:
    """Read an account as the database has it now."""
    session.expire_all()
    return session.exec(select(User).where(User.username == username)).first()


def audit_actions(session, user_id: int) -> list[str]:
    """Return the audit actions recorded about one account, oldest first."""
    session.expire_all()
    query = select(AuditEvent).where(AuditEvent.object_type == "user", AuditEvent.object_id == str(user_id))
    return [event.action for event in session.exec(query.order_by(AuditEvent.id))]


def sign_in_with_form(app, username: str, password: str):
    """Log in through the real /login form on a new client and follow the redirects."""
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": password}, follow_redirects=True)
    return client, response


# ---- list -----------------------------------------------------------------------------------


def test_county_officer_sees_the_accounts_of_the_county(as_user):
    body = as_user("county").get("/users/").get_data(as_text=True)
    assert "李协理" in body and "assistant-a" in body and "村协理员" in body and "碗窑村" in body
    assert "赵经办" in body and "博尚镇" in body
    assert "凤庆" not in body  # another county
    assert "孙处长" not in body  # the city is above the county


def test_city_officer_does_not_see_the_admin_above_them(as_user):
    body = as_user("city").get("/users/").get_data(as_text=True)
    assert "凤庆" in body and "钱科长" in body
    assert "管理员" not in body


def test_deactivated_account_is_tagged_in_the_list(as_user, world, session):
    world.assistant_b.active = False
    session.add(world.assistant_b)
    session.commit()
    body = as_user("county").get("/users/?q=王协理").get_data(as_text=True)
    assert "王协理" in body and "已停用" in body


def test_user_list_searches_by_name_and_by_username(as_user):
    client = as_user("county")
    by_name = client.get("/users/?q=赵经").get_data(as_text=True)
    assert "赵经办" in by_name and "李协理" not in by_name
    by_username = client.get("/users/?q=assistant-b").get_data(as_text=True)
    assert "王协理" in by_username and "李协理" not in by_username
    nothing = client.get("/users/?q=不存在的人").get_data(as_text=True)
    assert "没有找到符合条件的账号" in nothing


def test_user_list_filters_by_role(as_user):
    body = as_user("county").get("/users/?role=township").get_data(as_text=True)
    assert "赵经办" in body and "李协理" not in body and "钱科长" not in body


def test_user_list_loads_more_rows_through_htmx(as_user, session, password_hash):
    for number in range(25):
        add_user(
            session, password_hash, f"helper-{number:02d}", "assistant", VILLAGE_A, display_name=f"帮手{number:02d}"
        )
    session.commit()
    client = as_user("county")
    first = client.get("/users/?role=assistant")
    assert "HX-Request" in first.headers["Vary"]
    assert "加载更多" in first.get_data(as_text=True) and "<html" in first.get_data(as_text=True)
    second = client.get("/users/?role=assistant&page=2", headers={"HX-Request": "true"})
    rows = second.get_data(as_text=True)
    assert "HX-Request" in second.headers["Vary"]
    assert "<html" not in rows and "帮手24" in rows and "加载更多" not in rows


# ---- login, roles and scope on every page ---------------------------------------------------


def user_pages(world) -> list[tuple[str, str]]:
    target = world.assistant_a.id
    return [
        ("get", "/users/"),
        ("get", "/users/new"),
        ("post", "/users/new"),
        ("get", f"/users/{target}"),
        ("post", f"/users/{target}/active"),
        ("post", f"/users/{target}/reset"),
    ]


def test_user_pages_require_login(client, world):
    for method, url in user_pages(world):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"], url


@pytest.mark.parametrize("role", ["assistant_a", "township"])
def test_assistants_and_township_officers_get_403_on_every_user_page(as_user, world, role, session):
    client = as_user(role)
    for method, url in user_pages(world):
        response = getattr(client, method)(url, data={"active": "0"})
        assert response.status_code == 403, url
        assert "您没有权限做这件事" in response.get_data(as_text=True)
    assert fresh_user(session, "assistant-a").active


def test_account_in_another_county_gets_404(as_user, world, session):
    client = as_user("county")
    other = world.other_county.id
    assert client.get(f"/users/{other}").status_code == 404
    assert client.post(f"/users/{other}/active", data={"active": "0"}).status_code == 404
    assert client.post(f"/users/{other}/reset").status_code == 404
    assert fresh_user(session, "fengqing").active
    assert audit_actions(session, other) == []


def test_higher_ranked_account_gets_404(as_user, world):
    assert as_user("county").get(f"/users/{world.city.id}").status_code == 404
    assert as_user("city").get(f"/users/{world.admin.id}").status_code == 404


def test_missing_account_gets_404(as_user):
    assert as_user("admin").get("/users/999999").status_code == 404


# ---- create ---------------------------------------------------------------------------------


def test_new_user_form_offers_only_roles_and_areas_the_manager_may_give(as_user):
    body = as_user("county").get("/users/new").get_data(as_text=True)
    assert "村协理员" in body and "乡镇经办员" in body and "县（区）民政局" in body
    assert "市民政局" not in body and "系统管理员" not in body
    assert "碗窑村" in body and "那招村" in body  # villages of 临翔区, for the default role
    assert "安石村" not in body  # a village of 凤庆县
    assert 'name="csrf_token"' in body


def test_choosing_a_role_swaps_in_the_areas_of_its_level(as_user):
    response = as_user("county").get("/users/new?role=township", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert 'id="area-field"' in body and "<html" not in body
    assert "博尚镇" in body and "凤翔街道" in body
    assert "碗窑村" not in body and "凤山镇" not in body


def test_county_officer_creates_an_assistant_with_a_typed_password(as_user, session):
    response = as_user("county").post("/users/new", data=NEW_ASSISTANT)
    created = fresh_user(session, "zhou-xin")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/users/{created.id}")
    assert created.display_name == "周新" and created.role == "assistant" and created.area_code == VILLAGE_A
    assert created.must_change_password and created.active and created.phone == "13811112222"
    assert "start-here-2024" not in created.password_hash
    assert audit_actions(session, created.id) == ["user.created"]


def test_created_account_must_change_its_password_at_first_login(app, as_user):
    as_user("county").post("/users/new", data=NEW_ASSISTANT)
    _client, response = sign_in_with_form(app, "zhou-xin", "start-here-2024")
    assert response.request.path == "/password"
    assert "这是初始密码或重置后的临时密码" in response.get_data(as_text=True)


def test_blank_password_is_generated_and_shown_once(app, as_user, session):
    response = as_user("county").post("/users/new", data={**NEW_ASSISTANT, "password": ""})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "账号已创建" in body and "请打电话" in body
    created = fresh_user(session, "zhou-xin")
    temporary = body.split('class="idno temp-password">')[1].split("<")[0]
    assert len(temporary) == 10
    assert temporary not in response.headers.get("Set-Cookie", "")
    _client, login_page = sign_in_with_form(app, "zhou-xin", temporary)
    assert login_page.request.path == "/password"
    assert created.must_change_password


def test_county_officer_cannot_create_a_city_officer(as_user, session):
    data = {**NEW_ASSISTANT, "role": "city", "area_code": "530900000000"}
    response = as_user("county").post("/users/new", data=data)
    assert response.status_code == 400
    assert "您不能创建这个角色的账号" in response.get_data(as_text=True)
    assert fresh_user(session, "zhou-xin") is None


def test_county_officer_cannot_create_a_user_in_fengqing(as_user, session):
    data = {**NEW_ASSISTANT, "role": "county", "area_code": OTHER_COUNTY}
    response = as_user("county").post("/users/new", data=data)
    assert response.status_code == 400
    assert "所选地区不在您的辖区内" in response.get_data(as_text=True)
    assert fresh_user(session, "zhou-xin") is None


def test_role_must_sit_at_its_own_level(as_user, session):
    data = {**NEW_ASSISTANT, "role": "township", "area_code": VILLAGE_A}
    response = as_user("county").post("/users/new", data=data)
    assert response.status_code == 400
    assert "乡镇经办员应设在乡镇（街道）一级" in response.get_data(as_text=True)
    assert fresh_user(session, "zhou-xin") is None


def test_every_mistake_is_shown_next_to_its_field_and_nothing_is_saved(as_user, session):
    data = {**NEW_ASSISTANT, "display_name": " ", "username": "周 新", "password": "short"}
    response = as_user("county").post("/users/new", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "请改正下面标红的内容" in body
    assert '<span class="field-error" role="alert">请填写姓名</span>' in body
    assert '<span class="field-error" role="alert">用户名只能用字母、数字、“-”和“_”</span>' in body
    assert '<span class="field-error" role="alert">初始密码至少 8 位</span>' in body
    assert 'value="13811112222"' in body  # what was typed stays
    assert session.exec(select(User).where(User.display_name == "周新")).first() is None


def test_username_already_taken_is_refused(as_user, session):
    response = as_user("county").post("/users/new", data={**NEW_ASSISTANT, "username": "assistant-b"})
    assert response.status_code == 400
    assert "这个用户名已被使用" in response.get_data(as_text=True)
    assert fresh_user(session, "assistant-b").display_name == "王协理"


def test_admin_creates_a_city_officer(as_user, session):
    data = {**NEW_ASSISTANT, "username": "city-2", "role": "city", "area_code": "530900000000"}
    assert as_user("admin").post("/users/new", data=data).status_code == 302
    assert fresh_user(session, "city-2").role == "city"


def test_post_without_csrf_token_is_refused_and_nothing_is_created(make_app, world, session):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    login(client, world.county)
    response = client.post("/users/new", data=NEW_ASSISTANT)
    assert response.status_code == 400
    assert "页面已过期或来源不明" in response.get_data(as_text=True)
    assert fresh_user(session, "zhou-xin") is None


# ---- detail, deactivate, reset --------------------------------------------------------------


def test_user_detail_shows_the_account_and_its_buttons(as_user, world):
    body = as_user("county").get(f"/users/{world.assistant_a.id}").get_data(as_text=True)
    assert "李协理" in body and "assistant-a" in body and "13800000001" in body
    assert "碗窑村" in body and "博尚镇" in body and "村协理员" in body
    assert "重置密码" in body and "停用" in body and "data-confirm=" in body
    assert 'name="active" value="0"' in body


def test_own_detail_has_no_deactivate_or_reset_button(as_user, world):
    body = as_user("county").get(f"/users/{world.county.id}").get_data(as_text=True)
    assert "这是您自己的账号" in body
    assert 'name="active"' not in body and "重置密码" not in body


def test_deactivate_then_activate_an_account(as_user, world, session):
    client = as_user("county")
    target = world.assistant_a.id
    response = client.post(f"/users/{target}/active", data={"active": "0"}, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "已停用 李协理 的账号" in body and 'name="active" value="1"' in body
    assert not fresh_user(session, "assistant-a").active
    response = client.post(f"/users/{target}/active", data={"active": "1"}, follow_redirects=True)
    assert "已启用 李协理 的账号" in response.get_data(as_text=True)
    assert fresh_user(session, "assistant-a").active
    assert audit_actions(session, target) == ["user.deactivated", "user.activated"]


def test_manager_cannot_deactivate_themselves(as_user, world, session):
    response = as_user("county").post(f"/users/{world.county.id}/active", data={"active": "0"})
    assert response.status_code == 400
    assert "不能停用自己的账号" in response.get_data(as_text=True)
    assert fresh_user(session, "county").active
    assert audit_actions(session, world.county.id) == []


def test_active_must_be_zero_or_one(as_user, world, session):
    response = as_user("county").post(f"/users/{world.assistant_a.id}/active", data={"active": "no"})
    assert response.status_code == 400
    assert fresh_user(session, "assistant-a").active


def test_reset_password_shows_a_temporary_password_that_works_at_login(app, as_user, world, session):
    response = as_user("county").post(f"/users/{world.assistant_a.id}/reset")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "密码已重置" in body and "请打电话" in body
    temporary = body.split('class="idno temp-password">')[1].split("<")[0]
    assert len(temporary) == 10
    assert temporary not in response.headers.get("Set-Cookie", "")
    assert response.headers["Cache-Control"] == "private, no-store"
    user = fresh_user(session, "assistant-a")
    assert user.must_change_password and temporary not in user.password_hash
    assert audit_actions(session, user.id) == ["user.password_reset"]
    details = session.exec(select(AuditEvent.detail).where(AuditEvent.detail.is_not(None))).all()
    assert all(temporary not in detail for detail in details)
    _client, old = sign_in_with_form(app, "assistant-a", "correct-horse-42")
    assert "用户名或密码不对" in old.get_data(as_text=True)
    _client, new = sign_in_with_form(app, "assistant-a", temporary)
    assert new.request.path == "/password"


def test_manager_cannot_reset_their_own_password_here(as_user, world, session):
    response = as_user("county").post(f"/users/{world.county.id}/reset")
    assert response.status_code == 400
    assert "修改密码" in response.get_data(as_text=True)
    assert not fresh_user(session, "county").must_change_password


def test_deactivated_user_is_refused_at_login(app, as_user, world, session):
    as_user("county").post(f"/users/{world.assistant_a.id}/active", data={"active": "0"})
    _client, response = sign_in_with_form(app, "assistant-a", "correct-horse-42")
    assert response.request.path == "/login"
    assert "这个账号已停用，请联系县（区）民政局" in response.get_data(as_text=True)
    session.expire_all()
    failure = session.exec(select(AuditEvent).where(AuditEvent.action == "login.failure")).one()
    assert json.loads(failure.detail)["reason"] == "inactive"


def test_deactivated_users_open_session_stops_working(app, world, session):
    assistant = app.test_client()
    login(assistant, world.assistant_a)
    assert assistant.get("/households/").status_code == 200
    officer = app.test_client()
    login(officer, world.county)
    officer.post(f"/users/{world.assistant_a.id}/active", data={"active": "0"})
    response = assistant.get("/households/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_township_officer_is_not_offered_account_management(as_user):
    body = as_user("township").get("/me").get_data(as_text=True)
    assert "账号管理" not in body
    assert "账号管理" in as_user("county").get("/me").get_data(as_text=True)


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "请填写姓名"), ("张\u202e三", "改变文字方向的隐藏字符"), ("张\x00三", "空字符"), ("长" * 65, "最多 64 个字")],
)
def test_a_staff_name_that_cannot_be_stored_is_refused_and_no_account_is_made(as_user, session, name, message):
    form = {"username": "new-one", "display_name": name, "role": "assistant", "area_code": "530902100201"}
    response = as_user("county").post("/users/new", data={**form, "password": "a-long-pass-42"})
    assert message in response.get_data(as_text=True) and response.status_code == 400
    assert session.exec(select(User).where(User.username == "new-one")).first() is None
