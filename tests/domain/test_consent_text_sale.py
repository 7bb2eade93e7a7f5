"""Consent rules, names as people write them, and money and receipts as the POS sends them."""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posapp.domain.consent import GUARDIAN_AGE, Notice, Purpose, age_on, check_enrolment
from posapp.domain.errors import InvalidInput
from posapp.domain.sale import check_currency, clean_receipt_no, format_fen, parse_amount
from posapp.domain.text import NAME_MAX_CHARS, clean_name

TODAY = date(2026, 11, 25)


# --- consent -------------------------------------------------------------------------------


def test_membership_consent_is_required_and_the_others_are_optional() -> None:
    check_enrolment({Purpose.MEMBERSHIP}, birthday=None, today=TODAY)
    check_enrolment(set(Purpose), birthday=None, today=TODAY)
    with pytest.raises(InvalidInput) as err:
        check_enrolment({Purpose.MARKETING, Purpose.GUIDE_CONTACT}, birthday=None, today=TODAY)
    assert err.value.rule == "membership_required"


@pytest.mark.parametrize(
    ("birthday", "guardian", "rule"),
    [
        (date(2012, 11, 26), False, "guardian_required"),  # 13, one day before turning 14
        (date(2012, 11, 26), True, None),
        (date(2012, 11, 25), False, None),  # 14 today
        (date(2027, 1, 1), False, "in_future"),
        (date(1890, 1, 1), False, "too_old"),
    ],
)
def test_children_and_impossible_birthdays(
    birthday: date, guardian: bool, rule: str | None
) -> None:
    if rule is None:
        check_enrolment(
            {Purpose.MEMBERSHIP}, birthday=birthday, today=TODAY, guardian_consent=guardian
        )
        return
    with pytest.raises(InvalidInput) as err:
        check_enrolment(
            {Purpose.MEMBERSHIP}, birthday=birthday, today=TODAY, guardian_consent=guardian
        )
    assert err.value.rule == rule


def test_age_on_birthdays_and_leap_days() -> None:
    assert age_on(date(2012, 2, 29), date(2026, 2, 28)) == 13
    assert age_on(date(2012, 2, 29), date(2026, 3, 1)) == 14
    assert age_on(date(2000, 2, 29), date(2004, 2, 29)) == 4
    assert age_on(date(2012, 11, 25), TODAY) == GUARDIAN_AGE


@settings(max_examples=200)
@given(st.dates(min_value=date(1910, 1, 1), max_value=TODAY))
def test_age_matches_counting_birthdays(birthday: date) -> None:
    age = age_on(birthday, TODAY)
    assert 0 <= age <= 117
    had_birthday = (TODAY.month, TODAY.day) >= (birthday.month, birthday.day)
    assert age == TODAY.year - birthday.year - (0 if had_birthday else 1)


def test_notice_hash_pins_the_exact_text() -> None:
    a = Notice.from_text("privacy", 1, "zh-CN", "我们处理您的手机号码。")
    b = Notice.from_text("privacy", 1, "zh-CN", "我们处理您的手机号码。 ")
    assert a.text_hash != b.text_hash and len(a.text_hash) == 64
    assert a == Notice.from_text("privacy", 1, "zh-CN", "我们处理您的手机号码。")


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  王芳 ", "王芳"),
        ("Ze\u0301 Li", "Zé Li"),  # decomposed é becomes one code point
        ("欧阳   娜娜", "欧阳 娜娜"),
        ("👨‍👩‍👧 family", "👨‍👩‍👧 family"),  # ZWJ inside an emoji sequence is kept
        ("محمد", "محمد"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_names_are_normalised_and_kept(raw: str | None, clean: str | None) -> None:
    assert clean_name(raw) == clean


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("x" * 10_000, "too_long"),
        ("名" * (NAME_MAX_CHARS + 1), "too_long"),
        ("evil\u202eman", "control_character"),
        ("a\u2066b", "control_character"),
        ("a\x00b", "control_character"),
        ("a\u200bb", "control_character"),
        ("line\nbreak", "control_character"),
    ],
)
def test_names_refuse_hidden_characters_and_excess(raw: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as err:
        clean_name(raw)
    assert (err.value.field, err.value.rule) == ("name", rule)


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_a_cleaned_name_is_nfc_bounded_and_visible(raw: str) -> None:
    try:
        name = clean_name(raw)
    except InvalidInput as err:
        assert err.rule in {"too_long", "control_character"}
        return
    if name is not None:
        assert unicodedata.is_normalized("NFC", name)
        assert 0 < len(name) <= NAME_MAX_CHARS
        assert name == name.strip()
        assert clean_name(name) == name  # idempotent


# --- money and receipts --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "fen"),
    [
        ("12.30", 1230),
        ("¥12.3", 1230),
        ("￥1,280.00", 128000),
        ("１２８", 12800),
        (Decimal("0.01"), 1),
        (500, 500),
        ("0", 0),
    ],
)
def test_amounts_become_fen(raw: str | int | Decimal, fen: int) -> None:
    assert parse_amount(raw) == fen


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("-5", "negative"),
        (-1, "negative"),
        ("NaN", "not_a_number"),
        ("Infinity", "not_a_number"),
        ("abc", "not_a_number"),
        ("", "not_a_number"),
        ("1e400", "too_large"),
        ("1.005", "too_precise"),
        ("1e-400", "too_precise"),
        ("9" * 30, "too_long"),
        ("1000000000000", "too_large"),
        (True, "not_a_number"),
    ],
)
def test_bad_amounts_name_their_rule(raw: str | int, rule: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_amount(raw)
    assert (err.value.field, err.value.rule) == ("amount", rule)


@settings(max_examples=300)
@given(st.integers(0, 10**10))
def test_amount_text_round_trips(fen: int) -> None:
    assert parse_amount(f"{fen // 100}.{fen % 100:02d}") == fen
    assert format_fen(fen).replace("¥", "").replace(",", "") == f"{fen // 100}.{fen % 100:02d}"


def test_receipts_and_currencies() -> None:
    assert clean_receipt_no(" R2026-11/25.001 ") == "R2026-11/25.001"
    for bad, rule in [
        ("", "empty"),
        ("x" * 65, "too_long"),
        ("R 1", "bad_character"),
        ("票1", "bad_character"),
        ("'; --", "bad_character"),
    ]:
        with pytest.raises(InvalidInput) as err:
            clean_receipt_no(bad)
        assert err.value.rule == rule
    assert check_currency(" cny ") == "CNY"
    with pytest.raises(InvalidInput):
        check_currency("BTC")
