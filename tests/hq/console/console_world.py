"""The console's people and shops for HQ-side tests: two regions' stores with members, one
person per role, each with their own browser-like client (cookies of their own)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import pyotp
from fastapi.testclient import TestClient
from hq_harness import Hq, now

from posapp.hq.console import audit, users

PASSWORD = "correct horse battery staple"
EAST_PHONE, WEST_PHONE = "+8613800000001", "+8613900000002"
EAST_NAME, WEST_NAME = "王小明", "李西西"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


@dataclass
class Person:
    """One person's browser: their cookies, and the TOTP secret they enrolled (if any)."""

    client: TestClient
    username: str
    totp: str | None = None
    last_code_at: float = 0.0

    def next_code(self) -> str:
        """A code HQ has not seen yet: each code opens one session, so a second sign-in within
        the same 30 s uses the next step's (HQ allows one step of clock drift)."""
        assert self.totp
        at = max(time.time(), self.last_code_at + 30)
        self.last_code_at = at
        return pyotp.TOTP(self.totp).at(at)

    def login(self, password: str = PASSWORD) -> Any:
        form = self.client.get("/console/login")
        return self.client.post(
            "/console/login",
            data={"csrf": csrf_of(form.text), "username": self.username, "password": password},
            follow_redirects=False,
        )

    def sign_in(self) -> None:
        """Password, then the second factor (enrolled on the way, for a brand admin)."""
        answer = self.login()
        assert answer.status_code == 303, answer.text
        step = self.client.get("/console/login/code", follow_redirects=False)
        if step.status_code == 303:
            assert step.headers["location"] == "/console"
            return
        secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', step.text)
        if secret:
            self.totp = secret.group(1)
        assert self.totp, step.text
        done = self.client.post(
            "/console/login/code",
            data={"csrf": csrf_of(step.text), "code": self.next_code()},
            follow_redirects=False,
        )
        assert done.status_code == 303 and done.headers["location"] == "/console", done.text

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, follow_redirects=False, **kwargs)

    def post(self, path: str, data: dict[str, str], *, page: str | None = None) -> Any:
        """Post a form as the page at ``page`` (default: the form's own path) would."""
        origin = self.client.get(page or path)
        return self.client.post(path, data={"csrf": csrf_of(origin.text), **data},
                                follow_redirects=False)  # fmt: skip


@dataclass
class World:
    hq: Hq
    people: dict[str, Person]
    members: dict[str, str]  # east, west -> member id
    codes: dict[str, str]  # east, west -> member code

    def person(self, role: str) -> Person:
        return self.people[role]


def client_of(hq: Hq, *, https: bool = True) -> TestClient:
    return TestClient(hq.client.app, base_url="https://testserver" if https else "http://testserver",
                      raise_server_exceptions=False)  # fmt: skip


def build(hq: Hq, *, sign_in: bool = True) -> World:
    """Stores east and west (another region), a member in each, and one person per role:
    admin, east (a regional manager of store east), analyst, privacy."""
    hq.store("east")
    hq.store("west")
    ids, codes = {}, {}
    for store, phone, name in (("east", EAST_PHONE, EAST_NAME), ("west", WEST_PHONE, WEST_NAME)):
        till = hq.counter(store)
        enrolled = till.enrol(phone, name=name)
        till.sale(member_id=enrolled["payload"]["member_id"], amount_fen=12_300)
        till.sale()
        till.push()
        ids[store] = enrolled["payload"]["member_id"]
        codes[store] = enrolled["payload"]["member_code"]
    hq.applied()
    with hq.db.write() as session:
        from sqlalchemy import select

        from posapp.hq.models import Member, MemberAlias

        for store, local in list(ids.items()):
            canonical = session.scalar(
                select(MemberAlias.member_id).where(MemberAlias.local_id == local)
            )
            ids[store] = canonical or local
            codes[store] = session.get(Member, ids[store]).member_code
        for username, role, scope in (
            ("admin", "brand_admin", ()),
            ("east", "regional_manager", ("east",)),
            ("analyst", "analyst", ()),
            ("privacy", "privacy_officer", ()),
        ):
            users.add_user(session, username=username, password=PASSWORD, role=role, now=now(),
                           stores=scope, who=audit.Who("test"))  # fmt: skip
    people = {name: Person(client_of(hq), name) for name in ("admin", "east", "analyst", "privacy")}
    if sign_in:
        for person in people.values():
            person.sign_in()
    return World(hq, people, ids, codes)
