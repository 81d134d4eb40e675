"""整改事项: a failed payment becomes an open item the township sees and closes; the county sees its townships'
overdue items; closing is audited, checked, and refused when someone closed the item meanwhile."""

from datetime import date, timedelta

import pytest
from sqlmodel import select

from models import AuditEvent, Correction
from services.clock import today_in_china
from tests.conftest import COUNTY, VILLAGE_A, login, page_text
from tests.test_payouts_web import import_through_the_web


@pytest.fixture
def imported(as_user, client, session, world):
    """The county imported its result file: 张明华's 低保 failed, 李四 is not in the registry."""
    import_through_the_web(as_user("county"))
    client.post("/logout")
    session.expire_all()
    failed = session.exec(select(Correction).where(Correction.kind == "failed")).one()
    stranger = session.exec(select(Correction).where(Correction.kind == "not_in_registry")).one()
    return failed, stranger


def item(session, correction_id: int) -> Correction:
    session.expire_all()
    return session.get(Correction, correction_id)


def close(client, correction_id: int, **form):
    return client.post(f"/payouts/corrections/{correction_id}/close", data=form)


def test_a_failed_payment_is_an_open_item_on_the_townships_list(as_user, imported, world):
    failed, _ = imported
    body = page_text(as_user("township").get("/payouts/corrections"))
    assert "张明华" in body and "碗窑村" in body and "发放失败" in body and "账户已冻结" in body
    assert "城乡低保" in body or "低保" in body
    assert "2026年3月" in body and failed.deadline.isoformat() in body
    assert f'href="/households/{world.household_a.id}"' in body


def test_the_item_page_shows_the_payment_and_the_deadline(as_user, imported):
    failed, _ = imported
    body = page_text(as_user("township").get(f"/payouts/corrections/{failed.id}"))
    assert "张明华" in body and "应发</dt><dd>600 元" in body and "尾号 7890" in body and "账户已冻结" in body
    assert failed.deadline.isoformat() in body and "530902194505168663" not in body
    assert 'name="outcome" value="reissued"' in body


def test_the_township_closes_it_with_a_reissue_and_it_leaves_the_open_list(as_user, imported, session, world):
    failed, _ = imported
    client = as_user("township")
    today = today_in_china().isoformat()
    response = close(client, failed.id, outcome="reissued", reissued_on=today, note="已换卡补发")
    assert response.status_code == 302
    closed = item(session, failed.id)
    assert (closed.status, closed.outcome, closed.reissued_on.isoformat()) == ("closed", "reissued", today)
    assert closed.closed_by_id == world.township.id and closed.closed_at is not None
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "payouts.correction_closed")).one()
    assert event.object_id == str(failed.id) and '"reissued"' in event.detail
    assert "张明华" not in page_text(client.get("/payouts/corrections"))
    assert "张明华" in page_text(client.get("/payouts/corrections?status=closed"))
    shown = page_text(client.get(f"/payouts/corrections/{failed.id}"))
    assert "已办结" in shown and "赵经办" in shown and "已换卡补发" in shown and 'name="outcome"' not in shown


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"outcome": "reissued"}, "补发请填写补发的日期"),
        ({"outcome": "reissued", "reissued_on": (date.today() + timedelta(days=3)).isoformat()}, "不能晚于今天"),
        ({"outcome": "reissued", "reissued_on": "2026-02-30"}, "补发日期格式不对"),
        ({"outcome": "reissued", "reissued_on": "2025-12-31"}, "不能早于发放期间"),
        ({"outcome": "verified", "note": "  "}, "核实无误请写明"),
        ({"outcome": "paid"}, "请选择办结方式"),
        ({"outcome": "recovered", "note": "长" * 501}, "最多 500 字"),
    ],
)
def test_a_close_that_is_not_complete_is_refused_and_the_item_stays_open(as_user, imported, session, form, message):
    failed, _ = imported
    body = page_text(close(as_user("township"), failed.id, **form), 400)
    assert message in body
    assert item(session, failed.id).status == "open"
    assert session.exec(select(AuditEvent).where(AuditEvent.action.like("payouts.correction%"))).first() is None


