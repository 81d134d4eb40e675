"""Household cards in use: the scan landing page, reissue, delivery, and every household having a live card."""

import html
import json
import os
import re
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, make_url, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

import db
from models import Area, AuditEvent, Card, CardScan, Household, Person
from services.audit import Actor
from services.cards import cards
from services.cards.cards import live_card, new_token
from services.errors import Conflict
from tests.conftest import PASSWORD, POSTGRES_URL, TOWNSHIP, VILLAGE_A, login, page_text
from tests.test_card_print import decode, png

HOTLINE = "0883-2150123"
ID_NUMBER_A = "530902194505168663"
ROSTER = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "roster_linxiang_2020-02.xlsx"


def body(response) -> str:
    return response.get_data(as_text=True)


def token_of(session, household) -> str:
    return live_card(session, household.id).token


def scans(session) -> list[CardScan]:
    return list(session.exec(select(CardScan).order_by(CardScan.id)))


def audit(session, action) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.fixture
def card_world(session, world):
    """The world with a hotline for 博尚镇 and household A's address, phone and a second member filled in."""
    session.get(Area, TOWNSHIP).hotline = HOTLINE
    household = session.get(Household, world.household_a.id)
    household.address = "博尚镇碗窑村三组18号"
    session.add(household)
    session.add(Person(household_id=household.id, name="张小梅", relation="女儿", phone="13911112222"))
    session.commit()
    return world


def reissue(client, household):
    return client.post(f"/households/{household.id}/card/reissue")


# ---- the resident page -----------------------------------------------------------------------


def test_resident_sees_village_assistant_phone_and_hotline(client, card_world, session):
    response = client.get(f"/h/{token_of(session, card_world.household_a)}")
    page = body(response)
    assert response.status_code == 200 and "临沧市困难群众服务卡" in page
    assert "博尚镇碗窑村" in page and "李协理" in page
    assert 'href="tel:13800000001"' in page and f'href="tel:{HOTLINE}"' in page


def test_resident_page_leaks_nothing_about_the_household(client, card_world, session):
    page = body(client.get(f"/h/{token_of(session, card_world.household_a)}"))
    page = re.sub(r"\?v=[0-9a-f]+", "", page)  # asset cache busters are hex noise, not data
    for secret in ("张明华", "张*华", "张小梅", ID_NUMBER_A, "博尚镇碗窑村三组18号", "13900000001", "13911112222"):
        assert secret not in page
    runs = {ID_NUMBER_A[i : i + 4] for i in range(len(ID_NUMBER_A) - 3)}
    assert [run for run in runs if run in page] == []
    assert f"/households/{card_world.household_a.id}" not in page


def test_resident_staff_login_link_comes_back_to_the_card(client, card_world, session):
    token = token_of(session, card_world.household_a)
    page = body(client.get(f"/h/{token}"))
    link = html.unescape(re.search(r'<a href="([^"]+)">工作人员登录</a>', page).group(1))
    assert urlsplit(link).path == "/login" and parse_qs(urlsplit(link).query)["next"] == [f"/h/{token}"]
    response = client.post(link, data={"username": "assistant-a", "password": PASSWORD})
    assert response.headers["Location"] == f"/h/{token}"
    response = client.get(f"/h/{token}")
    assert response.headers["Location"] == f"/households/{card_world.household_a.id}?scan=1"


def test_resident_page_without_assistant_says_none_is_assigned(client, card_world, session):
    page = body(client.get(f"/h/{token_of(session, card_world.household_b)}"))
    assert "暂未指定" in page and "杨梅国" not in page and f'href="tel:{HOTLINE}"' in page


def test_resident_page_does_not_send_residents_to_an_assistant_who_has_left(client, card_world, session):
    assistant = session.get(type(card_world.assistant_a), card_world.assistant_a.id)
    assistant.active = False
    session.add(assistant)
    session.commit()
    page = body(client.get(f"/h/{token_of(session, card_world.household_a)}"))
    assert "暂未指定" in page and "李协理" not in page and "13800000001" not in page
    assert f'href="tel:{HOTLINE}"' in page


