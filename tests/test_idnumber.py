"""ID numbers (GB 11643-1999): table tests for every rule, property tests for the check digit, 15 → 18,
and for masking numbers in free text wherever they stand (and only real-shaped ones)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from idsvc.core.idnumber import (
    PROVINCES,
    InvalidIdNumber,
    canonical,
    check_char,
    forms,
    has_structure,
    mask_in_text,
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


# -- ID numbers in free text ------------------------------------------------------------------
# Neighbours that are not part of a number: ASCII letters (not X, which may end one), CJK, punctuation.
_NEIGHBOURS = "ABCDEFGHIJKLMNOPQRSTUVWYZabcdefghijklmnopqrstuvwyz号码旧新为：:,.;()[]/#_\n"
neighbours = st.text(alphabet=_NEIGHBOURS, max_size=12)
# What people put between digit groups.
separators = st.sampled_from([" ", "-", "  ", " - ", "\u3000", "\u2013", "\u00a0", "\uff0d"])
ids = st.one_of(valid_18(), valid_15())
_FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def _masked_like(original: str, scrubbed: str) -> None:
    """Same length, and every changed character became ``*``."""
    assert len(scrubbed) == len(original)
    assert all(a == b or b == "*" for a, b in zip(original, scrubbed, strict=True))


def test_mask_in_text_examples_from_the_review() -> None:
    n = "12010519800101123X"
    assert has_structure(n, today=TODAY)
    cases = {
        f"ID{n}": "ID120105********123X",
        f"证件号{n.lower()}。": "证件号120105********123x。",
        "1201 0519 8001 0112 3X": "1201 05** **** **12 3X",
        "120105-19800101-123X": "120105-********-123X",
        "120105 19800101 123X": "120105 ******** 123X",
        n.translate(_FULLWIDTH): "１２０１０５********１２３Ｘ",
        "旧号110101199003078515新号110102199003078511": "旧号110101********8515新号110102********8511",
        "old 130503670401001 then 2024-01-01 130503670401001": "old 130503*****1001 then 2024-01-01 130503*****1001",
        "tel 010-12010519800101123X": "tel 010-120105********123X",
    }
    for text, expected in cases.items():
        assert mask_in_text(text, today=TODAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order 6222021234567890123 paid",  # a 19-digit card number with no ID-shaped window
        "12010519800101123 5",  # 17 digits, then another number
        "110101199003078516",  # right shape, wrong check character
        "110101199013078519",  # month 13 (check character recomputed: only the date is wrong)
        "000101199003078515",  # no such province
        "1305036704010019",  # 16 digits: the first 15 would be a legacy number, but they are part of a longer one
        "tracking 130503670431001",  # 15 digits whose date (1967-04-31) does not exist
        "amount 1234567890.12, ts 1717171717171",
    ],
)
def test_ordinary_long_numbers_are_left_alone(text: str) -> None:
    assert mask_in_text(text, today=TODAY) == text


def test_the_month_13_case_really_has_a_valid_check_character() -> None:
    assert check_char("11010119901307851") == "9"  # the parametrised case above fails on its date alone


@given(ids, neighbours, neighbours)
@example("110101199003078515", "ID", "X")
def test_a_number_between_any_non_digits_is_masked(number: str, before: str, after: str) -> None:
    text = before + number + after
    scrubbed = mask_in_text(text, today=TODAY)
    assert number not in scrubbed
    assert before + number[:6] + "*" * (len(number) - 10) + number[-4:] + after == scrubbed


@given(ids, st.lists(st.integers(1, 17), max_size=5), separators, neighbours, neighbours)
def test_a_number_split_into_groups_is_masked(number: str, cuts: list[int], sep: str, before: str, after: str) -> None:
    points = sorted({c for c in cuts if c < len(number)})
    groups = [number[a:b] for a, b in zip([0, *points], [*points, len(number)], strict=True)]
    text = before + sep.join(groups) + after
    scrubbed = mask_in_text(text, today=TODAY)
    _masked_like(text, scrubbed)
    compact = "".join(c for c in scrubbed if c not in sep)
    assert number not in compact
    assert number[:6] + "*" * (len(number) - 10) + number[-4:] in compact


@given(ids, neighbours)
def test_full_width_digits_are_masked(number: str, before: str) -> None:
    wide = number.translate(_FULLWIDTH)
    scrubbed = mask_in_text(before + wide, today=TODAY)
    assert wide not in scrubbed and scrubbed.count("*") == len(number) - 10


@given(st.text(alphabet="0123456789", min_size=16, max_size=17), neighbours, neighbours)
def test_16_and_17_digit_numbers_are_never_masked(digits: str, before: str, after: str) -> None:
    # Too short for an 18-character window, and a 15-digit window must be a whole number.
    text = before + digits + after
    assert mask_in_text(text, today=TODAY) == text


def _passes(window: str) -> bool:
    try:
        validate(window, today=TODAY)
    except InvalidIdNumber:
        return False
    return True


@given(st.lists(st.one_of(valid_18(), st.text(alphabet="0123456789X", max_size=20)), max_size=6))
def test_no_valid_18_character_number_survives_in_a_run_of_digits(parts: list[str]) -> None:
    # The oracle is validate(), not the scrubber's own predicate.
    text = "".join(parts)
    scrubbed = mask_in_text(text, today=TODAY)
    _masked_like(text, scrubbed)
    assert not any(_passes(scrubbed[i : i + 18]) for i in range(len(scrubbed) - 17))


@given(st.text(alphabet="0123456789X -号ab", max_size=60))
def test_masking_is_idempotent_and_only_ever_writes_stars(text: str) -> None:
    once = mask_in_text(text, today=TODAY)
    _masked_like(text, once)
    assert mask_in_text(once, today=TODAY) == once


@given(st.text(alphabet="0123456789", min_size=18, max_size=18))
def test_an_18_digit_string_is_masked_exactly_when_it_is_valid(digits: str) -> None:
    assert (mask_in_text(digits, today=TODAY) != digits) == _passes(digits)


@given(st.text(alphabet="0123456789", min_size=15, max_size=15))
def test_a_15_digit_string_is_masked_exactly_when_it_is_valid(digits: str) -> None:
    assert (mask_in_text(digits, today=TODAY) != digits) == _passes(digits)
