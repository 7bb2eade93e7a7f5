"""The gateway: one token for every HQ process, retries, timeouts, refusals, no secrets logged."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import update
from wecom_harness import Wired

from posapp.hq.db import HqDatabase
from posapp.hq.wecom.config import WeComSettings
from posapp.hq.wecom.errors import WeComRefused, WeComUnavailable
from posapp.hq.wecom.fake import FakeWeCom
from posapp.hq.wecom.gateway import SdkGateway
from posapp.hq.wecom.models import WeComToken
from posapp.timefmt import utcnow


def test_two_hq_processes_fetch_the_token_once(
    hq_url: str, db: HqDatabase, fake: FakeWeCom, settings: WeComSettings
) -> None:
    other = HqDatabase(hq_url)  # a second process: its own engine on the same database
    try:
        gateways = [SdkGateway(settings, d.transaction) for d in (db, other) for _ in range(3)]
        start = threading.Barrier(len(gateways))
        failures: list[BaseException] = []

        def work(gateway: SdkGateway) -> None:
            start.wait()
            try:
                for _ in range(3):
                    gateway.add_contact_way("guide.a", "s")
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=work, args=(g,)) for g in gateways]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        assert fake.count("gettoken") == 1
        assert fake.count("externalcontact/add_contact_way") == 18
    finally:
        other.close()


def test_a_refused_token_is_replaced_at_once_and_the_call_goes_through(
    fake: FakeWeCom, gateway: SdkGateway
) -> None:
    gateway.add_contact_way("guide.a", "s1")
    fake.expire_tokens()  # WeCom answers 40014 for the kept token
    assert gateway.add_contact_way("guide.a", "s2").qr_code
    assert fake.count("gettoken") == 2


def test_a_token_near_its_expiry_is_renewed_early(
    fake: FakeWeCom, gateway: SdkGateway, db: HqDatabase
) -> None:
    gateway.add_contact_way("guide.a", "s1")
    with db.transaction() as session:
        session.execute(update(WeComToken).values(expires_at=utcnow() + timedelta(seconds=240)))
    gateway.add_contact_way("guide.a", "s2")
    assert fake.count("gettoken") == 2
    gateway.add_contact_way("guide.a", "s3")
    assert fake.count("gettoken") == 2


def test_busy_is_retried_then_given_up_as_unavailable(fake: FakeWeCom, gateway: SdkGateway) -> None:
    gateway.add_contact_way("guide.a", "warm")
    fake.busy(2)
    assert gateway.add_contact_way("guide.a", "s").config_id
    fake.fail(-1, times=3)
    with pytest.raises(WeComUnavailable):
        gateway.add_contact_way("guide.a", "s")


def test_a_hang_past_the_timeout_and_garbage_are_retried(
    fake: FakeWeCom, gateway: SdkGateway
) -> None:
    gateway.add_contact_way("guide.a", "warm")
    fake.hang(1.5)
    fake.garbage()
    assert gateway.add_contact_way("guide.a", "s").config_id
    fake.hang(1.0, times=3)
    with pytest.raises(WeComUnavailable):
        gateway.add_contact_way("guide.a", "s")


def test_a_refusal_names_our_rule_and_is_not_retried(fake: FakeWeCom, gateway: SdkGateway) -> None:
    gateway.add_contact_way("guide.a", "warm")
    fake.fail(84061)
    with pytest.raises(WeComRefused) as refused:
        gateway.external_contact("wm-nobody")
    assert (refused.value.code, refused.value.rule) == (84061, "not_a_contact")
    fake.fail(40096)
    with pytest.raises(WeComRefused) as refused:
        gateway.external_contact("wm-nobody")
    assert refused.value.rule == "unknown_customer"
    assert fake.count("externalcontact/get") == 2


def test_a_wrong_secret_is_refused_not_retried(
    fake: FakeWeCom, settings: WeComSettings, db: HqDatabase
) -> None:
    wrong = SdkGateway(settings.model_copy(update={"secret": SecretStr("nope")}), db.transaction)
    with pytest.raises(WeComRefused) as refused:
        wrong.add_contact_way("guide.a", "s")
    assert refused.value.rule == "bad_secret" and fake.count("gettoken") == 1


def test_neither_the_secret_nor_the_token_is_logged(
    fake: FakeWeCom, wired: Wired, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        wired.gateway.add_contact_way("guide.a", "s")
        fake.busy(5)
        with pytest.raises(WeComUnavailable):
            wired.gateway.add_contact_way("guide.a", "s")
    tokens = list(fake.tokens)
    assert tokens and caplog.records
    for record in caplog.records:
        text = record.getMessage()
        assert fake.secret not in text and all(t not in text for t in tokens)


def test_with_wecom_gone_nothing_raises_into_hq(
    wired: Wired, fake: FakeWeCom, settings: WeComSettings
) -> None:
    from wecom_harness import GUIDE_A, new_invite

    from posapp.hq.wecom.contact_ways import set_guide_userid, sweep_contact_ways
    from posapp.hq.wecom.transfers import Move, poll_transfers, transfer_customers

    token = new_invite(wired.db, member_id="m-1")
    sent = fake.customer_adds("G11", "wm-1", userid="guide.a")
    fake.stop()  # connection refused from now on
    assert wired.qr(token) is None
    assert set_guide_userid(wired.db.transaction, wired.gateway, GUIDE_A, "guide.a").rule == (
        "unavailable"
    )
    assert wired.deliver(sent) and wired.process() == 1
    assert sweep_contact_ways(wired.db.transaction, wired.gateway).left == 1
    move = Move("wm-1", "guide.a", "guide.b", "m-1")
    assert [o.status for o in transfer_customers(wired.db.transaction, wired.gateway, [move])] == [
        "unsent"
    ]
    assert poll_transfers(wired.db.transaction, wired.gateway) == []
