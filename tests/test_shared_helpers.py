"""The small shared helpers: names masked for anyone to see, money in 元, China time, one page of a query."""

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from models import Household
from services.clock import china_date, china_year, local_time, today_in_china
from services.money import fen_to_yuan, yuan
from services.names import household_label, mask_name
from services.paging import page_of


@pytest.mark.parametrize(
    ("name", "masked"),
    [("岩", "岩*"), ("李明", "李*"), ("张明华", "张*华"), ("欧阳小梅", "欧**梅"), ("", ""), (None, "")],
)
def test_a_masked_name_never_shows_a_short_name_whole(name, masked):
    assert mask_name(name) == masked


def test_the_template_filter_masks_as_the_card_does(app):
    with app.app_context():
        assert app.jinja_env.filters["mask_name"]("岩") == "岩*"


@pytest.mark.parametrize(
    ("fen", "grouped", "short", "shown"),
    [
        (123456789, True, False, "1,234,567.89"),
        (120000, True, True, "1,200"),
        (120050, False, True, "1200.50"),
        (5, True, False, "0.05"),
        (None, True, False, "—"),
    ],
)
def test_money_is_written_in_yuan_for_reading(fen, grouped, short, shown):
    assert yuan(fen, grouped=grouped, short=short) == shown


def test_money_is_written_with_two_decimals_for_forms():
    assert (fen_to_yuan(60000), fen_to_yuan(60050), fen_to_yuan(None)) == ("600.00", "600.50", "")


def test_china_time_is_eight_hours_ahead_and_a_new_year_starts_there_first():
    new_year_eve = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)  # 00:30 on 1 January in Lincang
    assert china_year(new_year_eve) == 2027 and today_in_china(new_year_eve).isoformat() == "2027-01-01"
    assert china_date(datetime(2026, 12, 31, 16, 30)) == today_in_china(new_year_eve)  # stored without a zone: UTC
    assert local_time(new_year_eve) == "2027-01-01 00:30" and local_time(None) == ""


def test_a_page_says_whether_more_follow(session, world):
    query = select(Household).order_by(Household.id)
    first, more = page_of(session, query, offset=0, limit=2)
    last, none_after = page_of(session, query, offset=2, limit=2)
    assert [h.id for h in first + last] == sorted(h.id for h in session.exec(query)) and (more, none_after) == (
        True,
        False,
    )


def test_a_household_is_named_by_its_village_and_number(session, world):
    assert household_label(session, world.household_a) == "碗窑村 0001号"
