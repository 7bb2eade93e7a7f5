"""Property: whatever JSON object the POS sends, the intake answers 2xx or 4xx and keeps serving."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from intake_client import TOKEN, count, post_sale, request

from posapp.intake import IntakeServer
from posapp.store.db import Database

FIELDS = ["receipt_no", "amount", "currency", "staff_id", "member_code", "phone"]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["", "CNY", "12.50", "-1", "9" * 13, "13812345678", "cashier-1"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
plausible = st.fixed_dictionaries(
    {
        "receipt_no": st.from_regex(r"[0-9A-Za-z][0-9A-Za-z._/-]{0,70}", fullmatch=True)
        | st.text(max_size=80),
        "amount": st.decimals(min_value=-10, max_value=10**9, places=3).map(str)
        | st.from_regex(r"[0-9]{1,13}(\.[0-9]{1,3})?", fullmatch=True)
        | st.text(max_size=20),
    },
    optional={name: json_values for name in FIELDS[2:]},
)
any_object = st.dictionaries(
    st.sampled_from(FIELDS) | st.text(max_size=12), json_values, max_size=8
)


@pytest.fixture
def intake(db: Database) -> Iterator[IntakeServer]:
    """One server for all examples: the property is also that it keeps serving."""
    with IntakeServer(db, token=TOKEN, port=0) as server:
        yield server


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=plausible | any_object)
def test_any_json_object_gets_2xx_or_4xx_never_5xx(
    db: Database, intake: IntakeServer, body: dict[str, Any]
) -> None:
    before = count(db, "purchase")
    reply = post_sale(intake.port, json.dumps(body).encode("utf-8"))
    assert 200 <= reply.status < 500, (reply.status, reply.raw)
    if reply.status >= 400:
        assert set(reply.body["error"]) == {"field", "rule", "message"}
        assert count(db, "purchase") == before
    else:
        assert reply.body["purchase_id"]
    assert request(intake.port, "GET", "/healthz").status == 200
