"""Wishes to move into an institution: raised from the household page, confirmed by the township, placed by the
county in one of its institutions, the person's record following them there; listed in scope only."""

import pytest
from sqlmodel import select

from models import AuditEvent, Household, InstitutionRequest, Person, PersonCategory
from tests.care_helpers import add_agreement
from tests.conftest import OTHER_VILLAGE, VILLAGE_A, add_household, page_text
from tests.payouts_helpers import head_of


@pytest.fixture
def home(session):
    """博尚镇敬老院: an institution household of 临翔区 (in village A's register)."""
    institution = add_household(session, VILLAGE_A, "0900", "敬老院院长", categories=(), kind="institution")
    session.commit()
    return institution


@pytest.fixture
def wish_b(as_user, world, session):
    """Village B's 杨梅国 (分散供养特困, alone) asks to move into an institution, recorded by the assistant."""
    head = head_of(session, world.household_b)
    response = as_user("assistant_b").post(
        f"/households/{world.household_b.id}/institution-requests", data={"person_id": head.id, "note": "年纪大了"}
    )
    assert response.status_code == 302
    return session.exec(select(InstitutionRequest)).one()


def test_a_request_goes_from_requested_to_confirmed_to_placed_and_the_person_moves(
    as_user, world, session, home, wish_b
):
    head = head_of(session, world.household_b)
    add_agreement(session, world.household_b, head, by=world.assistant_b)
    session.commit()
    township = as_user("township")
    assert "待乡镇确认" in page_text(township.get(f"/care/requests/{wish_b.id}"))
    assert township.post(f"/care/requests/{wish_b.id}/confirm").status_code == 302
    session.refresh(wish_b)
    assert wish_b.status == "confirmed"
    page_text(township.post(f"/care/requests/{wish_b.id}/place", data={"institution_id": home.id}), 403)

    county = as_user("county")
    page = page_text(county.get(f"/care/requests/{wish_b.id}"))
    assert "0900号" in page and "安置" in page
    assert county.post(f"/care/requests/{wish_b.id}/place", data={"institution_id": home.id}).status_code == 302
    session.expire_all()
    request, moved = session.get(InstitutionRequest, wish_b.id), session.get(Person, head.id)
    old = session.get(Household, world.household_b.id)
    assert (request.status, request.institution_id, request.open_person_id) == ("placed", home.id, None)
    assert (moved.household_id, moved.is_head) == (home.id, False)
    categories = set(session.exec(select(PersonCategory.category).where(PersonCategory.person_id == head.id)))
    assert categories == {"tekun_central"}  # 分散供养 became 集中供养
    assert (old.status, old.exit_reason, old.wants_institutional_care) == ("exited", "转入集中供养机构", False)
    actions = set(session.exec(select(AuditEvent.action).where(AuditEvent.action.startswith("institution."))))
    assert actions == {"institution.requested", "institution.confirmed", "institution.placed"}
    assert "杨梅国" in page_text(county.get(f"/households/{home.id}"))


def test_a_household_with_others_left_stays_on_the_register(as_user, world, session, home):
    session.add(Person(household_id=world.household_a.id, name="张小华", relation="子"))
    session.commit()
    as_user("township").post(
        f"/households/{world.household_a.id}/institution-requests", data={"person_id": world.head_a.id}
    )
    request = session.exec(select(InstitutionRequest)).one()
    as_user("township").post(f"/care/requests/{request.id}/confirm")
    as_user("county").post(f"/care/requests/{request.id}/place", data={"institution_id": home.id})
    session.expire_all()
    assert session.get(Household, world.household_a.id).status == "active"
    assert session.get(Person, world.head_a.id).household_id == home.id


def test_a_second_wish_of_the_same_person_is_the_same_request(as_user, world, session, wish_b):
    head = head_of(session, world.household_b)
    response = as_user("township").post(
        f"/households/{world.household_b.id}/institution-requests", data={"person_id": head.id}
    )
    assert response.headers["Location"].endswith(f"/care/requests/{wish_b.id}")
    assert len(session.exec(select(InstitutionRequest)).all()) == 1


def test_declining_needs_a_reason_and_clears_the_wish(as_user, world, session, wish_b):
    township = as_user("township")
    assert "请写明不予安置的原因" in page_text(township.post(f"/care/requests/{wish_b.id}/decline", data={}), 400)
    assert township.post(f"/care/requests/{wish_b.id}/decline", data={"reason": "本人改变主意"}).status_code == 302
    session.expire_all()
    request = session.get(InstitutionRequest, wish_b.id)
    assert (request.status, request.decline_reason, request.open_person_id) == ("declined", "本人改变主意", None)
    assert not session.get(Household, world.household_b.id).wants_institutional_care


def test_the_county_may_place_only_in_its_own_institutions(as_user, world, session, wish_b):
    elsewhere = add_household(session, OTHER_VILLAGE, "0900", "凤庆敬老院", categories=(), kind="institution")
    family = add_household(session, VILLAGE_A, "0901", "普通户")
    session.commit()
    as_user("township").post(f"/care/requests/{wish_b.id}/confirm")
    county = as_user("county")
    for wrong in (elsewhere.id, family.id, "x"):
        body = page_text(county.post(f"/care/requests/{wish_b.id}/place", data={"institution_id": wrong}), 400)
        assert "请选择本县（区）的供养机构" in body
    session.refresh(wish_b)
    assert wish_b.status == "confirmed"


def test_an_assistant_cannot_confirm_or_place(as_user, world, session, wish_b, home):
    client = as_user("assistant_b")
    page_text(client.post(f"/care/requests/{wish_b.id}/confirm"), 403)
    session.refresh(wish_b)
    assert wish_b.status == "requested"


def test_the_list_shows_open_requests_in_scope(as_user, world, wish_b):
    body = page_text(as_user("township").get("/care/requests"))
    assert "杨梅国" in body and "待乡镇确认" in body
    assert "杨梅国" in page_text(as_user("county").get("/care/requests"))
    assert "杨梅国" not in page_text(as_user("other_county").get("/care/requests"))
    page_text(as_user("assistant_b").get("/care/requests"), 403)


def test_the_list_and_the_request_require_login(client, world, wish_b):
    client.post("/logout")  # the fixture's assistant
    for path in ("/care/requests", f"/care/requests/{wish_b.id}"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("who", ["assistant_a", "other_county"])
def test_a_request_outside_the_scope_is_404(as_user, world, session, wish_b, who):
    client = as_user(who)
    page_text(client.get(f"/care/requests/{wish_b.id}"), 404)
    for action in ("confirm", "decline", "place"):
        page_text(client.post(f"/care/requests/{wish_b.id}/{action}", data={"reason": "x"}), 404)
    session.refresh(wish_b)
    assert wish_b.status == "requested"


def test_the_household_page_offers_a_request_only_for_members_who_might_need_one(as_user, world, session):
    plain = add_household(session, VILLAGE_A, "0902", "李低保", categories=("dibao",))
    session.commit()
    client = as_user("township")
    assert "登记集中供养申请" in page_text(client.get(f"/households/{world.household_b.id}"))  # 分散供养特困
    assert "登记集中供养申请" not in page_text(client.get(f"/households/{plain.id}"))
    assert "登记集中供养申请" not in page_text(as_user("county").get(f"/households/{world.household_b.id}"))
