"""``posapp --demo`` with its fake WeCom: a customer opens a guide's invite, joins with the
guide-contact consent, sees the guide's WeCom contact QR, presses "Add" in the fake WeCom,
and after the next sync the counter knows them as the guide's WeCom contact."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from join_world import Visitor

from posapp.demo import DemoWorld, start_demo
from posapp.domain.invite import Offer
from posapp.domain.ladder import Channel
from posapp.hq.sms import OUTBOX_NAME, last_code
from posapp.services.invites import issue_invite
from posapp.sync.engine import SyncEngine
from posapp.sync.registration import client_for, invite_signer

GUIDE = "demo-g1"
PHONE, E164 = "13912345670", "+8613912345670"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[DemoWorld]:
    started = start_demo(tmp_path / "demo", members=20)
    try:
        yield started
    finally:
        started.db.close()
        started.stop()


def _contact(world: DemoWorld) -> tuple[str | None, str | None] | None:
    SyncEngine(world.db, client_for(world.db, world.data_dir)).run_once()
    return (
        world.db.raw()
        .execute("SELECT wecom_guide_id, wecom_since FROM member WHERE phone_e164 = ?", (E164,))
        .fetchone()
    )


def test_the_demo_shows_the_guide_qr_and_an_add_in_the_fake_wecom_reaches_the_counter(
    world: DemoWorld,
) -> None:
    assert world.wecom is not None
    with world.db.write() as session:
        issued = issue_invite(session, invite_signer(world.db, world.data_dir),
                              offer=Offer(Channel.GUIDE_CONTACT), staff_id=GUIDE)  # fmt: skip
    SyncEngine(world.db, client_for(world.db, world.data_dir)).run_once()  # HQ learns the invite
    visitor = Visitor(issued.url)
    assert "/g/" in issued.url and visitor.open().status_code == 200
    consents = ("membership", "guide_contact")
    visitor.post("send", PHONE, consents=consents)
    code = last_code(world.data_dir / "hq" / OUTBOX_NAME, E164)
    assert code is not None
    welcome = visitor.post("join", PHONE, code=code, consents=consents)
    found = re.search(r'id="wecom-qr" src="([^"]+)"', welcome.text)
    assert found is not None, welcome.text[-1000:]
    assert requests.get(found.group(1), timeout=10).headers["Content-Type"] == "image/svg+xml"
    scan = found.group(1).replace("/qr/", "/scan/").removesuffix(".svg")
    assert requests.post(scan, timeout=30).status_code == 200  # "Add" in the fake WeCom
    deadline = time.monotonic() + 60
    while (row := _contact(world)) is None or row[1] is None:
        assert time.monotonic() < deadline, f"not a WeCom contact at the counter: {row}"
        time.sleep(0.5)
    assert row[0] == GUIDE
