"""The one error the counter shows to a person: a field, a stable rule code, a message."""

from __future__ import annotations

import copy
import pickle

import pytest

from posapp.domain.errors import InvalidInput


def test_it_carries_field_rule_and_message() -> None:
    err = InvalidInput("phone", "not_mobile", "Only mobile numbers can be used.")
    assert (err.field, err.rule, err.message) == (
        "phone",
        "not_mobile",
        "Only mobile numbers can be used.",
    )
    assert str(err) == "Only mobile numbers can be used."
    assert repr(err) == "InvalidInput(field='phone', rule='not_mobile')"


def test_it_is_a_value_error_so_generic_handlers_catch_it() -> None:
    # HQ's admin and the CLI catch ValueError around rule parsing and input handling.
    with pytest.raises(ValueError, match="Phone number is empty"):
        raise InvalidInput("phone", "empty", "Phone number is empty.")


def test_repr_leaves_the_message_out() -> None:
    # The message may quote what was typed; repr (what logs show) keeps to the codes.
    err = InvalidInput("phone", "bad_character", "Phone number contains '王'.")
    assert "王" not in repr(err)


@pytest.mark.parametrize(
    "clone", [copy.copy, copy.deepcopy, lambda e: pickle.loads(pickle.dumps(e))]
)
def test_it_survives_copy_and_pickle(clone) -> None:  # type: ignore[no-untyped-def]
    # Worker processes and test runners pickle exceptions to report them.
    err = InvalidInput("amount", "too_large", "Amount is implausibly large.")
    again = clone(err)
    assert type(again) is InvalidInput
    assert (again.field, again.rule, again.message) == (err.field, err.rule, err.message)
    assert str(again) == str(err)
