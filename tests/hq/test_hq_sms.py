"""SMS codes for the join page: expiry, limits per phone and per invite, lock after wrong tries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from posapp.hq.db import HqDatabase
from posapp.hq.migrate import migrate
from posapp.hq.sms import FileSmsSender, SmsRefused, SmsRules, check_code, issue_code, last_code

KEY = b"test-master-key"
RULES = SmsRules(code_minutes=5, resend_seconds=30, per_phone_per_hour=3, per_invite=4, max_tries=3)
T0 = datetime(2026, 11, 25, 9, 0, 0)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[HqDatabase]:
    database = HqDatabase(f"sqlite:///{tmp_path / 'hq.db'}")
    migrate(database)
    yield database
    database.close()


def _issue(db: HqDatabase, token: str, phone: str, at: datetime) -> str:
    with db.transaction() as s:
        return issue_code(s, token=token, phone_e164=phone, master_key=KEY, now=at, rules=RULES)


def _check(db: HqDatabase, token: str, phone: str, code: str, at: datetime) -> str:
    with db.transaction() as s:
        try:
            check_code(s, token=token, phone_e164=phone, code=code, master_key=KEY, now=at,
                       rules=RULES)  # fmt: skip
        except SmsRefused as refused:
            return refused.reason
    return "ok"


def test_a_code_expires(db: HqDatabase) -> None:
    code = _issue(db, "T1", "+8613800000001", T0)
    assert _check(db, "T1", "+8613800000001", code, T0 + timedelta(minutes=6)) == "expired"
    assert _check(db, "T1", "+8613800000001", code, T0 + timedelta(minutes=4)) == "ok"
    assert _check(db, "T2", "+8613800000001", code, T0) == "no_code"  # bound to its invite


def test_resends_are_spaced_and_limited_per_invite_and_per_phone(db: HqDatabase) -> None:
    _issue(db, "T1", "+8613800000001", T0)
    with pytest.raises(SmsRefused, match="too_soon"):
        _issue(db, "T1", "+8613800000001", T0 + timedelta(seconds=10))
    for n in range(2, 5):  # other phones on the same invite, up to its limit of 4
        _issue(db, "T1", f"+861380000000{n}", T0)
    with pytest.raises(SmsRefused, match="invite_limit"):
        _issue(db, "T1", "+8613800000009", T0)
    for n in range(2, 4):  # the first phone on other invites: 3 an hour
        _issue(db, f"U{n}", "+8613800000001", T0)
    with pytest.raises(SmsRefused, match="phone_limit"):
        _issue(db, "U9", "+8613800000001", T0)
    _issue(db, "U9", "+8613800000001", T0 + timedelta(hours=1))  # a new hour


def test_wrong_tries_lock_for_good(db: HqDatabase, tmp_path: Path) -> None:
    code = _issue(db, "T1", "+8613800000001", T0)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert [_check(db, "T1", "+8613800000001", wrong, T0) for _ in range(3)] == [
        "wrong", "wrong", "locked"]  # fmt: skip
    assert _check(db, "T1", "+8613800000001", code, T0) == "locked"
    with pytest.raises(SmsRefused, match="locked"):
        _issue(db, "T1", "+8613800000001", T0 + timedelta(minutes=1))
    sender = FileSmsSender(tmp_path / "out.jsonl")
    sender.send_code("+8613800000001", "123456", language="zh-CN")
    assert last_code(tmp_path / "out.jsonl", "+8613800000001") == "123456"
    assert (tmp_path / "out.jsonl").stat().st_mode & 0o777 == 0o600
