"""Member codes: 13 digits, prefix 9, a Luhn check digit that refuses a misread scan."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posapp.domain.member_code import CODE_LENGTH, CODE_PREFIX, is_member_code, new_member_code


def luhn_digit(body: str) -> str:
    """The Luhn check digit for ``body``, written out here rather than taken from stdnum."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:  # rightmost body digit is doubled once the check digit is appended
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


codes = st.text(alphabet="0123456789", min_size=11, max_size=11).map(
    lambda rest: CODE_PREFIX + rest + luhn_digit(CODE_PREFIX + rest)
)


def test_the_hand_written_luhn_agrees_with_a_known_example() -> None:
    assert luhn_digit("7992739871") == "3"  # the textbook example, 79927398713
    assert luhn_digit("4111111111111111"[:-1]) == "1"  # a well-known test card number


def test_constants() -> None:
    assert (CODE_LENGTH, CODE_PREFIX) == (13, "9")


@settings(max_examples=200)
@given(st.randoms(use_true_random=False))
def test_new_codes_are_thirteen_ascii_digits_starting_with_9_with_a_luhn_digit(
    rng: random.Random,
) -> None:
    code = new_member_code(rng)  # type: ignore[arg-type]
    assert len(code) == CODE_LENGTH
    assert code.isascii() and code.isdigit()
    assert code.startswith(CODE_PREFIX)
    assert code[-1] == luhn_digit(code[:-1])
    assert is_member_code(code)


def test_new_codes_use_the_whole_body_and_come_from_the_given_random() -> None:
    made = {new_member_code() for _ in range(500)}
    assert len(made) == 500
    assert all(is_member_code(c) for c in made)
    for pos in range(1, CODE_LENGTH - 1):  # every body position takes every digit
        assert {c[pos] for c in made} == set("0123456789"), pos
    a = new_member_code(random.Random(7))  # type: ignore[arg-type]
    b = new_member_code(random.Random(7))  # type: ignore[arg-type]
    assert a == b


@settings(max_examples=300)
@given(codes)
def test_a_code_with_its_luhn_digit_is_accepted(code: str) -> None:
    assert is_member_code(code)


@settings(max_examples=300)
@given(codes, st.integers(0, CODE_LENGTH - 1), st.integers(1, 9))
def test_any_single_digit_change_is_rejected(code: str, pos: int, delta: int) -> None:
    wrong = code[:pos] + str((int(code[pos]) + delta) % 10) + code[pos + 1 :]
    assert wrong != code
    assert not is_member_code(wrong)


def _swap(code: str, pos: int) -> str:
    return code[:pos] + code[pos + 1] + code[pos] + code[pos + 2 :]


@settings(max_examples=400)
@given(codes, st.integers(0, CODE_LENGTH - 2))
def test_any_adjacent_transposition_of_different_digits_is_rejected(code: str, pos: int) -> None:
    a, b = code[pos], code[pos + 1]
    if a == b:
        assert _swap(code, pos) == code  # nothing changed, nothing to catch
        return
    if {a, b} == {"0", "9"} and pos > 0:
        # Luhn's one blind spot (09 <-> 90): the sum is the same. Only the prefix check can
        # catch it, and only at the first position; see the test below.
        assert is_member_code(_swap(code, pos))
        return
    assert not is_member_code(_swap(code, pos))


def test_every_error_a_scanner_or_a_typist_makes_exhaustively() -> None:
    rng = random.Random(2026)
    blind = 0
    for _ in range(300):
        code = new_member_code(rng)  # type: ignore[arg-type]
        for pos in range(CODE_LENGTH):
            for digit in "0123456789":
                if digit != code[pos]:
                    assert not is_member_code(code[:pos] + digit + code[pos + 1 :])
        for pos in range(CODE_LENGTH - 1):
            swapped = _swap(code, pos)
            if swapped == code:
                continue
            if {code[pos], code[pos + 1]} == {"0", "9"} and pos > 0:
                blind += 1
                continue
            assert not is_member_code(swapped), (code, pos)
    assert blind > 0  # the exception above was exercised, not just assumed


def test_luhn_cannot_see_a_09_90_swap_so_only_the_prefix_guards_the_first_pair() -> None:
    body = "9" + "0" * 11
    code = body + luhn_digit(body)
    assert is_member_code(code)
    assert not is_member_code(_swap(code, 0))  # "09..." loses the 9 prefix
    inner = "9" + "09" + "0" * 9
    inner_code = inner + luhn_digit(inner)
    swapped = _swap(inner_code, 1)  # "990..." instead of "909..."
    assert swapped != inner_code
    assert is_member_code(swapped)  # documented limit of a Luhn check digit


VALID = "900000000000" + luhn_digit("900000000000")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "9",
        VALID[:-1],  # 12 digits
        VALID + "0",  # 14 digits
        "1" + VALID[1:-1] + luhn_digit("1" + VALID[1:-1]),  # Luhn-valid, wrong prefix
        "8" + "12345678901" + luhn_digit("812345678901"),
        f"{VALID}\n",  # lookup strips what a scanner appends; the code check does not
        f" {VALID}",
        VALID.translate(str.maketrans("0123456789", "０１２３４５６７８９")),  # full-width
        VALID.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),  # Arabic-Indic digits
        f"{VALID[:4]}-{VALID[4:8]}-{VALID[8:]}",
        "9a" + VALID[2:],
        "+" + VALID[1:],
    ],
)
def test_text_that_is_not_a_member_code(text: str) -> None:
    assert not is_member_code(text)


def test_a_known_good_code_and_its_neighbours() -> None:
    body = "912345678901"
    good = body + luhn_digit(body)
    assert is_member_code(good)
    others = [body + d for d in "0123456789" if d != good[-1]]
    assert [is_member_code(c) for c in others] == [False] * 9