def test_anonymous_scans_are_not_recorded(client, card_world, session):
    client.get(f"/h/{token_of(session, card_world.household_a)}")
    assert scans(session) == []


# ---- staff scans -----------------------------------------------------------------------------


def test_staff_in_scope_lands_on_the_household_and_the_scan_is_recorded(as_user, card_world, session):
    client = as_user("assistant_a")
    household = card_world.household_a
    response = client.get(f"/h/{token_of(session, household)}")
    assert response.status_code == 302 and response.headers["Location"] == f"/households/{household.id}?scan=1"
    page = body(client.get(response.headers["Location"]))
    assert "已扫码：碗窑村 0001 号户" in page and "确认此卡已交到户" in page and "张明华" in page
    (scan,) = scans(session)
    assert (scan.user_id, scan.household_id, scan.in_scope, scan.card_revoked) == (
        card_world.assistant_a.id,
        household.id,
        True,
        False,
    )
    assert scan.card_id == live_card(session, household.id).id and scan.ip == "127.0.0.1"


def test_scan_of_a_delivered_card_does_not_ask_to_deliver_again(as_user, card_world, session):
    client = as_user("assistant_a")
    client.post(f"/households/{card_world.household_a.id}/card/deliver")
    page = body(client.get(f"/h/{token_of(session, card_world.household_a)}", follow_redirects=True))
    assert "已扫码" in page and "确认此卡已交到户" not in page


def test_scan_in_delivery_mode_makes_delivery_the_main_button(as_user, card_world, session):
    response = as_user("assistant_a").get(f"/h/{token_of(session, card_world.household_a)}?deliver=1")
    assert response.headers["Location"] == f"/households/{card_world.household_a.id}?scan=1&deliver=1"
    page = body(as_user("assistant_a").get(response.headers["Location"]))
    assert 'weui-btn_primary" type="submit">确认此卡已交到户' in page


@pytest.mark.parametrize("who", ["assistant_b", "other_county"])
def test_staff_out_of_scope_get_a_polite_page_with_nothing_of_the_household(as_user, card_world, session, who):
    response = as_user(who).get(f"/h/{token_of(session, card_world.household_a)}")
    page = body(response)
    assert response.status_code == 403 and "不在您的辖区" in page
    for secret in ("张明华", "张小梅", "0001", "碗窑村", "13900000001", "李协理", ID_NUMBER_A[-4:]):
        assert secret not in page
    assert f"/households/{card_world.household_a.id}" not in page
    (scan,) = scans(session)
    assert scan.user_id == getattr(card_world, who).id and scan.in_scope is False


def test_unknown_token_is_404(client, as_user, card_world):
    assert client.get(f"/h/{new_token()}").status_code == 404
    assert client.get("/h/" + "A" * 65).status_code == 404
    response = as_user("assistant_a").get(f"/h/{new_token()}")
    assert response.status_code == 404 and "没有找到" in body(response)


