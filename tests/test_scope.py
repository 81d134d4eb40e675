from sqlmodel import select

from models import Household, User
from services.scope import area_level, is_in_scope, scope_prefix, where_in_scope
from tests.conftest import CITY, COUNTY, OTHER_VILLAGE, TOWNSHIP, VILLAGE_A, VILLAGE_B


def user(role, area_code):
    return User(username="x", display_name="x", role=role, area_code=area_code, password_hash="x")


def test_scope_prefix_follows_the_area_level():
    assert scope_prefix(user("assistant", VILLAGE_A)) == VILLAGE_A
    assert scope_prefix(user("township", TOWNSHIP)) == "530902100"
    assert scope_prefix(user("county", COUNTY)) == "530902"
    assert scope_prefix(user("city", CITY)) == "5309"
    assert scope_prefix(user("admin", CITY)) == ""


def test_area_level_is_read_from_the_code():
    assert [area_level(c) for c in (CITY, COUNTY, TOWNSHIP, VILLAGE_A)] == [1, 2, 3, 4]


def test_village_is_in_its_township_but_not_in_the_neighbouring_village():
    township = user("township", TOWNSHIP)
    assistant = user("assistant", VILLAGE_A)
    assert is_in_scope(township, VILLAGE_B)
    assert is_in_scope(assistant, VILLAGE_A)
    assert not is_in_scope(assistant, VILLAGE_B)
    assert not is_in_scope(township, OTHER_VILLAGE)
    assert not is_in_scope(assistant, None)


def test_scoped_query_returns_only_households_in_scope(session, world):
    def visible(who):
        query = select(Household.id).where(where_in_scope(who, Household.area_code))
        return set(session.exec(query).all())

    a, b, other = world.household_a.id, world.household_b.id, world.household_other.id
    assert visible(world.assistant_a) == {a}
    assert visible(world.assistant_b) == {b}
    assert visible(world.township) == {a, b}
    assert visible(world.county) == {a, b}
    assert visible(world.other_county) == {other}
    assert visible(world.city) == {a, b, other}
