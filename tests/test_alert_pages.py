"""主动发现 pages: the list with its filters, one alert, the visit form with an alert, 首页 and 走访, the rules page."""

from datetime import timedelta

from sqlmodel import select

from models import Alert, AlertRule, AuditEvent, Person
from services.alerts import engine
from services.audit import Actor
from tests.alert_helpers import NOW, add_alert
from tests.conftest import COUNTY, OTHER_VILLAGE, TOWNSHIP, VILLAGE_A, add_household, login, page_text

ROBOT = Actor(user=None, ip="test")


# ---- /alerts/ ------------------------------------------------------------------------------


def test_the_list_shows_alerts_in_scope_red_first_with_household_reason_and_due_date(client, session, world):
    add_alert(session, world.household_a, "orphan_turning_18", grade="yellow", reason="孤儿 60 天内年满 18 岁")
    add_alert(
        session, world.household_b, "alone_no_contact_90", reason="独居，90 天以上无人走访", due=NOW + timedelta(days=9)
    )
    login(client, world.township)
    body = page_text(client.get("/alerts/"))
    assert body.index("独居无人联系") < body.index("孤儿即将年满 18 岁")  # red before yellow, whatever the due date
    assert "张明华" in body and "0001号" in body and "独居，90 天以上无人走访" in body
    assert "530902194505168663" not in body and "8663" not in body  # never an ID number


def test_the_list_says_how_many_days_an_alert_is_overdue_in_red(client, session, world):
    add_alert(session, world.household_a, due=NOW - timedelta(days=4))
    login(client, world.assistant_a)
    body = page_text(client.get("/alerts/"))
    assert '<span class="stats-table__bad">逾期 4 天</span>' in body


def test_the_list_requires_login(client):
    assert client.get("/alerts/").status_code == 302


def test_village_b_does_not_list_village_a_and_an_area_outside_the_scope_is_404(client, session, world):
    add_alert(session, world.household_a, reason="甲村的预警")
    login(client, world.assistant_b)
    assert "甲村的预警" not in page_text(client.get("/alerts/"))
    assert client.get(f"/alerts/?area={VILLAGE_A}").status_code == 404
    login(client, world.other_county)
    assert "甲村的预警" not in page_text(client.get("/alerts/"))
    assert client.get(f"/alerts/?area={TOWNSHIP}").status_code == 404


def test_the_filters_narrow_the_list_and_say_so(client, session, world):
    add_alert(
        session,
        world.household_a,
        "must_visit_overdue",
        reason="红色逾期",
        due=NOW - timedelta(days=2),
        level="township",
    )
    add_alert(session, world.household_b, "orphan_turning_18", grade="yellow", reason="黄色未逾期")
    add_alert(session, world.household_b, "alone_no_contact_90", state="closed", reason="早已办结")
    login(client, world.county)
    everything = page_text(client.get("/alerts/"))
    assert "红色逾期" in everything and "黄色未逾期" in everything and "早已办结" not in everything  # open = not closed
    cases = {
        "grade=yellow": ("黄色未逾期", "红色逾期", "黄色预警"),
        "overdue=1": ("红色逾期", "黄色未逾期", "已逾期"),
        "level=township": ("红色逾期", "黄色未逾期", "已移交乡镇"),
        "rule=orphan_turning_18": ("黄色未逾期", "红色逾期", "孤儿即将年满 18 岁"),
        "state=closed": ("早已办结", "红色逾期", "已办结"),
        f"area={world.household_b.area_code}": ("黄色未逾期", "红色逾期", "只显示"),
    }
    for query, (shown, hidden, notice) in cases.items():
        body = page_text(client.get(f"/alerts/?{query}"))
        assert shown in body and hidden not in body, query
        assert "只显示" in body and notice in body, query


def test_a_wrong_filter_value_is_dropped_not_an_error(client, session, world):
    add_alert(session, world.household_a, reason="照常列出")
    login(client, world.township)
    assert "照常列出" in page_text(client.get("/alerts/?grade=purple&state=x&level=9&rule=nope&overdue=yes"))


def test_the_list_pages_with_load_more(client, session, world):
    for n in range(25):
        household = add_household(session, VILLAGE_A, f"{n + 10:04d}", f"户主{n}")
        add_alert(session, household, reason=f"第{n}条", due=NOW + timedelta(days=n + 1))
    login(client, world.township)
    first = page_text(client.get("/alerts/"))
    assert "第0条" in first and "第24条" not in first and "加载更多" in first
    more = client.get("/alerts/?page=2", headers={"HX-Request": "true"})
    assert "第24条" in page_text(more) and "<html" not in page_text(more)
    assert "HX-Request" in more.headers["Vary"]


