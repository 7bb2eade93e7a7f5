"""Credentials, limits and logs: HQ keeps hashes, refuses clearly, and never logs personal data."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hq_harness import NOTICE, Hq, now

from posapp.domain import invite as invites
from posapp.domain.ladder import Channel
from posapp.hq import admin
from posapp.hq.config import HqSettings
from posapp.hq.db import HqDatabase
from posapp.hq.main import create_app
from posapp.hq.migrate import migrate
from posapp.hq.models import DeviceCode

PHONE = "+8613812345678"


def _register(hq: Hq, code: str) -> tuple[int, dict[str, object]]:
    answer = hq.client.post("/v1/devices/register", json={"code": code})
    return answer.status_code, answer.json()


def test_a_registration_code_works_once_and_expires(hq: Hq) -> None:
    hq.store("s1")
    with hq.db.write() as session:
        code = admin.device_code(session, store_id="s1", now=now(), minutes=60)
        stale = admin.device_code(session, store_id="s1", now=now(), minutes=60)
        row = session.get(DeviceCode, admin.hash_secret(stale))
        assert row is not None
        row.expires_at = now() - timedelta(minutes=1)
    status, body = _register(hq, code)
    assert status == 200
    assert _register(hq, code) == (
        422,
        {"error": "code.invalid", "message": _register(hq, code)[1]["message"]},
    )
    assert _register(hq, stale)[1]["error"] == "code.invalid"
    assert _register(hq, "NOSUCHCODE12")[1]["error"] == "code.invalid"
    secret = str(body["device_secret"])
    stored = hq.rows("SELECT secret_hash, previous_secret_hash FROM device")
    assert all(secret.split(".")[-1] not in str(v) for r in stored for v in r)


def test_revocation_and_rotation(hq: Hq) -> None:
    hq.store("s1")
    till = hq.counter("s1")
    old = till.auth
    rotated = hq.client.post("/v1/devices/rotate", headers=old).json()["device_secret"]
    new = {"Authorization": f"Bearer {rotated}"}
    assert (
        hq.client.get("/v1/sync/changes", headers=old).status_code == 200
    )  # until the new one is used
    assert hq.client.get("/v1/sync/changes", headers=new).status_code == 200
    assert hq.client.get("/v1/sync/changes", headers=old).status_code == 401  # rotation completed
    with hq.db.write() as session:
        admin.revoke_device(session, device_id=till.device_id, now=now())
    assert hq.client.get("/v1/sync/changes", headers=new).status_code == 401


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer x",
        "Basic abc",
        "Bearer d.nobody.secret",
        "Bearer z.kind.secret",
        "Bearer " + "a" * 300,
    ],
)
def test_bad_credentials_get_401_with_a_challenge(hq: Hq, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    answer = hq.client.get("/v1/sync/changes", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert answer.json()["error"] == "unauthenticated"


def test_each_credential_kind_does_only_its_own_work(hq: Hq) -> None:
    hq.store("s1")
    till = hq.counter("s1")
    partner, admin_ = hq.as_partner(), hq.as_admin()
    assert hq.client.post("/v1/sync/push", json={"events": []}, headers=partner).status_code == 403
    assert hq.client.get("/v1/sync/changes", headers=partner).status_code == 403
    assert hq.client.post("/v1/invites/redeem", json={}, headers=till.auth).status_code == 403
    assert hq.client.post("/v1/members/x/erase", headers=partner).status_code == 403
    assert hq.client.get("/v1/reports/rungs", headers=partner).status_code == 403
    assert hq.client.post("/v1/members/nobody/erase", headers=admin_).status_code == 404


@pytest.fixture
def strict_hq(tmp_path: Path) -> Iterator[Hq]:
    settings = HqSettings(
        data_dir=tmp_path / "hq", database_url=f"sqlite:///{tmp_path / 'hq.db'}",
        master_key="k" * 32, rate_limit_per_minute=5, max_body_bytes=20_000,
    )  # fmt: skip
    db = HqDatabase(settings.db_url)
    migrate(db)
    with TestClient(create_app(settings, db), raise_server_exceptions=False) as client:
        yield Hq(client, db)
    db.close()


def test_rate_limit_per_credential(strict_hq: Hq) -> None:
    hq = strict_hq
    hq.store("s1")
    a, b = hq.counter("s1"), hq.counter("s1")
    answers = [hq.client.get("/v1/sync/changes", headers=a.auth) for _ in range(6)]
    assert [r.status_code for r in answers[:5]] == [200] * 5
    limited = answers[5]
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.json()["error"] == "rate_limited"
    assert hq.client.get("/v1/sync/changes", headers=b.auth).status_code == 200


def test_bodies_too_large_malformed_or_too_many_events_are_refused_cleanly(strict_hq: Hq) -> None:
    hq = strict_hq
    hq.store("s1")
    till = hq.counter("s1")
    huge = hq.client.post(
        "/v1/sync/push",
        content=b"{" + b" " * 30_000 + b"}",
        headers={**till.auth, "Content-Type": "application/json"},
    )
    assert huge.status_code == 413 and huge.json()["error"] == "too_large"
    streamed = hq.client.post(
        "/v1/sync/push", content=iter([b'{"events": [', b" " * 25_000, b"]}"]),
        headers={**till.auth, "Content-Type": "application/json"},
    )  # fmt: skip
    assert streamed.status_code == 413
    for body in [b"{not json", b'{"events": "many"}', b'{"events": [{"seq": "one"}]}', b"[]"]:
        answer = hq.client.post(
            "/v1/sync/push", content=body, headers={**till.auth, "Content-Type": "application/json"}
        )
        assert answer.status_code == 422, body
        assert set(answer.json()) == {"error", "message"}
        assert "Traceback" not in answer.text and 'File "' not in answer.text


def test_more_than_500_events_are_refused(hq: Hq) -> None:
    hq.store("s1")
    till = hq.counter("s1")
    events = [till.sale() for _ in range(501)]
    answer = hq.client.post("/v1/sync/push", json={"events": events}, headers=till.auth)
    assert answer.status_code == 422
    assert hq.rows("SELECT count(*) FROM event")[0][0] == 0


def test_no_phone_name_token_or_secret_reaches_the_log(
    hq: Hq, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    hq.store("s1")
    till = hq.counter("s1")
    till.enrol(PHONE, name="李秘密")
    till.push()
    token = invites.issue(
        invites.Invite(
            Channel.MINI_PROGRAM, till.store_no, now().date(), device_no=1, staff_no=1, serial=9
        ),
        till.invite_key,
    )
    consents = [{"purpose": "membership", "granted": True, "notice": NOTICE}]
    hq.client.post("/v1/invites/redeem", json={"token": token, "phone": "13912345678", "consents": consents},
                   headers=hq.as_partner())  # fmt: skip
    hq.client.post("/v1/invites/redeem", json={"token": token[:-1] + "0", "phone": "13912345678",
                   "consents": consents}, headers=hq.as_partner())  # fmt: skip
    hq.client.get("/v1/sync/changes", headers={"Authorization": "Bearer d.wrong.s3cr3t-value"})
    member = hq.rows("SELECT id FROM member WHERE phone_e164 = :p", p=PHONE)[0][0]
    hq.client.post(f"/v1/members/{member}/erase", headers=hq.as_admin())
    text = "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records)
    for secret in [PHONE, "13812345678", "13912345678", "李秘密", token, "s3cr3t-value",
                   till.token.split(".")[-1], hq.partner_token.split(".")[-1], hq.admin_token.split(".")[-1]]:  # fmt: skip
        assert secret not in text, secret


def test_a_failed_statements_message_names_no_personal_data(hq: Hq) -> None:
    """Database errors reach logs (the projector logs what it could not apply): their
    text must not carry the statement's values."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError) as failed, hq.db.read() as session:
        session.execute(text("SELECT :phone FROM no_such_table"), {"phone": PHONE})
    assert "no_such_table" in str(failed.value) and PHONE not in str(failed.value)
