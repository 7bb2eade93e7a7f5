"""HQ's join page over real HTTP against a real HQ process: the customer's side of the QR.

Forged, expired and reused tokens get a friendly page; the SMS code proves the phone;
optional consents are optional and membership is not; guessing codes locks; a double
submit makes one member; a form without its CSRF token is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from join_world import (
    APP,
    GUIDE,
    MALL,
    JoinWorld,
    Visitor,
    join_world,
    member_code,
    refused_kind,
)
from sync_world import now

from posapp.domain.invite import ALPHABET
from posapp.domain.ladder import Channel

PHONE = "13812345678"
E164 = "+8613812345678"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[JoinWorld]:
    with join_world(tmp_path) as started:
        yield started


def _forged(token: str) -> str:
    last = ALPHABET.index(token[-1])
    return token[:-1] + ALPHABET[last + 1 if last < len(ALPHABET) - 1 else last - 1]


def _members(world: JoinWorld) -> int:
    return int(world.scalar("SELECT count(*) FROM member"))


def test_the_page_is_light_self_contained_chinese_first_and_locked_down(world: JoinWorld) -> None:
    token = world.token()
    zh = Visitor(f"{world.base}/j/{token}").open()
    assert zh.status_code == 200
    assert len(zh.content) < 50_000
    assert '<html lang="zh-CN">' in zh.text and "静安店" in zh.text and "获取验证码" in zh.text
    assert "<script" not in zh.text.lower()
    # No external resource: nothing is loaded from anywhere but the page itself.
    assert not re.search(r"(src|href)=\"(https?:)?//", zh.text)
    assert "<details" in zh.text and "会员隐私政策" in zh.text  # full notice one tap away
    boxes = re.findall(r'<input type="checkbox" name="consent" value="(\w+)"[^>]*>', zh.text)
    assert boxes == ["membership", "marketing", "guide_contact"]
    assert "checked" not in zh.text  # nothing ticked for the customer
    csp = zh.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "form-action 'self'" in csp
    assert zh.headers["X-Frame-Options"] == "DENY"
    assert zh.headers["X-Content-Type-Options"] == "nosniff"
    assert "samesite=strict" in zh.headers["Set-Cookie"].lower()
    assert "httponly" in zh.headers["Set-Cookie"].lower()
    en = Visitor(f"{world.base}/j/{token}", lang="en-US,en;q=0.9,zh;q=0.5").open()
    assert '<html lang="en">' in en.text and "Send code" in en.text and "privacy notice" in en.text
    guide = Visitor(f"{world.base}/g/{world.token(serial=2, channel=Channel.GUIDE_CONTACT)}").open()
    assert guide.status_code == 200 and "专属导购" in guide.text


def test_the_page_names_the_brand_from_hqs_settings_and_never_our_software(
    world: JoinWorld, tmp_path: Path
) -> None:
    token = world.token()
    zh = Visitor(f"{world.base}/j/{token}").open()
    en = Visitor(f"{world.base}/j/{token}", lang="en-US,en;q=0.9").open()
    assert "<title>加入会员</title>" in zh.text and "<title>Join us</title>" in en.text
    assert "posapp" not in zh.text.lower() and "posapp" not in en.text.lower()
    with join_world(tmp_path / "branded", POSAPP_HQ_BRAND_NAME="悦己生活") as branded:
        page = Visitor(f"{branded.base}/j/{branded.token()}").open()
        assert "<title>加入悦己生活会员</title>" in page.text


def test_forged_expired_and_unknown_tokens_get_a_friendly_page_and_no_trace(
    world: JoinWorld,
) -> None:
    token = world.token()
    cases = {
        _forged(token): ("invalid", 404),
        world.token(day=now().date() - timedelta(days=30)): ("expired", 410),
        "not-a-token": ("invalid", 404),
        "0" * 30: ("invalid", 404),
    }
    for bad, (kind, status) in cases.items():
        page = Visitor(f"{world.base}/j/{bad}").open()
        assert (page.status_code, refused_kind(page)) == (status, kind), bad
        assert "收银员" in page.text and "Traceback" not in page.text and "token." not in page.text
        assert page.headers["Content-Type"].startswith("text/html")
    # Posting to a forged token enrols no one either (its form token is bound to the invite).
    visitor = Visitor(f"{world.base}/j/{token}")
    visitor.open()
    visitor.url = f"{world.base}/j/{_forged(token)}"
    assert refused_kind(visitor.post("send", PHONE)) == "csrf"
    assert world.code_for(E164) is None and _members(world) == 0


def test_joining_with_the_sms_code_enrols_once_and_a_declined_option_still_enrols(
    world: JoinWorld,
) -> None:
    token = world.token()
    visitor = Visitor(f"{world.base}/j/{token}")
    assert visitor.open().status_code == 200
    sent = visitor.post("send", PHONE, consents=("membership", "guide_contact"))
    assert sent.status_code == 200 and "138****5678" in sent.text
    code = world.code_for(E164)
    assert code is not None and len(code) == 6
    assert PHONE not in (world.data / f"hq-{world.base.rsplit(':', 1)[1]}.log").read_text()
    # Marketing declined: the customer still becomes a member.
    joined = visitor.post("join", PHONE, code=code, consents=("membership", "guide_contact"))
    assert joined.status_code == 200, joined.text
    number = member_code(joined)
    assert number is not None and "欢迎加入" in joined.text and "<svg" in joined.text
    assert MALL.replace("{token}", token) in joined.text
    assert APP.replace("{token}", token).replace("&", "&amp;") in joined.text
    member = world.scalar("SELECT id FROM member WHERE phone_e164 = :p", p=E164)
    assert world.scalar("SELECT member_code FROM member WHERE id = :m", m=member) == number
    assert world.scalar("SELECT guide_id FROM member WHERE id = :m", m=member) == GUIDE
    granted = {
        purpose: world.scalar(
            "SELECT granted FROM consent WHERE member_id = :m AND purpose = :p", m=member, p=purpose
        )
        for purpose in ("membership", "marketing", "guide_contact")
    }
    assert granted == {"membership": True, "marketing": False, "guide_contact": True}
    assert (
        world.scalar("SELECT min(notice_version) FROM consent WHERE member_id = :m", m=member) == 1
    )
    # A double tap on "join" (or a reload of the POST) answers the same member, once.
    again = visitor.post("join", PHONE, code=code, consents=("membership", "guide_contact"))
    assert member_code(again) == number
    assert _members(world) == 1
    assert world.scalar("SELECT count(*) FROM redemption") == 1
    # The token is spent: the page says so, and someone else cannot take it over.
    stranger = Visitor(f"{world.base}/j/{token}")
    assert refused_kind(stranger.open()) == "used"
    visitor.csrf = visitor.csrf or stranger.csrf
    assert refused_kind(visitor.post("send", "13955550001")) == "used"
    taken = visitor.post("join", "13955550001", code=code)
    assert member_code(taken) is None and number not in taken.text
    assert _members(world) == 1


def test_declining_membership_consent_does_not_enrol(world: JoinWorld) -> None:
    visitor = Visitor(f"{world.base}/j/{world.token()}")
    visitor.open()
    refused = visitor.post("send", PHONE, consents=("marketing",))
    assert "同意加入会员" in refused.text and world.code_for(E164) is None
    visitor.post("send", PHONE, consents=("membership",))
    code = world.code_for(E164)
    assert code is not None
    declined = visitor.post("join", PHONE, code=code, consents=("marketing", "guide_contact"))
    assert declined.status_code == 200 and member_code(declined) is None
    assert "同意加入会员" in declined.text
    assert _members(world) == 0 and world.scalar("SELECT count(*) FROM consent") == 0


def test_guessing_the_sms_code_locks_the_phone_out_of_the_invite(world: JoinWorld) -> None:
    visitor = Visitor(f"{world.base}/j/{world.token()}")
    visitor.open()
    visitor.post("send", PHONE)
    code = world.code_for(E164)
    assert code is not None
    wrong = [f"{(int(code) + n) % 1_000_000:06d}" for n in range(1, 6)]
    answers = [visitor.post("join", PHONE, code=guess).text for guess in wrong]
    assert all("验证码不正确" in a for a in answers[:4]) and "还可以再试 1 次" in answers[3]
    assert "已锁定" in answers[4]
    locked = visitor.post("join", PHONE, code=code)  # even the right code, now
    assert "已锁定" in locked.text and member_code(locked) is None
    assert "已锁定" in visitor.post("send", PHONE).text  # and no fresh code to start over
    assert _members(world) == 0


def test_a_form_without_its_csrf_token_or_cookie_is_refused(world: JoinWorld) -> None:
    url = f"{world.base}/j/{world.token()}"
    visitor = Visitor(url)
    visitor.open()
    assert refused_kind(visitor.post("send", PHONE, csrf="")) == "csrf"
    assert refused_kind(visitor.post("send", PHONE, csrf=visitor.csrf[:-1] + "x")) == "csrf"
    cookieless = Visitor(url, csrf=visitor.csrf)  # the field copied, the cookie not
    page = cookieless.post("send", PHONE)
    assert page.status_code == 403 and refused_kind(page) == "csrf"
    assert world.code_for(E164) is None


def test_a_referral_invite_credits_the_friend_who_shared_it(world: JoinWorld) -> None:
    first = Visitor(f"{world.base}/j/{world.token()}")
    first.open()
    first.post("send", PHONE)
    referrer_code = member_code(first.post("join", PHONE, code=world.code_for(E164) or ""))
    assert referrer_code is not None
    friend = Visitor(f"{world.base}/j/{world.token(referrer=referrer_code)}")
    assert "您的朋友邀请您" in friend.open().text
    friend.post("send", "13955550001")
    joined = friend.post("join", "13955550001", code=world.code_for("+8613955550001") or "")
    assert member_code(joined) is not None
    referrer = world.scalar("SELECT id FROM member WHERE member_code = :c", c=referrer_code)
    assert world.scalar("SELECT referrals FROM member WHERE id = :m", m=referrer) == 1
    assert (
        world.scalar("SELECT referred_by FROM member WHERE phone_e164 = '+8613955550001'")
        == referrer
    )