# ---- /alerts/<id> ----------------------------------------------------------------------------


def test_an_alert_page_shows_reason_rule_household_and_the_visit_action(client, session, world):
    alert = add_alert(session, world.household_a, reason="重病重残，应每 30 天走访")
    login(client, world.assistant_a)
    body = page_text(client.get(f"/alerts/{alert.id}"))
    assert "重病重残，应每 30 天走访" in body and "八必访对象走访逾期" in body
    assert "分散供养特困（独居）" in body  # the rule's explanation
    assert f"/households/{world.household_a.id}/visits/new?alert={alert.id}" in body and "去走访核实" in body
    assert "派给协理员 李协理" in body
    assert "不走访直接办结" not in body  # an assistant checks by visiting


def test_an_officer_sees_the_close_form(client, session, world):
    alert = add_alert(session, world.household_a)
    login(client, world.township)
    body = page_text(client.get(f"/alerts/{alert.id}"))
    assert "不走访直接办结" in body and "救助管理站" in body


def test_an_alert_page_requires_login(client, session, world):
    alert = add_alert(session, world.household_a)
    assert client.get(f"/alerts/{alert.id}").status_code == 302


def test_another_villages_assistant_and_another_county_get_404_for_an_alert(client, session, world):
    alert = add_alert(session, world.household_a)
    for user in (world.assistant_b, world.other_county):
        login(client, user)
        assert client.get(f"/alerts/{alert.id}").status_code == 404
    assert client.get("/alerts/999999").status_code == 404


def test_an_escalated_alert_shows_where_it_went(client, session, world):
    world.household_a.created_at = NOW - timedelta(days=200)
    session.add(world.household_a)
    session.commit()
    engine.run(session, ROBOT, only={"must_visit_overdue"})
    alert = session.exec(select(Alert)).one()
    late = alert.due_at.replace(tzinfo=NOW.tzinfo) + timedelta(days=10)
    engine.run(session, ROBOT, only={"must_visit_overdue"}, now=late)
    session.commit()
    login(client, world.county)
    body = page_text(client.get(f"/alerts/{alert.id}"))
    assert "到期未核实，移交乡镇经办员" in body and "乡镇逾期仍未核实，移交县（区）" in body
    assert "现在由</dt><dd>县（区）" in body
    home = page_text(client.get("/"))
    assert "移交县（区）" in home and "/alerts/?level=county" in home


def test_a_checked_alert_shows_its_outcome_and_the_visit(client, session, world):
    alert = add_alert(session, world.household_a)
    login(client, world.assistant_a)
    body = {"uuid": "6f1d3c1e-6c41-4c2c-9a39-0e9f8b0f4d11", "household_id": world.household_a.id, "kind": "routine"}
    body |= {"alert_id": alert.id, "alert_outcome": "referral", "alert_referral_to": "station", "alert_note": "流浪"}
    assert client.post("/api/v1/visits", json=body).status_code == 201
    page = page_text(client.get(f"/alerts/{alert.id}"))
    assert "转介（转介救助管理站）" in page and "查看核实的那次走访" in page and "李协理 走访核实：转介" in page
    assert "去走访核实" not in page


# ---- the visit form with ?alert= ---------------------------------------------------------------


def test_the_visit_form_with_an_alert_shows_its_reason_and_the_outcomes(client, session, world):
    alert = add_alert(session, world.household_a, reason="独居老人 95 天没人去过")
    login(client, world.assistant_a)
    body = page_text(client.get(f"/households/{world.household_a.id}/visits/new?alert={alert.id}"))
    assert "独居老人 95 天没人去过" in body and "核实结果（必选）" in body
    assert f'name="alert_id" value="{alert.id}"' in body
    for word in ("纳入低保", "纳入特困", "临时救助", "转介", "已解决", "排除", "医保", "残联", "教育", "救助管理站"):
        assert word in body
    plain = page_text(client.get(f"/households/{world.household_a.id}/visits/new"))
    assert "data-alert-check" not in plain


def test_the_visit_form_says_when_the_alert_is_closed_already(client, session, world):
    alert = add_alert(session, world.household_a, state="closed")
    login(client, world.assistant_a)
    body = page_text(client.get(f"/households/{world.household_a.id}/visits/new?alert={alert.id}"))
    assert "这条预警已经办结" in body and 'name="alert_id"' not in body


