import pytest
from sqlmodel import select

from models import AuditEvent, Household, Person, PersonCategory
from services.registry.idnumber import check_digit
from tests.conftest import VILLAGE_A, VILLAGE_B, add_household, login, page_text


def valid_id(first17="53090219800101123"):
    return first17 + check_digit(first17)


def audit_actions(session):
    return [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]


# ---- list and search ---------------------------------------------------------------------


def test_assistant_lists_only_own_village(as_user):
    body = page_text(as_user("assistant_a").get("/households/"))
    assert "张明华" in body and "碗窑村" in body
    assert "杨梅国" not in body and "段明" not in body


def test_township_lists_both_villages(as_user):
    body = page_text(as_user("township").get("/households/"))
    assert "张明华" in body and "杨梅国" in body and "段明" not in body


def test_list_requires_login(client):
    assert client.get("/households/").status_code == 302


def test_list_masks_nothing_it_should_not_show(as_user):
    body = page_text(as_user("township").get("/households/"))
    assert "张明华" in body and "碗窑村 · 0001号" in body  # the household is listed...
    assert "530902194505168663" not in body  # ...without its head's full ID number


@pytest.mark.parametrize("query", ["张明", "0001", "13900000001", "8663"])
def test_search_finds_by_name_number_phone_and_id_last_four(as_user, query):
    body = page_text(as_user("assistant_a").get("/households/", query_string={"q": query}))
    assert "张明华" in body


def test_search_never_reaches_outside_scope(as_user):
    body = page_text(as_user("assistant_a").get("/households/", query_string={"q": "杨梅国"}))
    assert 'class="hh-row"' not in body and "没有找到" in body


def test_filter_by_category_and_village(as_user):
    client = as_user("township")
    body = page_text(client.get("/households/", query_string={"category": "tekun_dispersed"}))
    assert "杨梅国" in body and "张明华" not in body
    body = page_text(client.get("/households/", query_string={"village": VILLAGE_A}))
    assert "张明华" in body and "杨梅国" not in body


def test_htmx_gets_only_the_rows_and_more_pages_load(as_user, session):
    for number in range(2, 30):
        add_household(session, VILLAGE_A, f"{number:04d}", f"户主{number:02d}")
    session.commit()
    client = as_user("assistant_a")
    first = client.get("/households/", headers={"HX-Request": "true"})
    assert "HX-Request" in first.headers["Vary"]
    assert "<html" not in page_text(first) and "加载更多" in page_text(first)
    assert page_text(first).count('class="hh-row"') == 20
    second = client.get("/households/", query_string={"page": 2}, headers={"HX-Request": "true"})
    assert page_text(second).count('class="hh-row"') == 9 and "加载更多" not in page_text(second)
    assert "户主02" in page_text(second) or "户主02" in page_text(first)


def test_exited_households_are_listed_only_when_asked(as_user, session, world):
    world.household_a.status = "exited"
    session.add(world.household_a)
    session.commit()
    client = as_user("assistant_a")
    assert "张明华" not in page_text(client.get("/households/"))
    assert "张明华" in page_text(client.get("/households/", query_string={"status": "exited"}))


# ---- detail ------------------------------------------------------------------------------


def test_detail_shows_members_with_masked_id_and_categories(as_user, world):
    response = as_user("assistant_a").get(f"/households/{world.household_a.id}")
    body = page_text(response)
    assert "张明华" in body and "530902********8663" in body and "530902194505168663" not in body
    assert "低保" in body and "重病" in body and "李协理" in body
    assert 'hx-history="false"' in body


def test_detail_requires_login(client, world):
    assert client.get(f"/households/{world.household_a.id}").status_code == 302


def test_other_village_gets_404(as_user, world):
    client = as_user("assistant_a")
    response = client.get(f"/households/{world.household_b.id}")
    assert "杨梅国" not in page_text(response, 404)
    assert client.get("/households/999999").status_code == 404


def test_other_county_officer_gets_404(as_user, world):
    assert as_user("other_county").get(f"/households/{world.household_a.id}").status_code == 404


def test_city_sees_every_county(as_user, world):
    assert as_user("city").get(f"/households/{world.household_other.id}").status_code == 200


# ---- full ID view ------------------------------------------------------------------------


def test_full_id_is_shown_on_an_explicit_tap_and_audited(as_user, world, session):
    url = f"/households/{world.household_a.id}/members/{world.head_a.id}/id-number"
    response = as_user("assistant_a").post(url, headers={"HX-Request": "true"})
    assert "530902194505168663" in page_text(response) and "<html" not in page_text(response)
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "person.id_viewed")).one()
    assert event.user_id == world.assistant_a.id and event.object_id == str(world.head_a.id)


