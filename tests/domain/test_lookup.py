"""One always-ready input box: member codes, phones, last four digits and names told apart."""

from __future__ import annotations

import random
import time

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posapp.domain.errors import InvalidInput
from posapp.domain.lookup import QUERY_MAX_CHARS, CounterQuery, QueryKind, classify_query
from posapp.domain.member_code import CODE_LENGTH, is_member_code, new_member_code
from posapp.domain.phone import parse_mobile
from posapp.domain.text import clean_name

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
PHONE_RULES = {
    "too_long",
    "mobile_too_short",
    "mobile_too_long",
    "extension_or_letters",
    "bad_character",
    "unparseable",
    "too_short",
    "unknown_country",
    "not_valid",
    "not_mobile",
}

member_codes = st.randoms(use_true_random=False).map(new_member_code)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("5678", "5678"),
        ("0000", "0000"),
        (" 5678 ", "5678"),
        ("5678\r\n", "5678"),
        ("５６７８", "5678"),
        ("\u30005678\u3000", "5678"),
    ],
)
def test_four_digits_are_the_last_four(raw: str, value: str) -> None:
    query = classify_query(raw)
    assert query == CounterQuery(QueryKind.LAST_FOUR, value)
    assert not query.exact


@settings(max_examples=200)
@given(st.integers(0, 9999), st.booleans(), st.sampled_from(["", " ", "\r\n", "\t", "\u3000"]))
def test_any_four_digits_typed_any_width_are_the_last_four(
    n: int, full_width: bool, pad: str
) -> None:
    digits = f"{n:04d}"
    typed = digits.translate(FULL_WIDTH) if full_width else digits
    assert classify_query(pad + typed + pad) == CounterQuery(QueryKind.LAST_FOUR, digits)


@settings(max_examples=200)
@given(member_codes, st.sampled_from(["", "\r\n", "\n", " ", "\t"]), st.booleans())
def test_a_scanned_member_code_is_a_member_code(code: str, suffix: str, full_width: bool) -> None:
    typed = code.translate(FULL_WIDTH) if full_width else code
    query = classify_query(typed + suffix)
    assert query == CounterQuery(QueryKind.MEMBER_CODE, code)
    assert query.exact


@settings(max_examples=300)
@given(member_codes, st.integers(1, CODE_LENGTH - 1), st.integers(1, 9))
def test_a_misread_member_code_is_refused_not_matched(code: str, pos: int, delta: int) -> None:
    wrong = code[:pos] + str((int(code[pos]) + delta) % 10) + code[pos + 1 :]
    assert not is_member_code(wrong)
    with pytest.raises(InvalidInput) as err:
        classify_query(wrong)
    assert (err.value.field, err.value.rule) == ("member_code", "check_digit")
    assert "check digit" in err.value.message


@pytest.mark.parametrize(
    "typed",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "0086 138 1234 5678",
        "１３８１２３４５６７８",
        "＋８６　１３８　１２３４　５６７８",
        " 13812345678\r\n",
    ],
)
def test_a_phone_in_any_form_is_one_e164_phone(typed: str) -> None:
    query = classify_query(typed)
    assert query == CounterQuery(QueryKind.PHONE, "+8613812345678")
    assert query.exact


def _valid_cn_mobile(digits: str) -> bool:
    """phonenumbers reads some 11-digit strings as a carrier prefix plus an international
    number (17900002100: IP-call prefix 17900, then 00 21 ...) and raises: not a mobile."""
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(digits, "CN"))
    except phonenumbers.NumberParseException:
        return False


@settings(max_examples=200)
@given(
    st.builds(lambda p, r: f"{p}{r:08d}", st.integers(130, 199), st.integers(0, 10**8 - 1)).filter(
        _valid_cn_mobile
    ),
    st.sampled_from(["{}", "+86 {}", "0086{}", "{}\r\n"]),
)
def test_valid_mobiles_are_phone_queries(digits: str, form: str) -> None:
    query = classify_query(form.format(digits))
    assert query == CounterQuery(QueryKind.PHONE, f"+86{digits}")


def test_a_phone_query_uses_the_stores_region() -> None:
    assert classify_query("5123 4567", region="HK") == CounterQuery(QueryKind.PHONE, "+85251234567")


@pytest.mark.parametrize(
    "name",
    [
        "王",
        "欧阳娜娜",
        "欧阳 娜娜",
        "Zoë",
        "Ze\u0301",  # decomposed: stored names are NFC, so is the query
        "Lisa 王",
        "Ｌｉｓａ",  # full-width letters, as a Chinese IME types them
        "ｶﾀｶﾅ",  # half-width katakana
        "👨\u200d👩\u200d👧",
        "🇨🇳",
        "Zoë 👩\u200d💻",
        "محمد",
        "张三 138",  # digits among letters are a name, not a phone
    ],
)
def test_names_are_cleaned_exactly_as_they_are_stored(name: str) -> None:
    query = classify_query(name)
    assert query.kind is QueryKind.NAME
    assert query.value == clean_name(name)  # the prefix a stored, cleaned name starts with
    assert not query.exact


