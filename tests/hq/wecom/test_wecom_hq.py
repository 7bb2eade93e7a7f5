"""WeCom wired into a real HQ app (SQLite and PostgreSQL), the fake WeCom over real HTTP:
the callback route, the worker behind it, the admin API, reassignments, erasure, the feed,
and a WeCom that is off, down or talking garbage."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from wecom_harness import GUIDE_A, GUIDE_B, STORE, new_invite

from posapp.hq import admin
from posapp.hq.config import HqSettings
from posapp.hq.db import HqDatabase
from posapp.hq.main import create_app
from posapp.hq.models import Change, MemberStore
from posapp.hq.wecom.config import WeComSettings
from posapp.hq.wecom.fake import TRANSFER_DELAY_S, FakeWeCom
from posapp.hq.wecom.models import WeComInbox, WeComLink, WeComTransfer
from posapp.hq.wecom.service import WeComService
from posapp.timefmt import utcnow


def eventually(check: Callable[[], object], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("not within the time")
        time.sleep(0.05)


@dataclass
class Hq:
    client: TestClient
    db: HqDatabase
    admin_key: str

    @property
    def wecom(self) -> WeComService:
        service = self.client.app.state.wecom  # type: ignore[attr-defined]
        assert service is not None
        return service

    def as_admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}

    def deliver(self, callback: object, **params: str) -> object:
        query = callback.query | params  # type: ignore[attr-defined]
        return self.client.post("/wecom/callback", params=query, content=callback.body)  # type: ignore[attr-defined]

    def links(self) -> list[WeComLink]:
        with self.db.read() as session:
            return list(session.scalars(select(WeComLink).order_by(WeComLink.id)))

    def inbox(self) -> list[WeComInbox]:
        with self.db.read() as session:
            return list(session.scalars(select(WeComInbox).order_by(WeComInbox.id)))

    def member_changes(self, member_id: str) -> list[dict[str, object]]:
        with self.db.read() as session:
            rows = session.scalars(
                select(Change.data).where(Change.kind == "member", Change.key == member_id)
            )
            return [json.loads(r) for r in rows]

    def assign(self, member_id: str, guide_id: str) -> None:
        answer = self.client.post(f"/v1/members/{member_id}/guide", json={"guide_id": guide_id},
                                  headers=self.as_admin())  # fmt: skip
        assert answer.status_code == 200, answer.text


def _app(db: HqDatabase, hq_settings: HqSettings, wecom: WeComSettings) -> Iterator[Hq]:
    with db.write() as session:
        key = admin.add_credential(session, kind="admin", name="test", now=utcnow())
    app = create_app(hq_settings, db, wecom_settings=wecom)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Hq(client, db, key)


@pytest.fixture
def hq(db: HqDatabase, hq_settings: HqSettings, settings: WeComSettings) -> Iterator[Hq]:
    yield from _app(db, hq_settings, settings)


def _connected(hq: Hq) -> None:
    for staff_id, userid in ((GUIDE_A, "guide.a"), (GUIDE_B, "guide.b")):
        answer = hq.client.put(f"/v1/staff/{staff_id}/wecom", json={"userid": userid},
                               headers=hq.as_admin())  # fmt: skip
        assert answer.status_code == 200, answer.text
        assert answer.json()["card_qr"]


def _member_with_invite(hq: Hq, member_id: str) -> str:
    token = new_invite(hq.db, member_id=member_id)
    with hq.db.transaction() as session:
        session.add(MemberStore(member_id=member_id, store_id=STORE))
    return token


def _added_guide_a(hq: Hq, fake: FakeWeCom, member_id: str, external_userid: str) -> None:
    """The member (of the store, with guide A since before) added guide A through their
    invite's contact QR, and HQ has processed it."""
    token = _member_with_invite(hq, member_id)
    hq.assign(member_id, GUIDE_A)
    assert hq.wecom.invite_qr(token, GUIDE_A, STORE, utcnow() + timedelta(days=7))
    hq.deliver(fake.customer_adds(token, external_userid))
    eventually(lambda: any(link.member_id == member_id for link in hq.links()))


def test_the_callback_url_is_verified_and_a_forged_check_is_refused(
    hq: Hq, fake: FakeWeCom
) -> None:
    check = fake.verification("echo-4711")
    answer = hq.client.get("/wecom/callback", params=check)
    assert answer.status_code == 200 and answer.text == "echo-4711"  # no quotes, no newline
    forged = check | {"msg_signature": "0" * 40}
    assert hq.client.get("/wecom/callback", params=forged).status_code == 403


