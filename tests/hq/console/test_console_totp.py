"""Brand admins' TOTP secrets at rest, on SQLite and PostgreSQL: sealed under a key derived
from HQ's master key, still signing in, a secret stored before sealing read once and sealed,
and another master key failing closed (refused with a clear message, never a crash)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from console_world import Person, World, build, csrf_of
from fastapi.testclient import TestClient
from hq_harness import Hq
from sqlalchemy import select, text

from posapp.hq.config import HqSettings
from posapp.hq.console import totp_seal, users
from posapp.hq.main import create_app
from posapp.hq.models import AuditEntry, ConsoleUser

KEY = b"test-master-key-0123456789"  # conftest's hq_settings


@pytest.fixture
def world(hq: Hq) -> World:
    return build(hq)


def _stored(world: World) -> str:
    with world.hq.db.read() as session:
        return session.scalar(text("SELECT totp_secret FROM console_user WHERE username = 'admin'"))


def _second_browser(world: World, app: object | None = None) -> Person:
    admin = world.person("admin")
    client = TestClient(app or world.hq.client.app, base_url="https://testserver",
                        raise_server_exceptions=False)  # fmt: skip
    return Person(client, "admin", totp=admin.totp, last_code_at=admin.last_code_at)


def test_the_secret_in_the_database_is_sealed_and_signing_in_still_works(world: World) -> None:
    stored, secret = _stored(world), world.person("admin").totp
    assert secret and stored.startswith("v1:") and secret not in stored
    assert len(stored) <= 128
    with world.hq.db.read() as session:
        admin_id = users.user_id_of(session, "admin")
    assert totp_seal.unseal(KEY, stored, owner=admin_id) == secret
    with pytest.raises(totp_seal.Unreadable):  # bound to its owner: no use on another account
        totp_seal.unseal(KEY, stored, owner="someone-else")
    again = _second_browser(world)
    again.sign_in()
    assert again.get("/console/users").status_code == 200


def test_a_secret_stored_before_sealing_is_read_once_and_sealed(world: World) -> None:
    secret = world.person("admin").totp
    with world.hq.db.transaction() as session:
        session.execute(text("UPDATE console_user SET totp_secret = :s WHERE username = 'admin'"),
                        {"s": secret})  # fmt: skip
    again = _second_browser(world)
    again.sign_in()
    stored = _stored(world)
    assert stored.startswith("v1:") and secret not in stored
    with world.hq.db.transaction() as session:  # and at start, `posapp hq serve` seals them all
        session.execute(text("UPDATE console_user SET totp_secret = :s WHERE username = 'admin'"),
                        {"s": secret})  # fmt: skip
        assert users.seal_stored_secrets(session, KEY) == 1
        assert users.seal_stored_secrets(session, KEY) == 0
    assert _stored(world).startswith("v1:")


@pytest.fixture
def other_key_app(hq: Hq, hq_url: str, tmp_path: Path) -> Iterator[object]:
    """A second HQ process on the same database, started with another master key."""
    settings = HqSettings(data_dir=tmp_path / "other", database_url=hq_url,
                          master_key="not-the-key-the-secrets-were-sealed-with")  # fmt: skip
    yield create_app(settings, hq.db)


def test_another_master_key_fails_closed(world: World, other_key_app: object) -> None:
    wrong = _second_browser(world, other_key_app)
    assert wrong.login().status_code == 303
    step = wrong.get("/console/login/code")
    assert step.status_code == 200 and 'id="totp-secret"' not in step.text  # never re-enrols
    answer = wrong.client.post("/console/login/code",
                               data={"csrf": csrf_of(step.text), "code": wrong.next_code()},
                               follow_redirects=False)  # fmt: skip
    assert answer.status_code == 401 and "主密钥" in answer.text
    assert wrong.get("/console").status_code == 303  # not signed in
    with world.hq.db.read() as session:
        user = session.scalar(select(ConsoleUser).where(ConsoleUser.username == "admin"))
        assert user.failed_logins == 0 and user.locked_until is None  # not the person's fault
        assert (
            session.scalar(
                select(AuditEntry.actor).where(AuditEntry.action == "login.totp_unreadable")
            )
            == user.id
        )
    english = wrong.client.post("/console/login/code?lang=en",
                                data={"csrf": csrf_of(step.text), "code": wrong.next_code()})  # fmt: skip
    assert english.status_code == 401 and "master key" in english.text
    right = _second_browser(world)  # the right key still opens it (no code was spent)
    right.sign_in()
    assert right.get("/console").status_code == 200
