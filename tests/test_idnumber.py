from datetime import date

import pytest

from services.registry import idnumber


def test_full_width_digits_spaces_and_lowercase_x_are_normalised():
    parsed = idnumber.parse(" ５３０９０２ １９３７０５１１ ７９２ｘ ")
    assert parsed.number == "53090219370511792X"


def test_birth_date_and_sex_are_derived():
    parsed = idnumber.parse("530902194505168663")
    assert parsed.birth_date == date(1945, 5, 16)
    assert parsed.sex == "女"  # 17th digit 6 is even
    assert idnumber.parse("53090219551221719X").sex == "男"


def test_bad_check_digit_is_refused_with_a_plain_reason():
    with pytest.raises(idnumber.IdNumberError) as caught:
        idnumber.parse("530902195101041831")
    assert caught.value.reason == "checksum"
    assert "校验位" in str(caught.value)


def test_number_stored_by_excel_says_digits_were_lost():
    with pytest.raises(idnumber.IdNumberError) as caught:
        idnumber.parse(5.30902200708226e17)
    assert caught.value.reason == "excel_number"
    assert "丢失" in str(caught.value)
    with pytest.raises(idnumber.IdNumberError) as caught:
        idnumber.parse("5.30902200708226E+17")
    assert caught.value.reason == "excel_number"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("53090219450516866", "length"), ("53090219450516866A", "format")],
)
def test_malformed_numbers_name_what_is_wrong(raw, reason):
    with pytest.raises(idnumber.IdNumberError) as caught:
        idnumber.parse(raw)
    assert caught.value.reason == reason


def test_impossible_birth_date_with_a_valid_check_digit_is_refused():
    first17 = "53090219451332123"  # month 13
    with pytest.raises(idnumber.IdNumberError) as caught:
        idnumber.parse(first17 + idnumber.check_digit(first17))
    assert caught.value.reason == "birth_date"


def test_masking_keeps_area_code_and_last_four():
    assert idnumber.mask("53090219370511792X") == "530902********792X"
    assert idnumber.mask(None) == "—"
