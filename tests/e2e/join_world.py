"""A real HQ process with one store, a guide and channel templates pointing at it: the
world the join-page tests (over HTTP and in a real browser) share."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import requests
from hq_load import MASTER_KEY, free_port, hq_process
from sqlalchemy import text
from sync_world import now

from posapp.domain import invite as invites
from posapp.domain.ladder import Channel
from posapp.hq import admin
from posapp.hq.db import HqDatabase
from posapp.hq.migrate import migrate
from posapp.hq.sms import OUTBOX_NAME, last_code

STORE = "a"
GUIDE = "a-guide"
GUIDE_NO_HINT = "王芳"
MALL = "https://mall.example.cn/m/{token}"
APP = "https://app.example.cn/get?i={token}"


@dataclass
class JoinWorld:
    base: str
    hq_db: HqDatabase
    data: Path
    partner_key: str
    store_no: int
    guide_no: int

    def token(self, *, day: date | None = None, serial: int = 1, referrer: str | None = None,
              channel: Channel = Channel.MINI_PROGRAM) -> str:  # fmt: skip
        """A token as the store's counter would sign it (the key HQ derives for the store)."""
        issued = day or now().date()
        if referrer is not None:
            invite = invites.Invite(channel, self.store_no, issued, referrer_code=referrer)
        else:
            invite = invites.Invite(channel, self.store_no, issued, device_no=1,
                                    staff_no=self.guide_no, serial=serial)  # fmt: skip
        return invites.issue(invite, invites.store_key(MASTER_KEY.encode(), STORE))

    def code_for(self, phone: str) -> str | None:
        return last_code(self.data / OUTBOX_NAME, phone)

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.hq_db.read() as session:
            return session.execute(text(sql), params).scalar_one()


@contextmanager
def join_world(tmp_path: Path, **env: str) -> Iterator[JoinWorld]:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    hq_db = HqDatabase(url)
    migrate(hq_db)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with hq_db.write() as session:
        store = admin.add_store(session, store_id=STORE, name="静安店", now=now())
        admin.add_staff(session, store_id=STORE, name=GUIDE_NO_HINT, role="guide", pin="2468",
                        now=now(), staff_id=GUIDE)  # fmt: skip
        admin.set_rules(session, kind="channels", now=now(), body={
            "mini_program": base + "/j/{token}", "micro_mall": MALL, "app": APP,
            "guide_contact": base + "/g/{token}"})  # fmt: skip
        partner_key = admin.add_credential(session, kind="partner", name="wechat", now=now())
    with hq_db.read() as session:
        store_no = session.execute(
            text("SELECT store_no FROM store WHERE id = :s"), {"s": STORE}
        ).scalar_one()
        guide_no = session.execute(
            text("SELECT staff_no FROM staff WHERE id = :s"), {"s": GUIDE}
        ).scalar_one()
    del store
    try:
        with hq_process(url, tmp_path, port=port, env=env) as started:
            assert started == base
            yield JoinWorld(base, hq_db, tmp_path, partner_key, store_no, guide_no)
    finally:
        hq_db.close()


@dataclass
class Visitor:
    """A phone's browser without a browser: GETs the page and posts its form with requests."""

    url: str
    lang: str | None = None
    session: requests.Session = field(default_factory=requests.Session)
    csrf: str = ""

    def open(self) -> requests.Response:
        headers = {"Accept-Language": self.lang} if self.lang else {}
        page = self.session.get(self.url, headers=headers, timeout=30)
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        self.csrf = found.group(1) if found else ""
        return page

    def post(self, action: str, phone: str, *, code: str = "",
             consents: tuple[str, ...] = ("membership",), csrf: str | None = None) -> requests.Response:  # fmt: skip
        fields: list[tuple[str, str]] = [("csrf", self.csrf if csrf is None else csrf),
                                         ("phone", phone), ("code", code), ("action", action)]  # fmt: skip
        fields += [("consent", c) for c in consents]
        headers = {"Accept-Language": self.lang} if self.lang else {}
        return self.session.post(self.url, data=fields, headers=headers, timeout=30)


def refused_kind(page: requests.Response) -> str | None:
    found = re.search(r'id="refused" data-kind="(\w+)"', page.text)
    return found.group(1) if found else None


def member_code(page: requests.Response) -> str | None:
    found = re.search(r'id="welcome" data-member-code="(\d+)"', page.text)
    return found.group(1) if found else None
