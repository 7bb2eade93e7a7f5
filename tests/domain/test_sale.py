"""Money, receipt numbers and currencies as they arrive from a keyboard, a scanner or the POS."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posapp.domain.errors import InvalidInput
from posapp.domain.sale import (
    CURRENCIES,
    MAX_SALE_FEN,
    RECEIPT_MAX_CHARS,
    check_currency,
    check_sale_amount,
    clean_receipt_no,
    format_fen,
    parse_amount,
)

FULL_WIDTH = str.maketrans("0123456789.,", "０１２３４５６７８９．，")

# --- amounts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "fen"),
    [
        ("12.30", 1230),
        ("12.3", 1230),
        ("¥12.3", 1230),
        ("￥12.30", 1230),
        ("¥ 12.30", 1230),
        (" 12.30 ", 1230),
        ("12", 1200),
        ("+12", 1200),
        ("0", 0),
        ("0.00", 0),
        ("-0", 0),
        ("0.01", 1),
        ("1,280.00", 128000),
        ("￥1,280.00", 128000),
        ("１２.３０", 1230),
        ("１２．３０", 1230),
        ("￥１，２８０", 128000),
        ("12.300", 1230),  # more digits, but still exactly 12.30
        ("100000000", MAX_SALE_FEN),
        (Decimal("12.3"), 1230),
        (Decimal("0.01"), 1),
        (500, 500),  # an int is already fen
        (0, 0),
        (MAX_SALE_FEN, MAX_SALE_FEN),
    ],
)
def test_amounts_become_fen(raw: str | int | Decimal, fen: int) -> None:
    assert parse_amount(raw) == fen


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("-5", "negative"),
        ("-0.01", "negative"),
        ("¥-12.30", "negative"),
        (Decimal("-1"), "negative"),
        (-1, "negative"),
        ("NaN", "not_a_number"),
        ("nan", "not_a_number"),
        ("-NaN", "not_a_number"),
        ("sNaN", "not_a_number"),
        ("Infinity", "not_a_number"),
        ("-Infinity", "not_a_number"),
        ("inf", "not_a_number"),
        (Decimal("NaN"), "not_a_number"),
        ("abc", "not_a_number"),
        ("", "not_a_number"),
        ("   ", "not_a_number"),
        ("¥", "not_a_number"),
        ("1.2.3", "not_a_number"),
        ("12.30元", "not_a_number"),
        ("-¥5", "not_a_number"),
        ("0x10", "not_a_number"),
        (True, "not_a_number"),
        (False, "not_a_number"),
        ("1e400", "too_large"),
        ("-1e400", "too_large"),
        ("1e999999", "too_large"),
        ("9e999999999", "too_large"),
        ("-1e999999999", "too_large"),
        (Decimal("1e999999"), "too_large"),
        ("100000000.01", "too_large"),
        ("100000001", "too_large"),
        (MAX_SALE_FEN + 1, "too_large"),
        (10**30, "too_large"),
        ("1.005", "too_precise"),
        ("12.345", "too_precise"),
        ("0.001", "too_precise"),
        ("1e-3", "too_precise"),
        ("1e-400", "too_precise"),
        ("1e-999999999", "too_precise"),
        ("9" * 21, "too_long"),
        ("9" * 30, "too_long"),
        ("1" * 10_000, "too_long"),
    ],
)
def test_bad_amounts_name_their_rule(raw: str | int | Decimal, rule: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_amount(raw)
    assert (err.value.field, err.value.rule) == ("amount", rule)
    assert err.value.message


@settings(max_examples=300)
@given(st.integers(0, MAX_SALE_FEN), st.sampled_from(["", "¥", "￥", "¥ "]), st.booleans())
def test_amount_text_round_trips(fen: int, symbol: str, full_width: bool) -> None:
    yuan, cents = divmod(fen, 100)
    for text in (f"{yuan}.{cents:02d}", f"{yuan:,}.{cents:02d}"):
        typed = text.translate(FULL_WIDTH) if full_width else text
        assert parse_amount(symbol + typed) == fen
    assert parse_amount(Decimal(fen) / 100) == fen
    assert parse_amount(fen) == fen


@settings(max_examples=300)
@given(st.integers(-(10**12), 10**12), st.sampled_from(["CNY", "USD", "HKD"]))
def test_format_fen_shows_every_fen_and_reads_back(fen: int, currency: str) -> None:
    shown = format_fen(fen, currency)
    sign = "¥" if currency == "CNY" else f"{currency} "
    assert shown.startswith(("-" if fen < 0 else "") + sign)
    number = shown.replace(sign, "").replace(",", "")
    assert Decimal(number) * 100 == fen
    assert re.fullmatch(r"-?\d{1,3}(,\d{3})*\.\d\d", shown.replace(sign, ""))
    if 0 <= fen <= MAX_SALE_FEN and currency == "CNY":
        assert parse_amount(shown) == fen


@pytest.mark.parametrize(
    ("fen", "currency", "shown"),
    [
        (0, "CNY", "¥0.00"),
        (1, "CNY", "¥0.01"),
        (1230, "CNY", "¥12.30"),
        (123456789, "CNY", "¥1,234,567.89"),
        (-1, "CNY", "-¥0.01"),
        (-123456, "CNY", "-¥1,234.56"),
        (1230, "USD", "USD 12.30"),
        (-5, "HKD", "-HKD 0.05"),
    ],
)
def test_format_fen_examples(fen: int, currency: str, shown: str) -> None:
    assert format_fen(fen, currency) == shown


number_ish = st.text(alphabet="0123456789.,eE+-_ ¥￥NaInfity０１９．", max_size=24)


@settings(max_examples=500)
@given(st.one_of(number_ish, st.text(max_size=24)))
def test_any_text_is_fen_in_range_or_a_named_refusal(raw: str) -> None:
    try:
        fen = parse_amount(raw)
    except InvalidInput as err:
        assert err.field == "amount"
        assert err.rule in {"not_a_number", "too_long", "too_large", "too_precise", "negative"}
        return
    assert isinstance(fen, int) and not isinstance(fen, bool)
    assert 0 <= fen <= MAX_SALE_FEN


@settings(max_examples=300)
@given(
    st.one_of(
        st.decimals(allow_nan=True, allow_infinity=True),
        st.builds(
            lambda digits, exp: Decimal(f"{digits}e{exp}"),
            st.integers(-(10**6), 10**6),
            st.integers(-(10**9), 10**9),
        ),
    )
)
def test_any_decimal_is_fen_in_range_or_a_named_refusal(raw: Decimal) -> None:
    try:
        fen = parse_amount(raw)
    except InvalidInput as err:
        assert err.rule in {"not_a_number", "too_long", "too_large", "too_precise", "negative"}
        return
    assert 0 <= fen <= MAX_SALE_FEN
    assert Decimal(fen) == raw * 100


# --- receipt numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("R2026-11/25.001", "R2026-11/25.001"),
        (" R2026-11/25.001 \r\n", "R2026-11/25.001"),
        ("0001", "0001"),
        ("a_b", "a_b"),
        ("Ｒ１２３", "R123"),  # full-width from a Chinese IME
        ("x" * RECEIPT_MAX_CHARS, "x" * RECEIPT_MAX_CHARS),
    ],
)
def test_receipt_numbers_are_kept(raw: str, clean: str) -> None:
    assert clean_receipt_no(raw) == clean


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (None, "empty"),
        ("x" * (RECEIPT_MAX_CHARS + 1), "too_long"),
        ("1" * 10_000, "too_long"),
        ("R 1", "bad_character"),
        ("票1", "bad_character"),
        ("-R1", "bad_character"),
        (".R1", "bad_character"),
        ("/etc/passwd", "bad_character"),
        ("R1\x00", "bad_character"),
        ("R1\u200b", "bad_character"),
        ("R1\nR2", "bad_character"),
        ("'; --", "bad_character"),
        ("R1;DROP", "bad_character"),
        ("R١٢٣", "bad_character"),
    ],
)
def test_bad_receipt_numbers_name_their_rule(raw: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as err:
        clean_receipt_no(raw)
    assert (err.value.field, err.value.rule) == ("receipt_no", rule)


@settings(max_examples=300)
@given(st.text(max_size=80))
def test_a_clean_receipt_number_is_plain_ascii_and_stable(raw: str) -> None:
    try:
        clean = clean_receipt_no(raw)
    except InvalidInput as err:
        assert err.rule in {"empty", "too_long", "bad_character"}
        return
    assert re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z._/-]*", clean)
    assert len(clean) <= RECEIPT_MAX_CHARS
    assert clean_receipt_no(clean) == clean


# --- currencies ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(CURRENCIES))
def test_known_currencies_in_any_case(code: str) -> None:
    assert check_currency(code) == code
    assert check_currency(f" {code.lower()} ") == code
    assert check_currency(code.title()) == code


@pytest.mark.parametrize(
    "raw", ["", "   ", None, "BTC", "RMB", "CN", "CNYY", "ＣＮＹ", "X" * 10_000]
)
def test_unknown_currencies_are_refused(raw: str | None) -> None:
    with pytest.raises(InvalidInput) as err:
        check_currency(raw)  # type: ignore[arg-type]
    assert (err.value.field, err.value.rule) == ("currency", "unknown")
    assert len(err.value.message) < 40  # a pasted essay is not echoed back


def test_the_currency_list() -> None:
    assert "CNY" in CURRENCIES
    assert all(len(c) == 3 and c.isascii() and c.isupper() for c in CURRENCIES)


def test_a_zero_sale_needs_to_be_a_gift_and_nothing_else_does() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_sale_amount(0, gift=False)
    assert (refused.value.field, refused.value.rule) == ("amount", "zero")
    check_sale_amount(0, gift=True)
    check_sale_amount(1, gift=False)