def test_the_visit_form_refuses_an_alert_of_another_household_or_out_of_scope(client, session, world):
    theirs = add_alert(session, world.household_b)
    other = add_alert(session, world.household_other)
    login(client, world.assistant_a)
    form = f"/households/{world.household_a.id}/visits/new?alert="
    assert client.get(form + str(theirs.id)).status_code == 404
    assert client.get(form + "abc").status_code == 404
    login(client, world.county)
    assert client.get(f"/households/{world.household_other.id}/visits/new?alert={other.id}").status_code == 404


def test_the_visit_form_with_an_alert_requires_login(client, session, world):
    alert = add_alert(session, world.household_a)
    assert client.get(f"/households/{world.household_a.id}/visits/new?alert={alert.id}").status_code == 302


# ---- 首页 and 走访 -------------------------------------------------------------------------------


def test_an_assistants_home_and_visit_list_show_their_alerts_to_check_red_first(client, session, world):
    add_alert(session, world.household_a, "orphan_turning_18", grade="yellow", reason="黄色的事")
    red = add_alert(session, world.household_a, "alone_no_contact_90", reason="红色的事", due=NOW + timedelta(days=5))
    add_alert(session, world.household_b, reason="乙村的事", assigned_to=world.assistant_b.id)
    login(client, world.assistant_a)
    for path in ("/", "/visits/"):
        body = page_text(client.get(path))
        assert "待核实预警 · 2 条" in body and "乙村的事" not in body, path
        assert body.index("红色的事") < body.index("黄色的事"), path
        assert f"/households/{world.household_a.id}/visits/new?alert={red.id}" in body, path


def test_an_assistant_without_alerts_sees_no_alert_section(client, world):
    login(client, world.assistant_a)
    assert "待核实预警" not in page_text(client.get("/"))


def test_an_officers_home_counts_open_alerts_by_grade_overdue_and_moved_up(client, session, world):
    add_alert(session, world.household_a, due=NOW - timedelta(days=1), level="township")
    add_alert(session, world.household_a, "alone_no_contact_90")
    add_alert(session, world.household_b, "orphan_turning_18", grade="yellow")
    add_alert(session, world.household_b, "care_agreement_missing", grade="orange", state="closed")
    add_alert(session, world.household_other, "must_visit_overdue")  # another county
    login(client, world.township)
    body = page_text(client.get("/"))
    numbers = body.split("主动发现预警", 1)[1]
    assert '<div class="stat__num">2</div><div class="stat__label">红色未办结' in numbers
    assert '<div class="stat__num">0</div><div class="stat__label">橙色未办结' in numbers
    assert '<div class="stat__num">1</div><div class="stat__label">黄色未办结' in numbers
    assert "/alerts/?overdue=1" in numbers and '<span class="stats-table__bad">1 条</span>' in numbers
    assert "/alerts/?level=township" in numbers and "3 条未办结" in numbers
    login(client, world.city)
    assert "4 条未办结" in page_text(client.get("/"))


# ---- /alerts/rules ---------------------------------------------------------------------------


def rules_form(session, **changes) -> dict:
    """The rules form as saved now, with changes (days-<code>=…, threshold-<code>=…, enabled-<code>=None)."""
    form = {}
    for code, setting in engine.settings(session).items():
        form[f"days-{code}"] = str(setting.days)
        if setting.threshold is not None:
            form[f"threshold-{code}"] = str(setting.threshold)
        if setting.enabled:
            form[f"enabled-{code}"] = "1"
    for key, value in changes.items():
        key = key.replace("__", "-")
        if value is None:
            form.pop(key, None)
        else:
            form[key] = value
    return form


def test_the_city_changes_a_threshold_and_the_next_run_uses_it(client, session, world):
    world.household_b.created_at = NOW - timedelta(days=120)  # alone, no visit for 120 days
    session.add(world.household_b)
    session.commit()
    login(client, world.city)
    page = page_text(client.get("/alerts/rules"))
    assert "独居无人联系" in page and 'name="threshold-alone_no_contact_90" min="1" max="365" required' in page
    form = rules_form(session, **{"threshold__alone_no_contact_90": "150", "enabled__orphan_turning_18": None})
    assert client.post("/alerts/rules", data=form).status_code == 303
    session.expire_all()
    stored = session.get(AlertRule, "alone_no_contact_90")
    assert stored.threshold == 150 and session.get(AlertRule, "orphan_turning_18").enabled is False
    changed = session.exec(select(AuditEvent).where(AuditEvent.action == "alerts.rules_changed")).one()
    assert "alone_no_contact_90" in changed.detail and "orphan_turning_18" in changed.detail
    assert engine.run(session, ROBOT, only={"alone_no_contact_90"}).raised["alone_no_contact_90"] == 0
    session.commit()
    form = rules_form(session, **{"threshold__alone_no_contact_90": "100"})
    assert client.post("/alerts/rules", data=form).status_code == 303
    session.expire_all()  # the test's session still holds the rows as they were
    assert engine.run(session, ROBOT, only={"alone_no_contact_90"}).raised["alone_no_contact_90"] == 1


