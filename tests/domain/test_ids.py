"""Identifiers made on the device: UUIDv7, unique and in the order they were made."""

from __future__ import annotations

import time
import uuid

from posapp.domain.ids import new_id


def test_ids_are_canonical_uuid7_strings() -> None:
    made = new_id()
    parsed = uuid.UUID(made)
    assert str(parsed) == made  # lower-case, hyphenated, 36 characters
    assert len(made) == 36
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122


def test_ids_are_unique_and_sort_in_the_order_they_were_made() -> None:
    made = [new_id() for _ in range(5_000)]
    assert len(set(made)) == len(made)
    assert sorted(made) == made  # string order is creation order, as the sync log relies on


def test_ids_carry_the_time_they_were_made() -> None:
    before = time.time_ns() // 1_000_000
    made = new_id()
    after = time.time_ns() // 1_000_000
    millis = uuid.UUID(made).int >> 80
    # Ids made faster than one a millisecond borrow milliseconds from the future to stay
    # ordered, and other tests in this process may have made many: allow minutes, not years.
    assert before <= millis <= after + 10 * 60 * 1_000
