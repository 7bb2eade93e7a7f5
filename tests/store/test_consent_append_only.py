"""Consent records are evidence: never rewritten in place, but erasable with their member."""

from __future__ import annotations

from pathlib import Path

import pytest
from roster import CASHIER
from sqlalchemy import select, text
from store_checks import connect, dump

from posapp.domain.consent import Notice, Purpose
from posapp.services.members import change_consent, enrol_member
from posapp.store.cipher import sqlcipher
from posapp.store.db import Database, StorageError
from posapp.store.models import ConsentRecord


def test_consent_record_update_is_refused_delete_is_allowed(
    db: Database, db_path: Path, notice: Notice
) -> None:
    with db.write() as s:
        member_id = enrol_member(
            s,
            phone="13812345678",
            consents={Purpose.MEMBERSHIP, Purpose.MARKETING},
            notice=notice,
            staff_id=CASHIER,
        ).member_id
    conn = connect(db_path)
    before = dump(conn, "consent_record")
    assert len(before) == 2

    with pytest.raises(StorageError) as refused, db.write() as s:
        s.execute(text("UPDATE consent_record SET granted = 0 WHERE purpose = 'marketing'"))
    assert "append-only" in refused.value.message
    with pytest.raises(StorageError) as refused, db.write() as s:  # through the ORM as well
        record = s.scalars(select(ConsentRecord).where(ConsentRecord.purpose == "marketing")).one()
        record.notice_version += 1
    assert "append-only" in refused.value.message
    with pytest.raises(sqlcipher.IntegrityError, match="append-only"):  # and on a bare connection
        conn.execute("UPDATE consent_record SET recorded_at = '2000-01-01 00:00:00.000000'")
    assert dump(conn, "consent_record") == before

    # A withdrawal is a new record; the grant it replaces stays as it was.
    with db.write() as s:
        assert change_consent(
            s,
            member_id=member_id,
            purpose=Purpose.MARKETING,
            granted=False,
            notice=notice,
            staff_id=CASHIER,
        )
    after = dump(conn, "consent_record")
    assert after[:2] == before and len(after) == 3 and after[2][3] == 0  # granted = false

    # Erasure removes them.
    with db.write() as s:
        s.execute(text("DELETE FROM consent_record WHERE member_id = :m"), {"m": member_id})
    assert dump(conn, "consent_record") == []
    conn.close()