def test_an_add_is_answered_at_once_stored_once_and_processed_behind_the_answer(
    hq: Hq, fake: FakeWeCom
) -> None:
    _connected(hq)
    token = _member_with_invite(hq, "m-1")
    assert hq.wecom.invite_qr(token, GUIDE_A, STORE, utcnow() + timedelta(days=7))
    sent = fake.customer_adds(token, "wm-1")
    first = hq.deliver(sent)
    assert (first.status_code, first.text) == (200, "success")  # type: ignore[attr-defined]
    retry = hq.deliver(sent)  # WeCom's retry of the same event
    assert (retry.status_code, retry.text) == (200, "success")  # type: ignore[attr-defined]
    eventually(lambda: len(hq.links()) == 1 and hq.inbox()[0].status == "done")
    assert len(hq.inbox()) == 1
    [link] = hq.links()
    assert (link.member_id, link.staff_id, link.userid) == ("m-1", GUIDE_A, "guide.a")
    assert len(fake.welcomes) == 1
    # The member's new data goes down to the store, the contact with it.
    [view] = [c for c in hq.member_changes("m-1") if c.get("wecom_since")]
    assert view["wecom_guide_id"] == GUIDE_A


def test_a_forged_or_garbled_delivery_is_403_and_nothing_is_stored(hq: Hq, fake: FakeWeCom) -> None:
    token = _member_with_invite(hq, "m-2")
    sent = fake.customer_adds(token, "wm-2", userid="guide.a")
    assert hq.deliver(sent, msg_signature="f" * 40).status_code == 403  # type: ignore[attr-defined]
    other = FakeWeCom(corp_id=fake.corp_id, callback_token="not-ours")  # not started: no server
    forged = other.callback({"ChangeType": "add_external_contact", "UserID": "guide.a",
                             "ExternalUserID": "wm-x", "State": token})  # fmt: skip
    assert hq.deliver(forged).status_code == 403  # type: ignore[attr-defined]
    answer = hq.client.post("/wecom/callback", params=sent.query, content=b"<xml>garbage")
    assert answer.status_code == 403
    assert hq.inbox() == []


def test_a_reassignment_moves_the_customer_in_wecom_and_the_store_hears_of_it(
    hq: Hq, fake: FakeWeCom
) -> None:
    _connected(hq)
    _added_guide_a(hq, fake, "m-3", "wm-3")
    hq.assign("m-3", GUIDE_B)  # committed: the worker follows it into WeCom
    eventually(lambda: len(fake.transfers) == 1 and _transfers(hq) == ["waiting"])
    [moved] = fake.transfers
    assert (moved.external_userid, moved.handover, moved.takeover) == ("wm-3", "guide.a", "guide.b")
    assert hq.wecom.follow_assignments() == []  # asked once, not again
    fake.advance(TRANSFER_DELAY_S + 60)
    hq.wecom.hourly()
    open_links = [link for link in hq.links() if link.ended_at is None]
    assert [(link.userid, link.staff_id) for link in open_links] == [("guide.b", GUIDE_B)]
    assert hq.member_changes("m-3")[-1]["wecom_guide_id"] == GUIDE_B


def test_a_customer_who_removes_the_guide_reaches_the_store_for_the_guides_win_back(
    hq: Hq, fake: FakeWeCom
) -> None:
    _connected(hq)
    _added_guide_a(hq, fake, "m-9", "wm-9")
    eventually(lambda: hq.member_changes("m-9")[-1]["wecom_since"] is not None)
    fake.advance(60)  # WeCom's events are a second apart at least (same second: a retry)
    hq.deliver(fake.customer_removes("guide.a", "wm-9"))
    eventually(lambda: hq.member_changes("m-9")[-1]["wecom_removed_at"] is not None)
    removed = hq.member_changes("m-9")[-1]
    assert removed["wecom_since"] is None and removed["wecom_guide_id"] == GUIDE_A
    token = new_invite(hq.db, member_id="m-9")  # the guide wins them back: added again
    assert hq.wecom.invite_qr(token, GUIDE_A, STORE, utcnow() + timedelta(days=7))
    fake.advance(60)
    hq.deliver(fake.customer_adds(token, "wm-9"))
    eventually(lambda: hq.member_changes("m-9")[-1]["wecom_since"] is not None)
    assert hq.member_changes("m-9")[-1]["wecom_removed_at"] is None


def test_the_guides_store_hears_when_the_guide_is_on_wecom_and_when_they_left(
    hq: Hq, fake: FakeWeCom
) -> None:
    def staff_changes() -> list[dict[str, object]]:
        with hq.db.read() as session:
            rows = session.scalars(
                select(Change.data).where(Change.kind == "staff", Change.key == GUIDE_A)
            )
            return [json.loads(r) for r in rows]

    before = len(staff_changes())
    _connected(hq)
    after = staff_changes()
    assert len(after) > before and after[-1]["wecom_connected"] is True
    answer = hq.client.post(f"/v1/staff/{GUIDE_A}/wecom/departed", headers=hq.as_admin())
    assert answer.status_code == 200, answer.text
    assert staff_changes()[-1]["wecom_connected"] is False


