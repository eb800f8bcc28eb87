"""ID numbers (GB 11643-1999): table tests for every rule, property tests for the check digit and 15 → 18."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from idsvc.core.idnumber import (
    PROVINCES,
    InvalidIdNumber,
    canonical,
    check_char,
    forms,
    normalise,
    to_15,
    to_18,
    validate,
)
from idsvc.core.logs import mask_id_number, scrub

TODAY = dt.date(2025, 6, 1)

# Check characters confirmed with the weighted-sum rule of test_check_char_satisfies_iso_7064_mod_11_2.
VALID = [
    "11010519491231002X",  # the example printed in GB 11643-1999 itself
    "110101199003078515",
    "310104198506121230",
    "310115197001013335",
    "440305200102281111",  # born 2001: no 15-digit form
    "130503670401001",  # legacy 15-digit
    "310104850612123",  # legacy 15-digit
]


@pytest.mark.parametrize("number", VALID)
def test_valid_numbers_pass(number: str) -> None:
    assert validate(number, today=TODAY) == number


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("", "length"),
        ("1101051949123100", "length"),  # 16
        ("11010519491231002X1", "length"),  # 19
        ("11010519491231002", "length"),  # 17
        ("11010519491231002Y", "format"),
        ("1101051949123100X2", "format"),  # X not last
        ("11010519491A31002X", "format"),
        ("13050367040100X", "format"),  # 15-digit numbers have no check character
        ("00010519491231002X", "region"),
        ("99010519491231002X", "region"),
        ("910105491231002", "region"),
        ("110105194902300020", "birth_date"),  # 30 February
        ("110105194913310021", "birth_date"),  # month 13
        ("110105203001010028", "birth_date"),  # in the future relative to TODAY
        ("110105189912310026", "birth_date"),  # before 1900
        ("130503670230001", "birth_date"),  # 15-digit, 30 February 1967
        ("110105194912310021", "check_digit"),
        ("110101199003078514", "check_digit"),
        ("310104198506121231", "check_digit"),
    ],
)
def test_each_rule_is_named(raw: str, rule: str) -> None:
    with pytest.raises(InvalidIdNumber) as info:
        validate(normalise(raw), today=TODAY)
    assert info.value.rule == rule
    assert info.value.code == "invalid_id_number" and info.value.status == 400
    assert info.value.details == {"rule": rule}
    assert info.value.message and info.value.message_en


def test_birth_date_today_is_allowed_and_tomorrow_is_not() -> None:
    first17 = "110105" + TODAY.strftime("%Y%m%d") + "001"
    assert validate(first17 + check_char(first17), today=TODAY)
    tomorrow = TODAY + dt.timedelta(days=1)
    first17 = "110105" + tomorrow.strftime("%Y%m%d") + "001"
    with pytest.raises(InvalidIdNumber, match="future"):
        validate(first17 + check_char(first17), today=TODAY)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" 11010519491231002x ", "11010519491231002X"),
        ("110105 1949 1231 002x", "11010519491231002X"),
        ("\t130503670401001\n", "130503670401001"),
        ("", ""),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    ("n15", "n18"),
    [
        ("130503670401001", "130503196704010016"),
        ("310104850612123", "310104198506121230"),
        ("110101880808002", "110101198808080028"),
    ],
)
def test_to_18_table(n15: str, n18: str) -> None:
    assert to_18(n15) == n18
    assert to_15(n18) == n15
    assert canonical(n15) == n18 and canonical(n18) == n18
    assert forms(n15) == forms(n18) == {n15, n18}


def test_numbers_born_outside_19xx_have_no_15_digit_form() -> None:
    assert to_15("440305200102281111") is None
    assert forms("440305200102281111") == {"440305200102281111"}


@pytest.mark.parametrize("bad", ["13050367040100", "1305036704010011", "13050367040100A"])
def test_to_18_rejects_non_15_digit_input(bad: str) -> None:
    with pytest.raises(ValueError):
        to_18(bad)


def test_mask_keeps_first_six_and_last_four() -> None:
    assert mask_id_number("31010419850612123X") == "310104********123X"
    assert mask_id_number("130503670401001") == "130503*****1001"
    assert scrub("old 110101199003078515 new 130503670401001.") == "old 110101********8515 new 130503*****1001."


# -- properties -----------------------------------------------------------------------------
digits17 = st.text(alphabet="0123456789", min_size=17, max_size=17)


@st.composite
def valid_18(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(sorted(PROVINCES))) + draw(st.text(alphabet="0123456789", min_size=4, max_size=4))
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY))
    first17 = region + born.strftime("%Y%m%d") + draw(st.text(alphabet="0123456789", min_size=3, max_size=3))
    return first17 + check_char(first17)


@st.composite
def valid_15(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(sorted(PROVINCES))) + draw(st.text(alphabet="0123456789", min_size=4, max_size=4))
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(1999, 12, 31)))
    return region + born.strftime("%y%m%d") + draw(st.text(alphabet="0123456789", min_size=3, max_size=3))


def _value(c: str) -> int:
    return 10 if c == "X" else int(c)


@given(digits17)
def test_check_char_satisfies_iso_7064_mod_11_2(first17: str) -> None:
    # ISO 7064 MOD 11-2 stated independently: position i (1 = leftmost of 18) weighs 2^(18-i) mod 11,
    # and the weighted sum of all 18 characters is ≡ 1 (mod 11).
    number = first17 + check_char(first17)
    assert sum(_value(c) * pow(2, 17 - i, 11) for i, c in enumerate(number)) % 11 == 1


@given(valid_18(), st.integers(0, 17), st.integers(1, 9))
def test_any_single_character_change_is_caught(number: str, pos: int, delta: int) -> None:
    alphabet = "0123456789X" if pos == 17 else "0123456789"
    changed = alphabet[(alphabet.index(number[pos]) + delta) % len(alphabet)]
    mutated = number[:pos] + changed + number[pos + 1 :]
    assert mutated != number
    with pytest.raises(InvalidIdNumber):
        validate(mutated, today=TODAY)


@given(valid_18(), st.integers(0, 15))
def test_adjacent_transpositions_are_caught(number: str, pos: int) -> None:
    assume(number[pos] != number[pos + 1])
    swapped = number[:pos] + number[pos + 1] + number[pos] + number[pos + 2 :]
    with pytest.raises(InvalidIdNumber):
        validate(swapped, today=TODAY)


@given(valid_15())
def test_15_to_18_conversion(n15: str) -> None:
    n18 = to_18(n15)
    assert validate(n15, today=TODAY) == n15
    assert validate(n18, today=TODAY) == n18
    assert n18[:6] == n15[:6] and n18[6:8] == "19" and n18[8:17] == n15[6:]
    assert to_15(n18) == n15
    assert canonical(n15) == canonical(n18) == n18
    assert mask_id_number(n18)[:6] == n15[:6]


@given(valid_18())
def test_valid_numbers_survive_normalise_and_mask(number: str) -> None:
    assert validate(normalise(" " + number.lower() + " "), today=TODAY) == number
    masked = mask_id_number(number)
    assert masked[:6] == number[:6] and masked[-4:] == number[-4:] and set(masked[6:-4]) == {"*"} and len(masked) == 18
