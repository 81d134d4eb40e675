"""Township and county hotlines: who sees which, and editing one in place."""

import json

from sqlmodel import select

from models import Area, AuditEvent
from tests.conftest import COUNTY, OTHER_COUNTY, TOWNSHIP, VILLAGE_A

HTMX = {"HX-Request": "true"}
FENGSHAN = "530921100000"  # 凤山镇, 凤庆县


def hotline(session, code: str) -> str | None:
    """Read an area's hotline as the database has it now."""
    session.expire_all()
    return session.get(Area, code).hotline


def hotline_events(session) -> list[dict]:
    """Return the details of every hotline change recorded, oldest first."""
    session.expire_all()
    query = select(AuditEvent).where(AuditEvent.action == "area.hotline_changed").order_by(AuditEvent.id)
    return [json.loads(event.detail) for event in session.exec(query)]


def test_county_officer_sees_the_county_and_its_townships(as_user, session):
    area = session.get(Area, TOWNSHIP)
    area.hotline = "0883-2121234"
    session.add(area)
    session.commit()
    body = as_user("county").get("/areas/hotlines").get_data(as_text=True)
    assert "临翔区" in body and "博尚镇" in body and "凤翔街道" in body
    assert 'value="0883-2121234"' in body
    assert f'hx-post="/areas/{TOWNSHIP}/hotline"' in body and f'hx-target="#hotline-{TOWNSHIP}"' in body
    assert "凤庆县" not in body and "凤山镇" not in body
    assert "碗窑村" not in body  # villages have no hotline of their own


def test_township_officer_sees_only_their_township(as_user):
    body = as_user("township").get("/areas/hotlines").get_data(as_text=True)
    assert "博尚镇" in body
    assert "临翔区" not in body and "凤翔街道" not in body


def test_city_officer_sees_every_county(as_user):
    body = as_user("city").get("/areas/hotlines").get_data(as_text=True)
    assert "临翔区" in body and "凤庆县" in body and "凤山镇" in body


def test_hotline_pages_require_login(client, world):
    response = client.get("/areas/hotlines")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.post(f"/areas/{TOWNSHIP}/hotline", data={"hotline": "0883-2121234"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_assistant_gets_403_on_hotline_pages(as_user, session):
    client = as_user("assistant_a")
    assert client.get("/areas/hotlines").status_code == 403
    response = client.post(f"/areas/{TOWNSHIP}/hotline", data={"hotline": "0883-2121234"})
    assert response.status_code == 403 and "您没有权限做这件事" in response.get_data(as_text=True)
    assert hotline(session, TOWNSHIP) is None


def test_hotline_outside_scope_gets_404(as_user, session):
    county = as_user("county")
    assert county.post(f"/areas/{FENGSHAN}/hotline", data={"hotline": "0883-4121234"}).status_code == 404
    assert county.post(f"/areas/{OTHER_COUNTY}/hotline", data={"hotline": "0883-4121234"}).status_code == 404
    township = as_user("township")
    assert township.post(f"/areas/{COUNTY}/hotline", data={"hotline": "0883-4121234"}).status_code == 404
    assert hotline(session, FENGSHAN) is None and hotline(session, COUNTY) is None
    assert hotline_events(session) == []


def test_villages_and_unknown_codes_have_no_hotline_to_edit(as_user):
    client = as_user("county")
    assert client.post(f"/areas/{VILLAGE_A}/hotline", data={"hotline": "0883-2121234"}).status_code == 404
    assert client.post("/areas/999999999999/hotline", data={"hotline": "0883-2121234"}).status_code == 404


def test_hotline_edit_through_htmx_returns_the_row(as_user, session):
    response = as_user("township").post(f"/areas/{TOWNSHIP}/hotline", data={"hotline": " 0883-2121234 "}, headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert "<html" not in body
    assert f'id="hotline-{TOWNSHIP}"' in body and 'value="0883-2121234"' in body and "已保存" in body
    assert hotline(session, TOWNSHIP) == "0883-2121234"
    assert hotline_events(session) == [{"code": TOWNSHIP, "old": None, "new": "0883-2121234"}]


def test_hotline_edit_without_htmx_goes_back_to_the_list(as_user, session):
    client = as_user("county")
    response = client.post(f"/areas/{COUNTY}/hotline", data={"hotline": "0883-2125555"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/areas/hotlines")
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已保存临翔区的服务电话" in body and 'value="0883-2125555"' in body
    assert hotline(session, COUNTY) == "0883-2125555"


def test_changing_and_clearing_a_hotline_audits_old_and_new(as_user, session):
    client = as_user("county")
    client.post(f"/areas/{TOWNSHIP}/hotline", data={"hotline": "0883-2121234"}, headers=HTMX)
    client.post(f"/areas/{TOWNSHIP}/hotline", data={"hotline": "0883-2129999"}, headers=HTMX)
    response = client.post(f"/areas/{TOWNSHIP}/hotline", data={"hotline": ""}, headers=HTMX)
    assert "已清空" in response.get_data(as_text=True)
    assert hotline(session, TOWNSHIP) is None
    assert [(e["old"], e["new"]) for e in hotline_events(session)] == [
        (None, "0883-2121234"),
        ("0883-2121234", "0883-2129999"),
        ("0883-2129999", None),
    ]


def test_bad_number_through_htmx_returns_the_row_with_the_message(as_user, session):
    response = as_user("township").post(f"/areas/{TOWNSHIP}/hotline", data={"hotline": "打电话给我"}, headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "<html" not in body
    assert f'id="hotline-{TOWNSHIP}"' in body and "data-swap-errors" in body
    assert "电话号码只能包含数字、空格和“-”" in body and 'value="打电话给我"' in body
    assert hotline(session, TOWNSHIP) is None
    assert hotline_events(session) == []


def test_bad_number_without_htmx_shows_the_list_with_the_message(as_user, session):
    response = as_user("county").post(f"/areas/{TOWNSHIP}/hotline", data={"hotline": "12"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "<html" in body
    assert "电话号码只能包含数字、空格和“-”" in body and 'value="12"' in body
    assert "临翔区" in body  # the other rows are still there
    assert hotline(session, TOWNSHIP) is None


def test_hotlines_link_is_on_the_me_page_for_officers_only(as_user):
    assert "服务电话" in as_user("township").get("/me").get_data(as_text=True)
    assert "服务电话" not in as_user("assistant_a").get("/me").get_data(as_text=True)