def test_full_id_view_requires_login_and_post(client, world):
    url = f"/households/{world.household_a.id}/members/{world.head_a.id}/id-number"
    assert client.post(url).status_code == 302
    login(client, world.assistant_a)
    assert client.get(url).status_code == 405


def test_full_id_of_other_village_gets_404_and_is_not_audited(as_user, world, session):
    url = f"/households/{world.household_a.id}/members/{world.head_a.id}/id-number"
    assert as_user("assistant_b").post(url).status_code == 404
    assert "person.id_viewed" not in audit_actions(session)


def test_full_id_via_a_mismatched_household_gets_404(as_user, world):
    url = f"/households/{world.household_b.id}/members/{world.head_a.id}/id-number"
    assert as_user("township").post(url).status_code == 404


# ---- create ------------------------------------------------------------------------------


def new_household_form(**changes):
    form = {
        "area_code": VILLAGE_A,
        "kind": "family",
        "address": "博尚镇碗窑村3组12号",
        "phone": "13700000000",
        "name": "罕春",
        "id_number": valid_id(),
        "categories": ["dibao", "lonely_elderly"],
    }
    form.update(changes)
    return form


def test_assistant_registers_a_household_with_its_head(as_user, session):
    response = as_user("assistant_a").post("/households/new", data=new_household_form())
    assert response.status_code == 302
    household = session.exec(select(Household).where(Household.address == "博尚镇碗窑村3组12号")).one()
    assert household.area_code == VILLAGE_A and household.household_no == "0002"
    head = session.exec(select(Person).where(Person.household_id == household.id)).one()
    assert head.is_head and head.name == "罕春" and head.sex == "男" and head.birth_date.year == 1980
    categories = session.exec(select(PersonCategory.category).where(PersonCategory.person_id == head.id)).all()
    assert sorted(categories) == ["dibao", "lonely_elderly"]
    assert {"household.created", "person.created"} <= set(audit_actions(session))


def test_create_form_requires_login(client):
    assert client.get("/households/new").status_code == 302
    assert client.post("/households/new", data=new_household_form()).status_code == 302


def test_assistant_cannot_register_in_another_village(as_user, session):
    response = as_user("assistant_a").post("/households/new", data=new_household_form(area_code=VILLAGE_B))
    assert "请选择您辖区内的村" in page_text(response, 400)
    assert session.exec(select(Household).where(Household.area_code == VILLAGE_B)).all()[0].household_no == "0001"
    assert len(session.exec(select(Household)).all()) == 3


def test_bad_id_number_changes_nothing_and_says_why(as_user, session):
    response = as_user("assistant_a").post("/households/new", data=new_household_form(id_number="530902195101041831"))
    body = page_text(response, 400)
    assert "校验位" in body
    assert len(session.exec(select(Household)).all()) == 3
    assert "罕春" in body  # what was typed is kept


def test_known_id_number_points_to_the_existing_household(as_user, world, session):
    response = as_user("township").post("/households/new", data=new_household_form(id_number="53090219551221719X"))
    body = page_text(response, 400)
    assert "已登记在勐准村 0001 号户" in body
    assert f'href="/households/{world.household_b.id}"' in body
    assert len(session.exec(select(Household)).all()) == 3


def test_known_id_number_outside_scope_says_neither_where_nor_links(as_user, world, session):
    response = as_user("assistant_a").post("/households/new", data=new_household_form(id_number="530902194810125248"))
    body = page_text(response, 400)
    assert "该身份证号已在别处登记，请联系乡镇经办员核实" in body
    assert "安石村" not in body and "凤庆" not in body and f"/households/{world.household_other.id}" not in body
    assert len(session.exec(select(Household)).all()) == 3


def test_known_id_number_outside_scope_is_audited_masked(as_user, world, session):
    as_user("assistant_a").post(
        f"/households/{world.household_a.id}/members/new",
        data={"name": "杨梅国", "relation": "其他", "id_number": "53090219551221719X"},  # 勐准村's head
    )
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "person.duplicate_id_elsewhere")).all()
    head_b = session.exec(select(Person).where(Person.household_id == world.household_b.id)).one()
    assert [(e.user_id, e.object_type, e.object_id) for e in events] == [
        (world.assistant_a.id, "person", str(head_b.id))
    ]
    assert "530902********719X" in events[0].detail and "53090219551221719X" not in events[0].detail
    assert session.exec(select(Person).where(Person.name == "杨梅国")).all() == [head_b]  # nobody was added