def test_verified_with_a_note_and_recovered_close_the_item(as_user, imported, session):
    failed, stranger = imported
    client = as_user("county")
    assert close(client, failed.id, outcome="verified", note="已电话核实，银行已到账").status_code == 302
    assert close(client, stranger.id, outcome="recovered").status_code == 302
    assert [item(session, i.id).status for i in imported] == ["closed", "closed"]


def test_account_fixed_keeps_the_item_open_until_the_reissue(as_user, imported, session):
    failed, _ = imported
    client = as_user("township")
    assert close(client, failed.id, outcome="account_fixed", note="新账号尾号 2222").status_code == 302
    fixed = item(session, failed.id)
    assert (fixed.status, fixed.outcome) == ("open", "account_fixed")
    assert "待补发" in page_text(client.get("/payouts/corrections"))
    page = page_text(client.get(f"/payouts/corrections/{failed.id}"))
    assert 'name="seen" value="account_fixed"' in page and "补发后再办结" in page
    today = today_in_china().isoformat()
    assert close(client, failed.id, outcome="reissued", reissued_on=today, seen="account_fixed").status_code == 302
    assert item(session, failed.id).status == "closed"
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.action.like("payouts.correction%"))).all()
    assert actions == ["payouts.correction_account_fixed", "payouts.correction_closed"]
    assert "更正账户" in page_text(client.get(f"/payouts/corrections/{failed.id}"))  # the 办理经过 keeps it


def test_closing_an_item_someone_closed_meanwhile_is_stale(as_user, imported, session, client, world):
    failed, _ = imported
    login(client, world.county)
    assert close(client, failed.id, outcome="verified", note="核实已到账").status_code == 302
    login(client, world.township)  # the township still had the page open: it saw no outcome
    body = page_text(close(client, failed.id, outcome="reissued", reissued_on=today_in_china().isoformat()), 409)
    assert "已经由钱科长办结（核实无误）" in body
    assert item(session, failed.id).outcome == "verified"


def test_recording_over_an_account_fix_someone_just_made_is_stale(as_user, imported, session):
    failed, _ = imported
    client = as_user("township")
    assert close(client, failed.id, outcome="account_fixed").status_code == 302
    body = page_text(close(client, failed.id, outcome="verified", note="没问题", seen=""), 409)
    assert "刚被别人登记为“更正账户”" in body
    assert item(session, failed.id).status == "open"


def test_an_item_of_someone_not_in_the_registry_is_the_countys(as_user, client, imported):
    _, stranger = imported
    assert stranger.area_code == COUNTY
    assert "李四" not in page_text(as_user("township").get("/payouts/corrections"))
    assert as_user("township").get(f"/payouts/corrections/{stranger.id}").status_code == 404
    county = page_text(as_user("county").get("/payouts/corrections?kind=not_in_registry"))
    assert "李四" in county and "张明华" not in county and "不在册" in county


def test_the_county_sees_its_townships_overdue_items_and_counts_them_on_its_home(as_user, imported, session):
    failed, _ = imported
    late = session.get(Correction, failed.id)
    late.deadline = today_in_china() - timedelta(days=2)
    session.add(late)
    session.commit()
    client = as_user("county")
    body = page_text(client.get("/payouts/corrections?overdue=1"))
    assert "张明华" in body and "李四" not in body and "已逾期" in body and "stats-table__bad" in body
    home = page_text(client.get("/"))
    assert "未办结的整改事项" in home and "2 条" in home and "逾期 1 条" in home
    assert "逾期 1 条" in page_text(as_user("township").get("/"))


