"""Member codes catch misreads; one input box tells codes, phones, last four and names apart."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posapp.domain.errors import InvalidInput
from posapp.domain.lookup import QueryKind, classify_query
from posapp.domain.member_code import CODE_LENGTH, is_member_code, new_member_code


@settings(max_examples=200)
@given(st.randoms(use_true_random=False))
def test_new_codes_are_thirteen_digits_starting_with_9_and_valid(rng: random.Random) -> None:
    code = new_member_code(rng)  # type: ignore[arg-type]
    assert len(code) == CODE_LENGTH and code.isdigit() and code[0] == "9"
    assert is_member_code(code)


@settings(max_examples=300)
@given(st.randoms(use_true_random=False), st.integers(1, CODE_LENGTH - 1), st.integers(1, 9))
def test_any_single_digit_misread_is_caught(rng: random.Random, pos: int, delta: int) -> None:
    code = new_member_code(rng)  # type: ignore[arg-type]
    wrong = code[:pos] + str((int(code[pos]) + delta) % 10) + code[pos + 1 :]
    assert not is_member_code(wrong)


@settings(max_examples=300)
@given(st.randoms(use_true_random=False), st.integers(1, CODE_LENGTH - 2))
def test_adjacent_swaps_are_caught(rng: random.Random, pos: int) -> None:
    code = new_member_code(rng)  # type: ignore[arg-type]
    a, b = code[pos], code[pos + 1]
    if a == b or {a, b} == {"0", "9"}:  # Luhn's one blind spot: 09 ↔ 90
        return
    swapped = code[:pos] + b + a + code[pos + 2 :]
    assert not is_member_code(swapped)


def test_classify_each_kind() -> None:
    code = new_member_code()
    assert classify_query(code).kind is QueryKind.MEMBER_CODE
    assert classify_query(f"  {code}\r\n").value == code  # scanners add CR/LF
    assert classify_query("5678") == classify_query(" ５６７８ ")
    assert classify_query("5678").kind is QueryKind.LAST_FOUR
    phone = classify_query("138 1234 5678")
    assert (phone.kind, phone.value) == (QueryKind.PHONE, "+8613812345678")
    assert phone.exact and classify_query(code).exact
    assert not classify_query("5678").exact
    name = classify_query("欧阳")
    assert (name.kind, name.value, name.exact) == (QueryKind.NAME, "欧阳", False)
    assert classify_query("Zoë 👩‍💻").kind is QueryKind.NAME


def test_a_misread_member_code_is_refused_not_matched() -> None:
    code = new_member_code()
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    with pytest.raises(InvalidInput) as err:
        classify_query(wrong)
    assert (err.value.field, err.value.rule) == ("member_code", "check_digit")


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("", "empty"),
        ("\r\n", "empty"),
        ("x" * 10_000, "too_long"),
        ("\x1b[A", "control_character"),
        ("ab\x00cd", "control_character"),
        ("\u200b", "control_character"),
        ("123", "too_short"),
    ],
)
def test_scanner_garbage_gets_a_named_refusal(raw: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as err:
        classify_query(raw)
    assert err.value.rule == rule


@settings(max_examples=400)
@given(st.text(max_size=80))
def test_any_input_is_a_query_or_a_named_refusal(raw: str) -> None:
    try:
        query = classify_query(raw)
    except InvalidInput as err:
        assert err.rule and err.message
        return
    assert query.value
    assert query.kind in QueryKind