def test_known_id_number_inside_scope_is_not_audited_as_elsewhere(as_user, world, session):
    as_user("township").post("/households/new", data=new_household_form(id_number="53090219551221719X"))
    assert "person.duplicate_id_elsewhere" not in audit_actions(session)


def test_id_numbers_found_elsewhere_are_limited_to_20_an_hour(as_user, world, session):
    client = as_user("assistant_a")
    outside = new_household_form(id_number="530902194810125248")  # 安石村, another county
    for _ in range(20):
        assert "已在别处登记" in page_text(client.post("/households/new", data=outside), 400)
    body = page_text(client.post("/households/new", data=outside), 429)
    assert "一小时内查到在别处登记的身份证号次数过多" in body and "已在别处登记" not in body
    # now every save with an ID number waits, found or not, so a new probe tells nothing either
    fresh = new_household_form(id_number=valid_id("53090219900101123"))
    assert "次数过多" in page_text(client.post("/households/new", data=fresh), 429)
    member = {"name": "张小花", "relation": "孙女", "id_number": valid_id("53090220150601002")}
    page_text(client.post(f"/households/{world.household_a.id}/members/new", data=member), 429)
    assert len(session.exec(select(Household)).all()) == 3
    # saving without an ID number, and other users, go on as before
    assert client.post("/households/new", data=new_household_form(id_number="")).status_code == 302
    login(client, world.township)
    assert client.post("/households/new", data=fresh).status_code == 302
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "person.duplicate_id_elsewhere")).all()
    assert len(events) == 20


def test_id_numbers_found_inside_scope_or_not_at_all_are_not_limited(as_user, world):
    client = as_user("township")
    inside = new_household_form(id_number="53090219551221719X")  # 勐准村, in the township
    for _ in range(21):
        page_text(client.post("/households/new", data=inside), 400)
    assert client.post("/households/new", data=new_household_form()).status_code == 302


# ---- edit --------------------------------------------------------------------------------


def test_edit_household_changes_fields_and_audits_them(as_user, world, session):
    client = as_user("assistant_a")
    form = page_text(client.get(f"/households/{world.household_a.id}/edit"))
    assert "13900000001" in form
    response = client.post(
        f"/households/{world.household_a.id}/edit",
        data={
            "area_code": VILLAGE_A,
            "kind": "family",
            "address": "新地址5号",
            "phone": "13900000001",
            "care_agreement_signed": "on",
            "guardian": "张大哥",
            "assistant_id": str(world.assistant_a.id),
        },
    )
    assert response.status_code == 302
    session.refresh(world.household_a)
    # the flag follows the agreements recorded on the household page (services/care), not a box on this form
    assert world.household_a.address == "新地址5号" and not world.household_a.care_agreement_signed
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "household.updated")).one()
    assert "address" in event.detail and "guardian" in event.detail


def test_edit_rejects_an_assistant_of_another_village(as_user, world):
    response = as_user("township").post(
        f"/households/{world.household_a.id}/edit",
        data={"area_code": VILLAGE_A, "kind": "family", "assistant_id": str(world.assistant_b.id)},
    )
    assert "请选择本村的协理员" in page_text(response, 400)


def test_edit_other_village_gets_404(as_user, world):
    client = as_user("assistant_a")
    assert client.get(f"/households/{world.household_b.id}/edit").status_code == 404
    assert client.post(f"/households/{world.household_b.id}/edit", data={"area_code": VILLAGE_B}).status_code == 404


def test_edit_requires_login(client, world):
    assert client.get(f"/households/{world.household_a.id}/edit").status_code == 302


# ---- members -----------------------------------------------------------------------------


def test_add_member_with_categories(as_user, world, session):
    client = as_user("assistant_a")
    assert "添加成员" in page_text(client.get(f"/households/{world.household_a.id}/members/new"))
    response = client.post(
        f"/households/{world.household_a.id}/members/new",
        data={
            "name": "张小花",
            "relation": "孙女",
            "id_number": valid_id("53090220150601002"),
            "categories": ["left_behind_child"],
        },
    )
    assert response.status_code == 302
    detail = page_text(client.get(f"/households/{world.household_a.id}"))
    assert "张小花" in detail and "留守儿童" in detail and "2015年生" in detail


