"""Smaller trust rules at HQ: one member per code, templates, times with their zone."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from hq_harness import Hq, now
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from posapp.domain import invite as invites
from posapp.domain.errors import InvalidInput
from posapp.domain.ladder import Channel
from posapp.hq import admin, assignment
from posapp.hq.config import HqSettings
from posapp.hq.join import CSRF_COOKIE


def test_a_member_code_names_one_member_and_looking_it_up_has_no_choice(hq: Hq) -> None:
    hq.store("a")
    till = hq.counter("a")
    first = till.enrol("+8613800000001")["payload"]
    second = till.enrol("+8613800000002")["payload"]
    till.push()
    hq.applied()
    with hq.db.read() as session:
        assert assignment.find_member(session, first["member_code"]).id == first["member_id"]
        assert assignment.find_member(session, second["member_code"]).id == second["member_id"]
    with pytest.raises(IntegrityError), hq.db.write() as session:  # the schema says it too
        session.execute(
            text("UPDATE member_alias SET member_code = :c WHERE local_id = :m"),
            {"c": first["member_code"], "m": second["member_id"]},
        )
    with hq.db.write() as session:  # erased aliases keep '' and do not clash with each other
        for member in (first, second):
            admin.erase_member(session, member_id=member["member_id"], requested_by="t",
                               now=now(), master_key=b"test-master-key-0123456789")  # fmt: skip
    assert hq.rows("SELECT count(*) FROM member_alias WHERE member_code = ''")[0][0] == 2


@pytest.mark.parametrize(
    "template",
    ["javascript:alert(1)//{token}", "data:text/html,{token}", "//evil.example/{token}",
     "https:///{token}", "ftp://files.example/{token}", "https://m.example.cn/j/{token} x"],
)  # fmt: skip
def test_channel_templates_must_be_web_urls(hq: Hq, template: str) -> None:
    with pytest.raises(InvalidInput), hq.db.write() as session:
        admin.set_rules(session, kind="channels", body={"micro_mall": template}, now=now())
    with hq.db.write() as session:
        admin.set_rules(session, kind="channels", now=now(),
                        body={"micro_mall": "https://mall.example.cn/m?i={token}"})  # fmt: skip


def test_hq_time_carries_its_zone(hq: Hq) -> None:
    hq.store("a")
    till = hq.counter("a")
    till.sale()
    answers = [till.push(), hq.client.get("/v1/sync/changes", headers=till.auth).json()]
    for answer in answers:
        assert datetime.fromisoformat(answer["hq_time"]).utcoffset() == timedelta(0), answer


def test_the_join_page_adopts_only_its_own_nonce_and_marks_the_cookie_secure_over_https(
    hq: Hq,
) -> None:
    hq.store("a")
    till = hq.counter("a")
    day = now().date()
    token = invites.issue(
        invites.Invite(Channel.MINI_PROGRAM, till.store_no, day, device_no=1, serial=1),
        till.invite_key,
    )
    planted = "a" * 40  # well-formed, but not one HQ made
    browser = TestClient(hq.client.app)
    browser.cookies.set(CSRF_COOKIE, planted)
    page = browser.get(f"/j/{token}")
    nonce = page.cookies.get(CSRF_COOKIE)
    assert page.status_code == 200 and nonce and nonce != planted
    assert f'value="{planted}.' not in page.text and f'value="{nonce}.' in page.text
    assert "secure" not in page.headers["set-cookie"].lower()  # plain HTTP here
    browser.cookies.set(CSRF_COOKIE, nonce)
    kept = browser.get(f"/j/{token}")
    assert kept.cookies.get(CSRF_COOKIE) == nonce  # its own nonce is kept across pages
    secure = TestClient(hq.client.app, base_url="https://hq.example.cn")
    assert "secure" in secure.get(f"/j/{token}").headers["set-cookie"].lower()


def test_trusted_proxies_are_checked_at_start() -> None:
    with pytest.raises(ValidationError):
        HqSettings(trusted_proxies="10.0.0.1, not-an-address")
    assert len(HqSettings(trusted_proxies="10.0.0.1, 192.168.0.0/24").trusted_networks) == 2
    assert HqSettings().trusted_networks == ()
