"""The audit log from machines and the terminal, on SQLite and PostgreSQL: every changing
route of the app is audited (a request here makes its row) or listed with the reason it is
not, and every ``posapp hq`` command that changes HQ is on the log as ``cli:<os user>``.

A new changing route, or a new CLI command, fails here until it is one or the other."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hq_harness import NOTICE, Hq, now
from sqlalchemy import select

from posapp.cli import main as posapp_main
from posapp.domain import invite as invites
from posapp.domain.ladder import Channel
from posapp.hq import cli as hq_cli
from posapp.hq.config import HqSettings
from posapp.hq.console import audit
from posapp.hq.db import HqDatabase
from posapp.hq.main import create_app
from posapp.hq.migrate import migrate
from posapp.hq.models import AuditEntry
from posapp.hq.wecom.config import WeComSettings
from posapp.hq.wecom.fake import FakeWeCom

CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
PHONE, NAME, STAFF_NAME = "+8613812345678", "韩梅梅", "王芳芳"

# (method, path) → the audit action a request with an admin / partner key (or, for
# registration, a one-time code) makes: the console's words where the console does the same.
AUDITED = {
    ("POST", "/v1/devices/register"): "device.register",
    ("POST", "/v1/devices/{device_id}/revoke"): "device.revoke",
    ("POST", "/v1/invites/redeem"): "invite.redeem",
    ("POST", "/v1/members/{member}/guide"): "member.guide",
    ("POST", "/v1/members/{member_id}/erase"): "member.erase",
    ("PUT", "/v1/staff/{staff_id}/wecom"): "staff.wecom_userid",
    ("POST", "/v1/staff/{staff_id}/wecom/departed"): "staff.wecom_departed",
}
JOIN = "the customer's own enrolment on the join page: a redemption with its consents"
SIGN_IN = "the console's sign-in: its own rows (login.ok, login.bad_password, logout, …)"
NOT_AUDITED = {
    ("POST", "/v1/sync/push"): "a counter's facts: the event log keeps each, with device and seq",
    ("POST", "/v1/devices/rotate"): "a counter renewing its own secret: no data of HQ's changes",
    ("POST", "/v1/members/lookup"): "a counter's look-up: on its own log (GET /v1/admin/lookups)",
    ("POST", "/wecom/callback"): "WeCom's signed events: kept in wecom_inbox as they came",
    ("POST", "/j/{token}"): JOIN,
    ("POST", "/g/{token}"): JOIN,
    ("POST", "/console/login"): SIGN_IN,
    ("POST", "/console/login/code"): SIGN_IN,
    ("POST", "/console/logout"): SIGN_IN,
}
# The console's changes: each audited, walked by tests/hq/console/test_console_pages.py
# (test_every_changing_console_request_writes_an_audit_row), which fails on a new one.
CONSOLE = "/console/"


@pytest.fixture
def fake() -> Iterator[FakeWeCom]:
    with FakeWeCom() as running:
        yield running


def _wecom(fake: FakeWeCom) -> WeComSettings:
    return WeComSettings(corp_id=fake.corp_id, secret=fake.secret,
                         callback_token=fake.callback_token,
                         encoding_aes_key=fake.encoding_aes_key, api_base_url=fake.api_base_url,
                         timeout_s=0.5, retries=1, backoff_s=0.01)  # fmt: skip


@pytest.fixture
def hq(hq_settings: HqSettings, fake: FakeWeCom) -> Iterator[Hq]:
    """HQ with WeCom on (the fake), so the WeCom admin routes change something."""
    db = HqDatabase(hq_settings.db_url)
    migrate(db)
    app = create_app(hq_settings, db, wecom_settings=_wecom(fake))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Hq(client, db)
    db.close()


def _rows(hq: Hq, after: int = 0) -> list[AuditEntry]:
    with hq.db.read() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.id > after)
                                    .order_by(AuditEntry.id)))  # fmt: skip


def _last_id(hq: Hq) -> int:
    rows = _rows(hq)
    return rows[-1].id if rows else 0


def _every_route(routes: Any) -> Iterator[Any]:
    for route in routes:
        inner = getattr(route, "original_router", None)  # FastAPI ≥ 0.16x includes lazily
        yield from _every_route(inner.routes) if inner is not None else [route]


def _changing_routes(app: Any) -> set[tuple[str, str]]:
    """Every (method, path) of ``app.routes`` that may change something."""
    return {(method, route.path) for route in _every_route(app.routes)
            for method in set(getattr(route, "methods", None) or ()) & CHANGING}  # fmt: skip


def _key_id(token: str) -> str:
    return token.split(".")[1]


def test_every_changing_route_is_audited_or_says_why_not(hq: Hq) -> None:
    routes = _changing_routes(hq.client.app)
    unlisted = {r for r in routes if r not in AUDITED and r not in NOT_AUDITED
                and not r[1].startswith(CONSOLE)}  # fmt: skip
    assert not unlisted, f"a new changing route: audit it (AUDITED) or say why not: {unlisted}"
    assert set(AUDITED) | set(NOT_AUDITED) <= routes, "a listed route is gone: take it off"
    assert len(routes) > len(AUDITED) + len(NOT_AUDITED), "the console's own changes are there"

    hq.store("a", staff=2)
    till = hq.counter("a")
    enrolled = till.enrol(PHONE, name=NAME)
    till.push()
    hq.applied()
    member = enrolled["payload"]["member_id"]
    admin_actor = f"admin-key:{_key_id(hq.admin_token)}"
    partner_actor = f"partner-key:{_key_id(hq.partner_token)}"
    done: set[tuple[str, str]] = set()

    def expect(route: tuple[str, str], answer: Any, actor: str, target: str) -> AuditEntry:
        assert answer.status_code == 200, (route, answer.text)
        made = [r for r in _rows(hq, before) if r.action == AUDITED[route]]
        assert len(made) == 1, (route, [(r.action, r.actor) for r in _rows(hq, before)])
        row = made[0]
        assert (row.actor, row.target, row.address) == (actor, target, "testclient"), route
        assert PHONE not in row.detail and NAME not in row.detail, route
        done.add(route)
        return row

    before = _last_id(hq)
    with hq.db.write() as session:
        from posapp.hq import admin

        code = admin.device_code(session, store_id="a", now=now(), minutes=5)
    answer = hq.client.post("/v1/devices/register", json={"code": code, "device_name": "till 2"})
    second = answer.json().get("device_id", "")
    expect(("POST", "/v1/devices/register"), answer, f"device:{second}", second)

    before = _last_id(hq)
    answer = hq.client.post(f"/v1/devices/{second}/revoke", headers=hq.as_admin())
    assert expect(("POST", "/v1/devices/{device_id}/revoke"), answer, admin_actor,
                  second).store_id == "a"  # fmt: skip

    before = _last_id(hq)
    token = invites.issue(invites.Invite(Channel.MINI_PROGRAM, till.store_no, date.today(),
                                         device_no=1, staff_no=1, serial=till.seq + 1),
                          till.invite_key)  # fmt: skip
    answer = hq.client.post("/v1/invites/redeem", headers=hq.as_partner(), json={
        "token": token, "phone": "+8613900000009", "name": "李雷雷",
        "consents": [{"purpose": "membership", "granted": True, "notice": NOTICE}]})  # fmt: skip
    joined = answer.json().get("member_id", "")
    row = expect(("POST", "/v1/invites/redeem"), answer, partner_actor, joined)
    assert "+8613900000009" not in row.detail and "李雷雷" not in row.detail

    before = _last_id(hq)
    answer = hq.client.post(f"/v1/members/{member}/guide", json={"guide_id": "a-guide-1"},
                            headers=hq.as_admin())  # fmt: skip
    row = expect(("POST", "/v1/members/{member}/guide"), answer, admin_actor, member)
    assert json.loads(row.detail)["guide_id"] == "a-guide-1"

    before = _last_id(hq)
    answer = hq.client.put("/v1/staff/a-guide-1/wecom", json={"userid": "wang.fang"},
                           headers=hq.as_admin())  # fmt: skip
    row = expect(("PUT", "/v1/staff/{staff_id}/wecom"), answer, admin_actor, "a-guide-1")
    assert "wang.fang" not in row.detail

    before = _last_id(hq)
    answer = hq.client.post("/v1/staff/a-guide-1/wecom/departed", headers=hq.as_admin())
    expect(("POST", "/v1/staff/{staff_id}/wecom/departed"), answer, admin_actor, "a-guide-1")

    before = _last_id(hq)
    answer = hq.client.post(f"/v1/members/{member}/erase", headers=hq.as_admin())
    expect(("POST", "/v1/members/{member_id}/erase"), answer, admin_actor, member)

    assert done == set(AUDITED), f"audited routes not exercised: {set(AUDITED) - done}"
    # A refused change leaves no row: it is rolled back with what it would have changed.
    before = _last_id(hq)
    refused = hq.client.post(f"/v1/members/{member}/guide", json={"guide_id": "a-guide-0"},
                             headers=hq.as_admin())  # fmt: skip
    assert refused.status_code == 422 and _rows(hq, before) == []  # erased: nobody's to give


def test_a_staff_member_added_by_name_leaves_only_ids_on_the_log(hq: Hq, hq_url: str) -> None:
    hq.store("a", staff=0)
    assert posapp_main(["hq", "--db", hq_url, "staff", "add", "a", "--name", STAFF_NAME,
                        "--role", "guide", "--pin", "2468"]) == 0  # fmt: skip
    (row,) = [r for r in _rows(hq) if r.action == "staff.add"]
    assert STAFF_NAME not in f"{row.actor}{row.target}{row.detail}{row.address}"
    assert json.loads(row.detail) == {"role": "guide"} and row.store_id == "a"
    with hq.db.read() as session:  # nowhere on the log, whatever column
        texts = session.execute(select(AuditEntry.__table__)).all()
    assert all(STAFF_NAME not in str(value) for line in texts for value in line)


def _leaves(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> set[str]:
    found: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found |= _leaves(child, (*prefix, name))
    return found or {" ".join(prefix)}


CLI_AUDITED = {
    "store add": (["store", "add", "b", "--name", "北店"], "store.add", "b"),
    "store timezone": (["store", "timezone", "b", "Asia/Urumqi"], "store.timezone", "b"),
    "staff add": (["staff", "add", "b", "--name", STAFF_NAME, "--role", "guide", "--pin", "1357",
                   "--id", "b-1"], "staff.add", "b-1"),
    "device-code": (["device-code", "b"], "device.code", "b"),
    "device revoke": (["device", "revoke", "{device}"], "device.revoke", "{device}"),
    "partner-key": (["partner-key"], "key.partner", None),
    "admin-key": (["admin-key"], "key.admin", None),
    "rules set": (["rules", "set", "ladder", '{"regular_min_purchases": 4}'], "rules.set",
                  "ladder"),
    "user add": (["user", "add", "boss", "--role", "analyst", "--password-stdin"], "user.add",
                 None),
    "user deactivate": (["user", "deactivate", "boss"], "user.deactivate", None),
    "user reactivate": (["user", "reactivate", "boss"], "user.reactivate", None),
    "assign": (["assign", "--member", "{member}", "--guide", "b-1"], "member.guide", "{member}"),
    "wecom userid": (["wecom", "userid", "b-1", "wang.fang"], "staff.wecom_userid", "b-1"),
    "wecom departed": (["wecom", "departed", "b-1"], "staff.wecom_departed", "b-1"),
}  # fmt: skip
CLI_NOT_AUDITED = {
    "serve": "runs HQ; changes nothing itself",
    "migrate": "the schema, not the data (its own version table records it)",
    "purge": "rewrites what erasures left in the files; no row changes",
    "device list": "a read of ids and times: no personal data",
    "wecom run": "HQ's own worker round (WeCom's callbacks, transfers): no one's request",
}


def test_every_changing_cli_command_is_on_the_log_as_the_os_user(
    hq: Hq, hq_url: str, fake: FakeWeCom, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = argparse.ArgumentParser()
    hq_cli.add_parser(root.add_subparsers())
    commands = {c.removeprefix("hq ") for c in _leaves(root)}
    assert commands == set(CLI_AUDITED) | set(CLI_NOT_AUDITED), "a new command: audit it or say why"
    for name, value in {"CORP_ID": fake.corp_id, "SECRET": fake.secret,
                        "CALLBACK_TOKEN": fake.callback_token,
                        "ENCODING_AES_KEY": fake.encoding_aes_key,
                        "API_BASE_URL": fake.api_base_url, "RETRIES": "1"}.items():  # fmt: skip
        monkeypatch.setenv(f"POSAPP_HQ_WECOM_{name}", value)
    actor = audit.cli().actor
    assert actor.startswith("cli:") and len(actor) > 4
    hq.store("a")
    till = hq.counter("a")
    member = till.enrol(PHONE, name=NAME)["payload"]["member_id"]
    till.push()
    hq.applied()

    def fill(text: str) -> str:
        return text.replace("{device}", till.device_id).replace("{member}", member)

    for command, (argv, action, target) in CLI_AUDITED.items():
        monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
        before = _last_id(hq)
        code = posapp_main(["hq", "--db", hq_url, *map(fill, argv)])
        assert code == 0, command
        made = [r for r in _rows(hq, before) if r.action == action]
        assert len(made) == 1, (command, [r.action for r in _rows(hq, before)])
        row = made[0]
        assert (row.actor, row.address) == (actor, "cli"), command
        if target is not None:
            assert row.target == fill(target), command
        assert PHONE not in row.detail and NAME not in row.detail and STAFF_NAME not in row.detail