def test_erasure_ends_the_link_and_later_events_for_the_person_are_dropped(
    hq: Hq, fake: FakeWeCom
) -> None:
    _connected(hq)
    _added_guide_a(hq, fake, "m-4", "wm-4")
    answer = hq.client.post("/v1/members/m-4/erase", headers=hq.as_admin())
    assert answer.status_code == 200, answer.text
    [link] = hq.links()
    assert link.end_reason == "erased" and link.external_userid == "" and link.ended_at
    hq.deliver(fake.customer_removes("guide.a", "wm-4"))
    eventually(lambda: hq.inbox() and hq.inbox()[-1].status == "dropped")


def test_wecom_down_or_garbage_breaks_no_route_loses_nothing_and_is_retried(
    hq: Hq, fake: FakeWeCom
) -> None:
    _connected(hq)
    token = _member_with_invite(hq, "m-5")
    hq.assign("m-5", GUIDE_A)
    hq.wecom.invite_qr(token, GUIDE_A, STORE, utcnow() + timedelta(days=7))
    added = fake.customer_adds(token, "wm-5")
    fake.garbage(times=1000)
    assert hq.deliver(added).text == "success"  # type: ignore[attr-defined]
    eventually(lambda: len(hq.links()) == 1)  # the link needs no WeCom call
    assert hq.client.get("/healthz").status_code == 200
    later = new_invite(hq.db, member_id="m-6")
    assert hq.wecom.invite_qr(later, GUIDE_A, STORE, utcnow() + timedelta(days=7)) is None
    hq.assign("m-5", GUIDE_B)
    eventually(lambda: _transfers(hq) == ["unsent"])
    fake.calm()
    hq.wecom.hourly()  # the unsent transfer goes now (or the worker's retry took it)
    eventually(lambda: _transfers(hq) == ["waiting"])
    assert len(fake.transfers) == 1  # sent once, never twice
    fake.hang(5.0, times=20)  # a WeCom slower than HQ's timeout (0.5 s)
    started = time.monotonic()
    assert hq.wecom.invite_qr(later, GUIDE_A, STORE, utcnow() + timedelta(days=7)) is None
    assert time.monotonic() - started < 5.0
    assert hq.client.get("/healthz").status_code == 200


def _transfers(hq: Hq) -> list[str]:
    with hq.db.read() as session:
        return list(session.scalars(select(WeComTransfer.status).order_by(WeComTransfer.id)))


def test_without_wecom_configured_nothing_calls_it_and_hq_serves_as_before(
    db: HqDatabase, hq_settings: HqSettings, fake: FakeWeCom
) -> None:
    for hq in _app(db, hq_settings, WeComSettings(corp_id="", secret="")):
        assert hq.client.app.state.wecom is None  # type: ignore[attr-defined]
        assert hq.client.get("/wecom/callback", params=fake.verification()).status_code == 404
        answer = hq.client.put(f"/v1/staff/{GUIDE_A}/wecom", json={"userid": "guide.a"},
                               headers=hq.as_admin())  # fmt: skip
        assert answer.status_code == 409 and answer.json()["error"] == "wecom_off"
        assert hq.client.get("/healthz").status_code == 200
    assert fake.calls == []


def test_the_report_counts_invites_shown_adds_kept_contacts_removals_and_transfers(
    hq: Hq, fake: FakeWeCom
) -> None:
    _connected(hq)
    kept, lost = _member_with_invite(hq, "m-7"), _member_with_invite(hq, "m-8")
    never = new_invite(hq.db)
    for token in (kept, lost, never):
        assert hq.wecom.invite_qr(token, GUIDE_A, STORE, utcnow() + timedelta(days=7))
    hq.assign("m-7", GUIDE_A)
    hq.deliver(fake.customer_adds(kept, "wm-7"))
    hq.deliver(fake.customer_adds(lost, "wm-8"))
    eventually(lambda: len(hq.links()) == 2)
    hq.deliver(fake.customer_removes("guide.a", "wm-8"))
    eventually(lambda: any(link.end_reason == "removed" for link in hq.links()))
    hq.assign("m-7", GUIDE_B)
    eventually(lambda: len(fake.transfers) == 1 and _transfers(hq) == ["waiting"])
    fake.customer_answers("wm-7", 3)  # the customer refuses the new guide
    fake.advance(TRANSFER_DELAY_S + 60)
    hq.wecom.hourly()
    with hq.db.transaction() as session:  # the add of m-7 was 40 days ago, and it stands
        link = session.scalars(select(WeComLink).where(WeComLink.member_id == "m-7")).one()
        link.since = utcnow() - timedelta(days=40)
    answer = hq.client.get("/v1/reports/wecom", params={"days": 60}, headers=hq.as_admin())
    assert answer.status_code == 200, answer.text
    by_guide = {(r["store_id"], r["guide_id"]): r for r in answer.json()["by_guide"]}
    a, b = by_guide[(STORE, GUIDE_A)], by_guide[(STORE, GUIDE_B)]
    assert (a["invites_shown"], a["added"], a["removed"]) == (3, 2, 1)
    assert (a["settled_30_days"], a["kept_30_days"]) == (1, 1)
    assert (b["transfers_done"], b["transfers_refused"]) == (0, 1)
    assert answer.json()["totals"]["added"] == 2