def test_the_31st_scan_in_a_minute_from_one_address_is_refused(client, card_world, session):
    url = f"/h/{token_of(session, card_world.household_a)}"
    statuses = [client.get(url).status_code for _ in range(30)]
    assert statuses == [200] * 30
    refused = client.get(url)
    assert refused.status_code == 429 and "操作太频繁" in body(refused)
    assert client.get(f"/h/{new_token()}").status_code == 429  # guessing goes through the same limit
    assert client.get(url, environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200  # another address


# ---- reissue ---------------------------------------------------------------------------------


def test_reissue_gives_a_new_token_and_the_old_card_stops_working(as_user, client, card_world, session):
    household = card_world.household_a
    old = token_of(session, household)
    officer = as_user("township")
    response = reissue(officer, household)
    assert response.status_code == 302 and response.headers["Location"] == f"/households/{household.id}"
    assert "旧卡立即作废" in body(officer.get(response.headers["Location"]))
    new = token_of(session, household)
    assert new != old and len(new) >= 43
    (code,) = decode(png(officer.get(f"/households/{household.id}/card.png")))
    assert code.text == f"http://localhost/h/{new}"
    (event,) = audit(session, "card.reissued")
    detail = json.loads(event.detail)
    assert event.user_id == card_world.township.id and event.object_id == str(household.id)
    assert detail["new_card"] == live_card(session, household.id).id and detail["old_card"] != detail["new_card"]


def test_old_token_shows_revoked_with_the_hotline_to_residents_and_staff(as_user, client, card_world, session):
    household = card_world.household_a
    old = token_of(session, household)
    reissue(as_user("township"), household)
    client.post("/logout")
    for signed_in in (False, True):
        if signed_in:
            login(client, card_world.assistant_a)
        response = client.get(f"/h/{old}")
        page = body(response)
        assert response.status_code == 410 and "此卡已作废" in page and f'href="tel:{HOTLINE}"' in page
        assert "张明华" not in page and f"/households/{household.id}" not in page
    (scan,) = scans(session)  # only the staff scan is recorded
    assert scan.card_revoked is True and scan.user_id == card_world.assistant_a.id
    assert client.get(f"/h/{token_of(session, household)}").status_code == 302  # the new card works


def test_reissue_is_for_township_officers_and_above(as_user, card_world, session):
    old = token_of(session, card_world.household_a)
    response = reissue(as_user("assistant_a"), card_world.household_a)
    assert response.status_code == 403
    assert token_of(session, card_world.household_a) == old and audit(session, "card.reissued") == []


def test_reissue_in_another_county_is_404(as_user, card_world, session):
    assert reissue(as_user("other_county"), card_world.household_a).status_code == 404
    assert audit(session, "card.reissued") == []


def test_reissue_requires_login(client, card_world, session):
    response = reissue(client, card_world.household_a)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert audit(session, "card.reissued") == []


def test_reissue_needs_the_csrf_token(make_app, card_world, session):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    login(client, card_world.township)
    assert reissue(client, card_world.household_a).status_code == 400
    assert audit(session, "card.reissued") == []


def test_household_page_offers_reissue_only_to_officers(as_user, client, card_world):
    url = f"/households/{card_world.household_a.id}"
    assert "补办新卡" in body(as_user("township").get(url))
    client.post("/logout")
    assert "补办新卡" not in body(as_user("assistant_a").get(url))


def test_only_one_live_card_per_household_even_when_written_directly(session, card_world):
    session.add(Card(household_id=card_world.household_a.id, token=new_token()))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    revoked = Card(household_id=card_world.household_a.id, token=new_token(), revoked_at=cards.utcnow())
    session.add(revoked)
    session.commit()  # revoked cards may pile up
    assert session.exec(select(func.count()).where(Card.household_id == card_world.household_a.id)).one() == 2


@pytest.mark.skipif(not POSTGRES_URL, reason="two writers at the same moment need PostgreSQL")
def test_two_officers_reissuing_at_once_leave_one_live_card(app, card_world):
    engine = app.extensions["doudi_engine"]
    actor = Actor(user=card_world.township, ip="127.0.0.1")
    outcome = []

    def second_officer():
        with Session(engine) as second:
            try:
                cards.reissue(second, actor, second.get(Household, card_world.household_a.id))
                second.commit()
                outcome.append("reissued")
            except Conflict as problem:
                outcome.append(str(problem))

    with Session(engine) as first:
        cards.reissue(first, actor, first.get(Household, card_world.household_a.id))  # not committed yet
        racer = threading.Thread(target=second_officer)
        racer.start()
        racer.join(timeout=1)  # the second officer now waits on the first one's row lock
        first.commit()
    racer.join(timeout=20)
    assert outcome == ["这张卡刚刚已被别人补办，请刷新页面查看"]
    with Session(engine) as check:
        live = check.exec(select(Card).where(Card.household_id == card_world.household_a.id, Card.revoked_at.is_(None)))
        assert len(live.all()) == 1


# ---- delivery --------------------------------------------------------------------------------


def test_assistant_confirms_delivery(as_user, card_world, session):
    client = as_user("assistant_a")
    household = card_world.household_a
    response = client.post(f"/households/{household.id}/card/deliver")
    assert response.status_code == 302 and response.headers["Location"] == f"/households/{household.id}"
    page = body(client.get(response.headers["Location"]))
    assert "服务卡已交到户" in page and "确认已发卡" not in page
    card = live_card(session, household.id)
    assert card.delivered_at is not None and card.delivered_by_id == card_world.assistant_a.id
    client.post(f"/households/{household.id}/card/deliver")  # a second tap changes nothing
    (event,) = audit(session, "card.delivered")
    assert event.user_id == card_world.assistant_a.id and json.loads(event.detail)["card"] == card.id


def test_delivered_household_drops_out_of_the_undelivered_list_and_home_count(as_user, client, card_world):
    officer = as_user("township")
    assert '还没发卡</div><div class="weui-cell__ft">2 户' in body(officer.get("/"))
    listed = body(officer.get("/households/?card=undelivered"))
    assert "只显示还没发卡的户" in listed and "张明华" in listed and "杨梅国" in listed
    client.post("/logout")
    as_user("assistant_a").post(f"/households/{card_world.household_a.id}/card/deliver")
    client.post("/logout")
    officer = as_user("township")
    assert '还没发卡</div><div class="weui-cell__ft">1 户' in body(officer.get("/"))
    listed = body(officer.get("/households/?card=undelivered"))
    assert "张明华" not in listed and "杨梅国" in listed


def test_assistant_sees_no_undelivered_line_once_every_card_is_delivered(as_user, card_world):
    client = as_user("assistant_a")
    assert "还没发卡" in body(client.get("/"))
    client.post(f"/households/{card_world.household_a.id}/card/deliver")
    assert "还没发卡" not in body(client.get("/"))
    assert "张明华" not in body(client.get("/households/?card=undelivered"))


def test_a_reissued_card_is_undelivered_again(as_user, client, card_world, session):
    as_user("assistant_a").post(f"/households/{card_world.household_a.id}/card/deliver")
    client.post("/logout")
    reissue(as_user("township"), card_world.household_a)
    assert live_card(session, card_world.household_a.id).delivered_at is None
    assert "张明华" in body(client.get("/households/?card=undelivered"))


def test_delivery_in_another_village_is_404(as_user, card_world, session):
    assert as_user("assistant_b").post(f"/households/{card_world.household_a.id}/card/deliver").status_code == 404
    assert live_card(session, card_world.household_a.id).delivered_at is None


def test_delivery_requires_login(client, card_world, session):
    response = client.post(f"/households/{card_world.household_a.id}/card/deliver")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert audit(session, "card.delivered") == []


# ---- every household has a card --------------------------------------------------------------


def live_cards_per_household(session) -> dict[int, int]:
    query = select(Card.household_id, func.count()).where(Card.revoked_at.is_(None)).group_by(Card.household_id)
    return dict(session.exec(query).all())


def assert_every_household_has_one_live_card(session) -> int:
    household_ids = set(session.exec(select(Household.id)).all())
    per_household = live_cards_per_household(session)
    assert set(per_household) == household_ids and set(per_household.values()) == {1}
    tokens = session.exec(select(Card.token)).all()
    assert len(set(tokens)) == len(tokens) and all(re.fullmatch(r"[A-Za-z0-9_-]{43}", t) for t in tokens)
    return len(household_ids)


def test_household_without_a_card_gets_one_by_reissue_not_by_reading(as_user, card_world, session):
    session.exec(text("DELETE FROM card WHERE household_id = :id").bindparams(id=card_world.household_a.id))
    session.commit()
    household_id = card_world.household_a.id
    assert "这户还没有服务卡" in body(as_user("assistant_a").get(f"/households/{household_id}"))
    assert as_user("assistant_a").get(f"/households/{household_id}/card.png").status_code == 404
    assert live_card(session, household_id) is None  # reading never changes data
    client = as_user("township")
    assert client.post(f"/households/{household_id}/card/reissue").status_code == 302
    (code,) = decode(png(client.get(f"/households/{household_id}/card.png")))
    card = live_card(session, household_id)
    assert card is not None and code.text == f"http://localhost/h/{card.token}"
    assert client.get(f"/h/{card.token}").headers["Location"] == f"/households/{household_id}?scan=1"


def test_household_without_a_card_counts_as_undelivered(as_user, card_world, session):
    session.exec(text("DELETE FROM card WHERE household_id = :id").bindparams(id=card_world.household_a.id))
    session.commit()
    assert "张明华" in body(as_user("assistant_a").get("/households/?card=undelivered"))


def test_registering_a_household_issues_its_card(as_user, card_world, session):
    form = {"area_code": VILLAGE_A, "kind": "family", "name": "罕春", "categories": ["dibao"]}
    assert as_user("assistant_a").post("/households/new", data=form).status_code == 302
    assert_every_household_has_one_live_card(session)


def test_roster_import_gives_every_new_household_a_card(app, session):
    result = app.test_cli_runner().invoke(args=["import-households", str(ROSTER), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["households_created"] > 0
    assert assert_every_household_has_one_live_card(session) == json.loads(result.output)["households_created"]


def test_demo_seeding_gives_every_household_a_card(app, session):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--households", "20"])
    assert result.exit_code == 0, result.output
    assert assert_every_household_has_one_live_card(session) == 20


@pytest.fixture
def empty_database_url(tmp_path):
    """Give a database with no schema at all (SQLite, or a private PostgreSQL database)."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    name = f"doudi_test_cards_{os.getpid()}"
    server = db.make_engine(POSTGRES_URL).execution_options(isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


def test_migration_gives_households_registered_before_cards_one_card_each(empty_database_url):
    from alembic import command

    engine = db.make_engine(empty_database_url)
    command.upgrade(db.alembic_config(engine), "0001")
    with engine.begin() as connection:
        for code, level, parent in (("530900000000", 1, None), ("530902000000", 2, "530900000000")):
            connection.execute(
                text("INSERT INTO area (code, name, level, parent_code) VALUES (:c, '地区', :l, :p)"),
                {"c": code, "l": level, "p": parent},
            )
        for number in range(3):
            connection.execute(
                text(
                    "INSERT INTO household (area_code, household_no, kind, status, care_agreement_signed,"
                    " wants_institutional_care, created_at, updated_at) VALUES ('530902000000', :no, 'family',"
                    " 'active', false, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"no": f"{number:04d}"},
            )
    db.upgrade(engine)
    with Session(engine) as session:
        assert assert_every_household_has_one_live_card(session) == 3
        assert all(card.issued_at.tzinfo is not None for card in session.exec(select(Card)))
    engine.dispose()


def test_officers_reissuing_the_same_card_at_once_all_get_an_answer_and_one_card_stays_live(make_app, world, session):
    app = make_app()
    statuses = []

    def officer():
        client = app.test_client()
        login(client, world.township)
        statuses.append(client.post(f"/households/{world.household_a.id}/card/reissue").status_code)

    threads = [threading.Thread(target=officer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [302] * 6  # each sees 已补办 or 刚刚已被别人补办, never an error page
    live = session.exec(select(Card).where(Card.household_id == world.household_a.id, Card.revoked_at.is_(None)))
    assert len(live.all()) == 1


def test_the_card_is_shown_in_a_page_with_a_way_back(as_user, card_world):
    household_id = card_world.household_a.id
    page = page_text(as_user("assistant_a").get(f"/households/{household_id}/card"))
    assert f'src="/households/{household_id}/card.png"' in page and f'href="/households/{household_id}"' in page
    assert f'href="/households/{household_id}/card"' in page_text(
        as_user("assistant_a").get(f"/households/{household_id}")
    )


def test_the_card_page_requires_login_and_is_404_outside_the_scope(as_user, client, card_world):
    household_id = card_world.household_a.id
    assert client.get(f"/households/{household_id}/card").status_code == 302
    assert as_user("assistant_b").get(f"/households/{household_id}/card").status_code == 404
