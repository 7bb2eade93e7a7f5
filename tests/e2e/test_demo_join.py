"""``posapp --demo``'s invites lead to its own HQ's join page: the whole loop, for real.

The demo's channel templates point at HQ's ``/j/<token>``; an invite issued at the counter
opens a 200 join page over HTTP, a customer joins with the development sender's SMS code,
and the counter sees the new member, with the guide who invited them, after a sync.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from join_world import Visitor, member_code

from posapp.demo import DemoWorld, lan_address, start_demo, where_invites_lead
from posapp.hq.sms import OUTBOX_NAME, last_code
from posapp.services.invites import channel_templates, invites_for_customer
from posapp.store.lookup import Lookup
from posapp.sync.engine import SyncEngine
from posapp.sync.registration import client_for, invite_signer

GUIDE = "demo-g1"
PHONE, E164 = "13912345678", "+8613912345678"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWorld]:
    started = start_demo(tmp_path_factory.mktemp("demo-join") / "demo", members=50)
    try:
        yield started
    finally:
        started.db.close()
        started.stop()


def test_the_demo_s_channel_templates_point_at_its_own_loopback_join_page(
    world: DemoWorld,
) -> None:
    assert world.join_base == f"{world.hq_url}/j/"
    assert world.join_base.startswith("http://127.0.0.1:")  # no --lan: loopback only
    with world.db.read() as session:
        templates = channel_templates(Lookup.within(session))
    page = world.join_base + "{token}"
    assert templates == {"mini_program": page, "micro_mall": page, "app": page,
                         "guide_contact": f"{world.hq_url}/g/{{token}}"}  # fmt: skip


def test_an_invite_from_the_counter_opens_the_join_page_and_its_member_reaches_the_counter(
    world: DemoWorld,
) -> None:
    signer = invite_signer(world.db, world.data_dir)
    assert not signer.demo  # the store's own key, from registering with the demo's HQ
    with world.db.write() as session:
        issued = invites_for_customer(session, signer, member_id=None, staff_id=GUIDE)
    url = issued[0].url
    assert url == world.join_base + issued[0].token
    page = requests.get(url, timeout=30)
    assert page.status_code == 200
    assert "示范门店" in page.text and "获取验证码" in page.text

    visitor = Visitor(url)
    assert visitor.open().status_code == 200
    sent = visitor.post("send", PHONE)
    assert sent.status_code == 200, sent.text
    code = last_code(world.data_dir / "hq" / OUTBOX_NAME, E164)
    assert code is not None
    welcome = visitor.post("join", PHONE, code=code)
    joined = member_code(welcome)
    assert welcome.status_code == 200 and joined is not None

    SyncEngine(world.db, client_for(world.db, world.data_dir)).run_once()
    row = (
        world.db.raw()
        .execute("SELECT member_code, guide_id FROM member WHERE phone_e164 = ?", (E164,))
        .fetchone()
    )
    assert row is not None and tuple(row) == (joined, GUIDE)


def test_the_demo_says_where_invites_lead_and_where_the_sms_codes_are(tmp_path: Path) -> None:
    outbox = tmp_path / "hq" / OUTBOX_NAME
    said = where_invites_lead("http://192.168.1.20:8/j/", outbox, lan=True)
    assert "customers on this network can join at http://192.168.1.20:8/j/…" in said
    assert f"SMS codes in {outbox}" in said
    assert "--lan" in where_invites_lead("http://127.0.0.1:8/j/", outbox, lan=False)
    offline = where_invites_lead("http://127.0.0.1:8/j/", outbox, lan=True)
    assert "no local network" in offline and "http://127.0.0.1:8/j/…" in offline


def test_the_lan_address_is_an_ipv4_address_and_loopback_when_offline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert isinstance(ipaddress.ip_address(lan_address()), ipaddress.IPv4Address)

    def unreachable(self: socket.socket, address: object) -> None:
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(socket.socket, "connect", unreachable)
    assert lan_address() == "127.0.0.1"