def test_second_head_is_refused(as_user, world):
    response = as_user("assistant_a").post(
        f"/households/{world.household_a.id}/members/new", data={"name": "李四", "relation": "本人"}
    )
    assert "已有户主" in page_text(response, 400)


def test_edit_member_keeps_id_number_when_left_blank(as_user, world, session):
    url = f"/households/{world.household_a.id}/members/{world.head_a.id}/edit"
    client = as_user("assistant_a")
    page = page_text(client.get(url))
    assert "530902********8663" in page and "530902194505168663" not in page
    response = client.post(
        url,
        data={
            "name": "张明华",
            "relation": "本人",
            "id_number": "",
            "disability_grade": "2",
            "categories": ["severe_disability"],
        },
    )
    assert response.status_code == 302
    session.refresh(world.head_a)
    assert world.head_a.id_number == "530902194505168663" and world.head_a.disability_grade == 2
    categories = session.exec(select(PersonCategory.category).where(PersonCategory.person_id == world.head_a.id)).all()
    assert categories == ["severe_disability"]


def test_member_pages_of_other_village_get_404(as_user, world):
    client = as_user("assistant_b")
    assert client.get(f"/households/{world.household_a.id}/members/new").status_code == 404
    assert client.get(f"/households/{world.household_a.id}/members/{world.head_a.id}/edit").status_code == 404


def test_member_pages_require_login(client, world):
    assert client.get(f"/households/{world.household_a.id}/members/new").status_code == 302


def test_member_edit_requires_login_and_changes_nothing(client, world, session):
    url = f"/households/{world.household_a.id}/members/{world.head_a.id}/edit"
    for response in (client.get(url), client.post(url, data={"name": "改名", "relation": "本人", "id_number": ""})):
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    session.refresh(world.head_a)
    assert world.head_a.name == "张明华" and world.head_a.id_number == "530902194505168663"
    assert audit_actions(session) == []


# ---- exit --------------------------------------------------------------------------------


def test_township_exits_a_household_with_a_reason_and_can_restore_it(as_user, world, session):
    client = as_user("township")
    form = page_text(client.get(f"/households/{world.household_a.id}/exit"))
    assert "迁出本地" in form and "确认退出" in form
    response = client.post(f"/households/{world.household_a.id}/exit", data={"reason": "迁出本地"})
    assert response.status_code == 302
    session.refresh(world.household_a)
    assert world.household_a.status == "exited" and world.household_a.exit_reason == "迁出本地"
    assert "已退出" in page_text(client.get(f"/households/{world.household_a.id}"))
    assert client.post(f"/households/{world.household_a.id}/restore").status_code == 302
    session.refresh(world.household_a)
    assert world.household_a.status == "active"
    assert {"household.exited", "household.restored"} <= set(audit_actions(session))


def test_exit_needs_a_reason(as_user, world, session):
    response = as_user("township").post(f"/households/{world.household_a.id}/exit", data={"reason": "其他"})
    assert "写明原因" in page_text(response, 400)
    session.refresh(world.household_a)
    assert world.household_a.status == "active"


def test_assistant_cannot_exit_a_household(as_user, world):
    client = as_user("assistant_a")
    assert client.post(f"/households/{world.household_a.id}/exit", data={"reason": "迁出本地"}).status_code == 403
    assert "退出在册" not in page_text(client.get(f"/households/{world.household_a.id}"))


def test_exit_other_village_gets_404(as_user, world):
    assert as_user("other_county").post(f"/households/{world.household_a.id}/exit").status_code == 404


def test_exit_requires_login(client, world):
    assert client.get(f"/households/{world.household_a.id}/exit").status_code == 302


def exited(session, household):
    """Take a household off the register directly, as an earlier exit would have."""
    household = session.get(Household, household.id)
    household.status, household.exit_reason = "exited", "迁出本地"
    session.add(household)
    session.commit()
    return household


def test_restore_requires_login_and_changes_nothing(client, world, session):
    household = exited(session, world.household_a)
    response = client.post(f"/households/{household.id}/restore")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    session.refresh(household)
    assert household.status == "exited" and household.exit_reason == "迁出本地"
    assert "household.restored" not in audit_actions(session)


@pytest.mark.parametrize("role", ["assistant_b", "other_county"])
def test_restore_of_a_household_out_of_scope_gets_404_and_changes_nothing(as_user, world, session, role):
    household = exited(session, world.household_a)
    assert as_user(role).post(f"/households/{household.id}/restore").status_code == 404
    session.refresh(household)
    assert household.status == "exited" and household.exit_reason == "迁出本地"
    assert "household.restored" not in audit_actions(session)
