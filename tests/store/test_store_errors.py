"""A failed statement's message may reach the log: it must not carry the statement's values."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from posapp.store.db import Database

PHONE = "+8613812345678"


def test_a_failed_statements_message_names_no_personal_data(db: Database) -> None:
    with pytest.raises(Exception) as failed, db.read() as session:
        session.execute(text("SELECT :phone FROM no_such_table"), {"phone": PHONE})
    chain = [failed.value, failed.value.__cause__, failed.value.__context__]
    texts = " ".join(str(e) for e in chain if e is not None)
    assert "no_such_table" in texts
    assert PHONE not in texts