def test_the_filters_narrow_the_list(as_user, imported):
    client = as_user("county")
    assert "张明华" in page_text(client.get("/payouts/corrections?program=dibao&period=2026-03"))
    assert "张明华" not in page_text(client.get("/payouts/corrections?program=tekun"))
    assert "李四" in page_text(client.get("/payouts/corrections?program=tekun"))
    assert "没有符合条件的整改事项" in page_text(client.get("/payouts/corrections?period=2026-04"))
    assert "没有符合条件" in page_text(client.get("/payouts/corrections?status=closed"))
    everything = page_text(client.get("/payouts/corrections?status=all&kind=bogus&program=x&period=nonsense"))
    assert "张明华" in everything and "李四" in everything


def test_the_list_pages_with_load_more(as_user, imported, session, world):
    for n in range(25):
        session.add(
            Correction(
                key=f"missing:dibao:2026-0{1 + n % 2}:x{n}",
                kind="missing",
                program_code="dibao",
                period=f"2026-0{1 + n % 2}",
                area_code=VILLAGE_A,
                household_id=world.household_a.id,
                person_id=world.head_a.id,
                reason=f"应发而结果文件里没有 {n}",
                deadline=today_in_china() + timedelta(days=n),
            )
        )
    session.commit()
    client = as_user("township")
    first = page_text(client.get("/payouts/corrections?kind=missing"))
    assert first.count('data-correction="') == 20 and "加载更多" in first
    more = page_text(client.get("/payouts/corrections?kind=missing&page=2", headers={"HX-Request": "true"}))
    assert "<html" not in more and more.count('data-correction="') == 5 and "加载更多" not in more


def test_the_city_sees_items_but_may_not_close_them(as_user, imported, session):
    failed, _ = imported
    client = as_user("city")
    assert "张明华" in page_text(client.get("/payouts/corrections"))
    page = page_text(client.get(f"/payouts/corrections/{failed.id}"))
    assert 'name="outcome"' not in page
    assert close(client, failed.id, outcome="verified", note="x").status_code == 403
    assert item(session, failed.id).status == "open"


@pytest.mark.parametrize("who", ["other_county", "assistant_b"])
def test_users_outside_the_village_get_404(as_user, imported, session, who):
    failed, _ = imported
    client = as_user(who)
    assert client.get(f"/payouts/corrections/{failed.id}").status_code == 404
    assert close(client, failed.id, outcome="verified", note="x").status_code == 404
    assert item(session, failed.id).status == "open"


def test_the_other_countys_list_does_not_show_the_item(as_user, imported):
    assert "张明华" not in page_text(as_user("other_county").get("/payouts/corrections"))


def test_the_villages_own_assistant_gets_403(as_user, imported):
    failed, _ = imported
    client = as_user("assistant_a")
    assert client.get("/payouts/corrections").status_code == 403
    assert client.get(f"/payouts/corrections/{failed.id}").status_code == 403
    assert close(client, failed.id, outcome="verified", note="x").status_code == 403


def test_an_item_that_does_not_exist_is_404(as_user):
    assert as_user("township").get("/payouts/corrections/999").status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/payouts/corrections"), ("GET", "/payouts/corrections/1"), ("POST", "/payouts/corrections/1/close")],
)
def test_every_corrections_page_asks_a_stranger_to_sign_in(client, world, method, path):
    response = client.open(path, method=method)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_failed_households_page_says_why_and_the_townships_list_holds_it_until_closed(
    as_user, imported, session, world
):
    failed, _ = imported
    client = as_user("township")
    household = page_text(client.get(f"/households/{world.household_a.id}"))
    assert "补贴到账" in household and "2026年3月 发放失败（账户已冻结）" in household
    for _ in range(2):  # it stays there, visit after visit, while nobody closes it
        assert f'data-correction="{failed.id}"' in page_text(client.get("/payouts/corrections"))
    close(client, failed.id, outcome="reissued", reissued_on=today_in_china().isoformat())
    assert f'data-correction="{failed.id}"' not in page_text(client.get("/payouts/corrections"))
    assert item(session, failed.id).status == "closed"