def test_numbers_out_of_bounds_are_refused_and_nothing_changes(client, session, world):
    login(client, world.city)
    for key, value in (
        ("days__must_visit_overdue", "0"),
        ("threshold__urgent_no_follow_up", "366"),
        ("days__paid_after_exit", "９"),
        ("threshold__need_open_too_long", "99999999999999999999"),
    ):
        response = client.post("/alerts/rules", data=rules_form(session, **{key: value}))
        assert "请填写 1 到 365 之间的天数" in page_text(response, 400), key
    assert session.exec(select(AlertRule)).all() == []
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "alerts.rules_changed")).all() == []


def test_saving_the_rules_unchanged_writes_nothing(client, session, world):
    login(client, world.city)
    assert client.post("/alerts/rules", data=rules_form(session)).status_code == 303
    assert session.exec(select(AlertRule)).all() == []


def test_the_rules_page_is_the_citys_and_needs_login(client, world):
    assert client.get("/alerts/rules").status_code == 302
    for user in (world.township, world.county, world.assistant_a):
        login(client, user)
        assert client.get("/alerts/rules").status_code == 403
        assert client.post("/alerts/rules", data={}).status_code == 403
    login(client, world.city)
    assert "主动发现规则" in page_text(client.get("/me"))


def test_an_officer_of_the_county_sees_alerts_of_its_villages_only(client, session, world):
    add_alert(session, world.household_other, reason="凤庆的预警")
    add_alert(session, world.household_a, reason="临翔的预警")
    login(client, world.other_county)
    body = page_text(client.get("/alerts/"))
    assert "凤庆的预警" in body and "临翔的预警" not in body
    login(client, world.county)
    assert client.get(f"/alerts/?area={COUNTY}").status_code == 200
    assert client.get(f"/alerts/?area={OTHER_VILLAGE}").status_code == 404


def test_an_alert_about_a_member_names_the_member(client, session, world):
    child = Person(household_id=world.household_a.id, name="张小雨", relation="孙子女")
    session.add(child)
    session.flush()
    alert = add_alert(session, world.household_a, "orphan_turning_18", grade="yellow")
    alert.person_id = child.id
    session.add(alert)
    session.commit()
    login(client, world.township)
    assert "<dt>成员</dt><dd>张小雨</dd>" in page_text(client.get(f"/alerts/{alert.id}"))


def test_a_hospital_bill_threshold_is_set_in_yuan_not_days(client, session, world):
    login(client, world.city)
    page = page_text(client.get("/alerts/rules"))
    assert 'name="threshold-signal_medical" min="1" max="10000000" required' in page and "元（默认 6000）" in page
    assert client.post("/alerts/rules", data=rules_form(session, threshold__signal_medical="8000")).status_code == 303
    session.expire_all()
    assert session.get(AlertRule, "signal_medical").threshold == 8000
    refused = client.post("/alerts/rules", data=rules_form(session, threshold__signal_medical="10000001"))
    assert "阈值请填写 1 到 10,000,000 之间的金额（元）" in page_text(refused, 400)
    session.expire_all()
    assert session.get(AlertRule, "signal_medical").threshold == 8000


def test_the_household_page_lists_its_open_alerts_the_assistant_going_to_check_the_officer_to_the_alert(
    client, session, world
):
    mine = add_alert(session, world.household_a, reason="八必访对象，已逾期 5 天")
    add_alert(session, world.household_b, "alone_no_contact_90", reason="独居，90 天以上无人走访")
    add_alert(session, world.household_a, "orphan_turning_18", state="closed", reason="已办结的不列")
    login(client, world.assistant_a)
    page = page_text(client.get(f"/households/{world.household_a.id}"))
    assert "主动发现预警 · 1 条未办结" in page and "八必访对象，已逾期 5 天" in page
    assert f"/households/{world.household_a.id}/visits/new?alert={mine.id}" in page
    assert "独居，90 天以上无人走访" not in page and "已办结的不列" not in page
    login(client, world.township)
    page = page_text(client.get(f"/households/{world.household_a.id}"))
    assert f'href="/alerts/{mine.id}"' in page
    assert "独居，90 天以上无人走访" in page_text(client.get(f"/households/{world.household_b.id}"))
