"""The dynamic member code: accepted inside its window, never outside it, never twice."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from posapp.domain.dynamic_code import (
    DYNAMIC_LENGTH,
    STEP_S,
    accepted_step,
    dynamic_code,
    looks_dynamic,
    new_secret,
    read_dynamic,
    step_of,
)
from posapp.domain.errors import InvalidInput
from posapp.domain.lookup import classify_query
from posapp.domain.member_code import new_member_code

CODE = new_member_code()
SECRET = new_secret()
T0 = datetime(2026, 12, 3, 8, 0, 0)


def test_rfc_6238_sample_through_pyotp() -> None:
    """RFC 6238 appendix B, SHA-1 at T = 59 s: 94287082 (8 digits): the library is the RFC."""
    secret = base64.b32encode(b"12345678901234567890").decode("ascii")
    assert pyotp.TOTP(secret, digits=8, interval=30).at(59) == "94287082"


def test_the_code_names_the_member_and_passes_its_check_digit() -> None:
    shown = dynamic_code(CODE, SECRET, T0)
    assert len(shown) == DYNAMIC_LENGTH and looks_dynamic(shown)
    scanned = read_dynamic(shown)
    assert scanned.member_code == CODE and len(scanned.otp) == 6
    assert accepted_step(scanned, SECRET, T0, None) == step_of(T0)


def test_a_misread_digit_is_refused_before_any_secret_is_tried() -> None:
    shown = dynamic_code(CODE, SECRET, T0)
    misread = shown[:10] + str((int(shown[10]) + 1) % 10) + shown[11:]
    with pytest.raises(InvalidInput) as refused:
        read_dynamic(misread)
    assert refused.value.rule == "check_digit"


@pytest.mark.parametrize("seconds, ok", [(-31, True), (29, True), (61, False), (-61, False)])
def test_one_step_of_tolerance_either_side(seconds: int, ok: bool) -> None:
    made = T0 + timedelta(seconds=5)
    scanned = read_dynamic(dynamic_code(CODE, SECRET, made))
    now = made + timedelta(seconds=seconds)
    if ok:
        assert accepted_step(scanned, SECRET, now, None) == step_of(made)
    else:
        with pytest.raises(InvalidInput) as refused:
            accepted_step(scanned, SECRET, now, None)
        assert refused.value.rule == "expired"


def test_a_code_is_accepted_once_and_an_older_one_after_a_newer_is_refused() -> None:
    older = read_dynamic(dynamic_code(CODE, SECRET, T0))
    newer = read_dynamic(dynamic_code(CODE, SECRET, T0 + timedelta(seconds=STEP_S)))
    now = T0 + timedelta(seconds=STEP_S)
    last = accepted_step(newer, SECRET, now, None)
    for replay in (newer, older):
        with pytest.raises(InvalidInput) as refused:
            accepted_step(replay, SECRET, now, last)
        assert refused.value.rule == "replayed"


def test_another_members_secret_does_not_open_the_code() -> None:
    scanned = read_dynamic(dynamic_code(CODE, SECRET, T0))
    with pytest.raises(InvalidInput):
        accepted_step(scanned, new_secret(), T0, None)


def test_the_shape_is_none_of_the_counters_other_queries() -> None:
    """Never mistaken for a phone, a last four or a static code (a 21-digit 8…)."""
    shown = dynamic_code(CODE, SECRET, T0)
    with pytest.raises(InvalidInput):
        classify_query(shown)


@given(
    offset=st.integers(min_value=-(10**6), max_value=10**6),
    later=st.integers(min_value=0, max_value=300),
)
def test_property_fresh_inside_the_window_never_outside_never_twice(
    offset: int, later: int
) -> None:
    made = T0 + timedelta(seconds=offset)
    now = made + timedelta(seconds=later)
    scanned = read_dynamic(dynamic_code(CODE, SECRET, made))
    inside = step_of(now) - step_of(made) <= 1
    try:
        step = accepted_step(scanned, SECRET, now, None)
    except InvalidInput as refused:
        assert not inside and refused.rule == "expired"
        return
    assert inside and step == step_of(made)
    with pytest.raises(InvalidInput):
        accepted_step(scanned, SECRET, now, step)


def test_aware_and_naive_utc_are_the_same_step() -> None:
    assert step_of(T0) == step_of(T0.replace(tzinfo=UTC))