@settings(max_examples=300)
@given(st.text(st.characters(categories=["L", "M", "N", "P", "S", "Zs"]), max_size=QUERY_MAX_CHARS))
def test_a_name_query_matches_how_the_name_was_stored(text: str) -> None:
    try:
        query = classify_query(text)
    except InvalidInput as err:
        assert err.rule in {"empty", "too_long", "check_digit", *PHONE_RULES}
        return
    if query.kind is QueryKind.NAME:
        assert query.value == clean_name(text)


@pytest.mark.parametrize(
    ("raw", "field", "rule"),
    [
        ("", "query", "empty"),
        ("   ", "query", "empty"),
        ("\r\n", "query", "empty"),
        ("\u3000", "query", "empty"),
        ("x" * 10_000, "query", "too_long"),
        ("1" * 10_000, "query", "too_long"),
        ("王" * 10_000, "query", "too_long"),
        ("\x00" * 10_000, "query", "too_long"),
        ("\x1b[A" * 5_000, "query", "too_long"),
        ("x" * (QUERY_MAX_CHARS + 1), "query", "too_long"),
        ("\x1b[A", "query", "control_character"),
        ("\x1b", "query", "control_character"),
        ("\x00", "query", "control_character"),
        ("ab\x00cd", "query", "control_character"),
        ("5678\x00", "query", "control_character"),
        ("\x08\x08\x085678", "query", "control_character"),
        ("\x7f", "query", "control_character"),
        ("\u200b", "query", "control_character"),
        ("5678\u200b", "query", "control_character"),
        ("王\u202e芳", "query", "control_character"),
        ("\u2066王芳\u2069", "query", "control_character"),
        ("\ufeff13812345678", "query", "control_character"),
        ("123", "phone", "mobile_too_short"),
        ("12345", "phone", "mobile_too_short"),  # "11 digits; this has 5"
        ("56-78", "phone", "too_short"),
        ("+", "phone", "unparseable"),
        ("010-12345678", "phone", "not_mobile"),
        ("12012345678", "phone", "not_valid"),
        ("9" * CODE_LENGTH, "member_code", "check_digit"),
    ],
)
def test_scanner_garbage_gets_a_named_refusal(raw: str, field: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as err:
        classify_query(raw)
    assert (err.value.field, err.value.rule) == (field, rule)
    assert err.value.message


def test_ten_thousand_characters_are_refused_quickly() -> None:
    garbage = "".join(random.Random(1).choice("ab\x00\x1b[A1\u200b王") for _ in range(10_000))
    started = time.perf_counter()
    for _ in range(100):
        with pytest.raises(InvalidInput) as err:
            classify_query(garbage)
        assert err.value.rule == "too_long"
    assert time.perf_counter() - started < 1.0


def _check(raw: str) -> None:
    try:
        query = classify_query(raw)
    except InvalidInput as err:
        assert err.field in {"query", "phone", "member_code"}
        assert err.rule and err.message
        return
    assert isinstance(query, CounterQuery)
    if query.kind is QueryKind.LAST_FOUR:
        assert len(query.value) == 4 and query.value.isascii() and query.value.isdigit()
    elif query.kind is QueryKind.MEMBER_CODE:
        assert is_member_code(query.value)
    elif query.kind is QueryKind.PHONE:
        assert parse_mobile(query.value) == query.value
    else:
        assert query.kind is QueryKind.NAME
        assert query.value == clean_name(raw)


@settings(max_examples=400)
@given(st.text(max_size=QUERY_MAX_CHARS + 10))
def test_any_text_is_a_query_or_a_named_refusal(raw: str) -> None:
    _check(raw)


@settings(max_examples=400)
@given(
    st.text(
        alphabet="0123456789+-(). ９８６＋－\u3000\r\n\x00\x1b[A\u200b\u202e王a#",
        max_size=QUERY_MAX_CHARS + 4,
    )
)
def test_any_scanner_noise_is_a_query_or_a_named_refusal(raw: str) -> None:
    _check(raw)


@settings(max_examples=50)
@given(
    st.text(
        st.characters(exclude_categories=["Zs", "Zl", "Zp", "Cc"]), min_size=400, max_size=2_000
    )
)
def test_long_scans_are_refused_as_too_long_whatever_they_contain(raw: str) -> None:
    # No whitespace to strip, and NFKC composes at most a few code points into one.
    with pytest.raises(InvalidInput) as err:
        classify_query(raw)
    assert (err.value.field, err.value.rule) == ("query", "too_long")
