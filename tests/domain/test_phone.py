"""Phones as cashiers and scanners type them: one E.164 form, masked on screen, every refusal named."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posapp.domain.errors import InvalidInput
from posapp.domain.phone import last_four, mask_phone, national_digits, parse_mobile

PREFIXES = [
    130,
    131,
    132,
    133,
    135,
    136,
    137,
    138,
    139,
    150,
    151,
    152,
    155,
    157,
    158,
    159,
    186,
    188,
    199,
]
FULL_WIDTH = str.maketrans("0123456789+-", "０１２３４５６７８９＋－")

cn_mobiles = st.builds(
    lambda p, r: f"{p}{r:08d}", st.sampled_from(PREFIXES), st.integers(0, 10**8 - 1)
)


def _styles(digits: str) -> list[str]:
    a, b, c = digits[:3], digits[3:7], digits[7:]
    return [
        digits,
        f"+86 {a} {b} {c}",
        f"+86{digits}",
        f"0086{digits}",
        f"0086 {a}-{b}-{c}",
        f"{a}-{b}-{c}",
        f" {a} {b} {c} ",
        f"({a}) {b}-{c}",
        f"+86-{a}.{b}.{c}",
        digits.translate(FULL_WIDTH),
        f"+86 {a} {b} {c}".translate(FULL_WIDTH),
        f"{a}\t{b}\t{c}",
    ]


@settings(max_examples=150)
@given(digits=cn_mobiles, style=st.integers(0, 11))
def test_every_way_of_typing_gives_the_same_e164(digits: str, style: int) -> None:
    assert parse_mobile(_styles(digits)[style]) == f"+86{digits}"


@settings(max_examples=150)
@given(digits=cn_mobiles)
def test_mask_keeps_head_and_tail_and_hides_the_middle(digits: str) -> None:
    e164 = parse_mobile(digits)
    masked = mask_phone(e164)
    assert masked == f"{digits[:3]}****{digits[-4:]}"
    assert digits[3:7] not in masked[3:7]
    assert last_four(e164) == digits[-4:]
    assert national_digits(e164) == digits
    assert parse_mobile(national_digits(e164)) == e164  # round trip


def test_foreign_numbers_keep_their_country_code_when_masked() -> None:
    e164 = parse_mobile("+852 5123 4567")
    assert e164 == "+85251234567"
    assert mask_phone(e164) == "+852 5***4567"
    assert mask_phone(parse_mobile("+44 7911 123456")) == "+44 791***3456"


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("1" * 40, "too_long"),
        ("9" * 10_000, "too_long"),
        ("138\u200b1234\u200b5678", "control_character"),
        ("138\x001234 5678", "control_character"),
        ("\u202e13812345678", "control_character"),
        ("\ufeff13812345678", "control_character"),
        ("138 1234 5678 ext 12", "extension_or_letters"),
        ("13812345678#123", "extension_or_letters"),
        ("1-800-FLOWERS", "extension_or_letters"),
        ("138/1234/5678", "bad_character"),
        ("138'; DROP TABLE", "bad_character"),
        ("+", "unparseable"),
        ("138", "too_short"),
        ("1381234567890123", "too_long"),
        ("+999 1234 5678", "unknown_country"),
        ("010-12345678", "not_mobile"),
        ("+86 10 1234 5678", "not_mobile"),
        ("021 6123 4567", "not_mobile"),
        ("12012345678", "not_valid"),
        ("10012345678", "not_valid"),
    ],
)
def test_each_rejection_names_its_rule(raw: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_mobile(raw)
    assert err.value.field == "phone"
    assert err.value.rule == rule
    assert err.value.message and "Traceback" not in err.value.message


@settings(max_examples=300)
@given(st.text(max_size=60))
def test_any_text_is_either_a_valid_mobile_or_a_named_refusal(raw: str) -> None:
    try:
        e164 = parse_mobile(raw)
    except InvalidInput as err:
        assert err.rule
        return
    number = phonenumbers.parse(e164, None)
    assert phonenumbers.is_valid_number(number)
    assert phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )
