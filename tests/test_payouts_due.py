"""Who the registry says is due what: 低保 per household, others per person; 孤儿 stop at 18, 高龄 by birthday."""

import json
from datetime import UTC, date, datetime

from models import Person, PersonCategory, PriceSubsidyPeriod
from services.payouts.due import due_for
from services.payouts.programs import Period, parse_period
from tests.conftest import COUNTY, OTHER_VILLAGE, VILLAGE_A, add_household

MARCH = Period(2026, 3)


def member(session, household, name, *, born=None, grade=None, categories=(), allowance=None) -> Person:
    person = Person(
        household_id=household.id,
        name=name,
        relation="子女",
        birth_date=born,
        disability_grade=grade,
        monthly_allowance_fen=allowance,
    )
    session.add(person)
    session.flush()
    session.add_all(PersonCategory(person_id=person.id, category=c) for c in categories)
    session.flush()
    return person


def names(due: dict) -> list[str]:
    return sorted(d.name for d in due.values())


def test_dibao_is_one_payment_per_household_to_the_head_with_the_rolls_amounts(session):
    household = add_household(session, VILLAGE_A, "0101", "户主甲", categories=("dibao",))
    member(session, household, "妻", categories=("dibao",), allowance=30000)
    member(session, household, "子", allowance=None)
    add_household(session, OTHER_VILLAGE, "0101", "外县人", categories=("dibao",))
    session.commit()
    due = due_for(session, "dibao", MARCH, COUNTY)
    assert list(due) == [f"h{household.id}"]
    [one] = due.values()
    assert one.name == "户主甲" and one.person_id is None and one.amount_fen == 30000


def test_orphans_are_due_until_the_month_they_turn_18(session):
    household = add_household(session, VILLAGE_A, "0102", "监护人", categories=())
    member(session, household, "十七岁", born=date(2008, 4, 1), categories=("orphan",), allowance=120000)
    member(session, household, "刚满十八", born=date(2008, 3, 1), categories=("orphan",))
    member(session, household, "事实无人抚养", born=date(2015, 6, 1), categories=("de_facto_orphan",))
    session.commit()
    assert names(due_for(session, "orphan", MARCH, COUNTY)) == ["十七岁"]
    assert names(due_for(session, "orphan", Period(2026, 2), COUNTY)) == ["刚满十八", "十七岁"]
    assert names(due_for(session, "de_facto_orphan", MARCH, COUNTY)) == ["事实无人抚养"]


def test_elderly_allowance_follows_the_birthday_band_by_the_years_end(session):
    household = add_household(session, VILLAGE_A, "0103", "老人家", categories=())
    member(session, household, "年底满八十", born=date(1946, 12, 31))
    member(session, household, "七十九", born=date(1947, 1, 1))
    member(session, household, "九十五", born=date(1931, 5, 5))
    member(session, household, "一百零一", born=date(1925, 1, 1))
    session.commit()
    due = due_for(session, "elderly", parse_period("2026"), COUNTY)
    assert {d.name: d.amount_fen for d in due.values()} == {"年底满八十": 30000, "九十五": 60000, "一百零一": 120000}


def test_disability_care_by_grade_and_living_allowance_for_dibao_households(session):
    poor = add_household(session, VILLAGE_A, "0104", "低保户主", categories=("dibao",))
    member(session, poor, "一级", grade=1)
    member(session, poor, "三级", grade=3)
    other = add_household(session, VILLAGE_A, "0105", "非低保户主", categories=())
    member(session, other, "二级", grade=2)
    session.commit()
    care = due_for(session, "disability_care", MARCH, COUNTY)
    assert {d.name: d.amount_fen for d in care.values()} == {"一级": 10000, "二级": 8000}
    living = due_for(session, "disability_living", MARCH, COUNTY)
    assert {d.name: d.amount_fen for d in living.values()} == {"一级": 8000, "三级": 8000}


def test_price_subsidy_only_in_the_months_the_city_opened_for_the_groups_it_named(session):
    add_household(session, VILLAGE_A, "0106", "低保户", categories=("dibao",))
    add_household(session, VILLAGE_A, "0107", "特困户", categories=("tekun_dispersed",))
    add_household(session, VILLAGE_A, "0108", "留守户", categories=("left_behind_child",))
    session.add(PriceSubsidyPeriod(start_month="2026-02", end_month="2026-04", amount_fen=2500,
                                   categories=json.dumps(["dibao", "tekun_dispersed"])))  # fmt: skip
    session.commit()
    due = due_for(session, "price_subsidy", MARCH, COUNTY)
    assert {d.name: d.amount_fen for d in due.values()} == {"低保户": 2500, "特困户": 2500}
    assert due_for(session, "price_subsidy", Period(2026, 5), COUNTY) == {}


def test_a_household_that_left_the_register_is_due_only_for_periods_it_was_on_it(session):
    household = add_household(session, VILLAGE_A, "0109", "迁走户", categories=("tekun_dispersed",))
    household.status, household.exited_at = "exited", datetime(2026, 3, 10, tzinfo=UTC)
    session.add(household)
    session.commit()
    assert names(due_for(session, "tekun", Period(2026, 2), COUNTY)) == ["迁走户"]
    assert due_for(session, "tekun", MARCH, COUNTY) == {}
