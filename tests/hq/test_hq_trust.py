"""Smaller trust rules at HQ: one member per code, templates, times with their zone."""

from __future__ import annotations

import pytest
from hq_harness import Hq, now
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from posapp.hq import admin, assignment


def test_a_member_code_names_one_member_and_looking_it_up_has_no_choice(hq: Hq) -> None:
    hq.store("a")
    till = hq.counter("a")
    first = till.enrol("+8613800000001")["payload"]
    second = till.enrol("+8613800000002")["payload"]
    till.push()
    hq.applied()
    with hq.db.read() as session:
        assert assignment.find_member(session, first["member_code"]).id == first["member_id"]
        assert assignment.find_member(session, second["member_code"]).id == second["member_id"]
    with pytest.raises(IntegrityError), hq.db.write() as session:  # the schema says it too
        session.execute(
            text("UPDATE member_alias SET member_code = :c WHERE local_id = :m"),
            {"c": first["member_code"], "m": second["member_id"]},
        )
    with hq.db.write() as session:  # erased aliases keep '' and do not clash with each other
        for member in (first, second):
            admin.erase_member(session, member_id=member["member_id"], requested_by="t",
                               now=now(), master_key=b"test-master-key-0123456789")  # fmt: skip
    assert hq.rows("SELECT count(*) FROM member_alias WHERE member_code = ''")[0][0] == 2
