"""Invite tokens: short enough for WeChat, impossible to forge, precise about every refusal."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posapp.domain.errors import InvalidInput
from posapp.domain.invite import ALPHABET, TOKEN_LENGTH, Invite, issue, peek, verify
from posapp.domain.ladder import Channel
from posapp.domain.member_code import new_member_code

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
TODAY = date(2026, 11, 25)

staff_invites = st.builds(
    Invite,
    channel=st.sampled_from(list(Channel)),
    store_no=st.integers(0, (1 << 24) - 1),
    issue_day=st.dates(min_value=date(2024, 1, 1), max_value=date(2199, 1, 1)),
    device_no=st.integers(0, (1 << 12) - 1),
    staff_no=st.integers(0, (1 << 20) - 1),
    serial=st.integers(0, (1 << 28) - 1),
)
referrals = st.builds(
    Invite,
    channel=st.sampled_from(list(Channel)),
    store_no=st.integers(0, (1 << 24) - 1),
    issue_day=st.dates(min_value=date(2024, 1, 1), max_value=date(2199, 1, 1)),
    referrer_code=st.randoms(use_true_random=False).map(new_member_code),  # type: ignore[arg-type]
)


@settings(max_examples=300)
@given(st.one_of(staff_invites, referrals))
def test_round_trip_and_wechat_limits(invite: Invite) -> None:
    token = issue(invite, KEY)
    assert len(token) == TOKEN_LENGTH <= 30  # WeCom state ≤ 30, mini-program scene ≤ 32
    assert all(ch in ALPHABET for ch in token)
    assert verify(token, KEY, today=invite.issue_day, store_no=invite.store_no) == invite
    assert peek(token) == invite


@settings(max_examples=500)
@given(st.one_of(staff_invites, referrals), st.integers(0, TOKEN_LENGTH - 1), st.integers(1, 61))
def test_any_single_changed_character_is_rejected(invite: Invite, pos: int, shift: int) -> None:
    token = issue(invite, KEY)
    changed = token[:pos] + ALPHABET[(ALPHABET.index(token[pos]) + shift) % 62] + token[pos + 1 :]
    with pytest.raises(InvalidInput) as err:
        verify(changed, KEY, today=invite.issue_day)
    assert err.value.rule in {
        "bad_mac",
        "bad_alphabet",
        "unknown_version",
        "bad_layout",
        "other_store",
        "expired",
    }


def _token(**kw: object) -> tuple[Invite, str]:
    invite = Invite(Channel.MINI_PROGRAM, 42, TODAY, device_no=1, staff_no=7, serial=99, **kw)  # type: ignore[arg-type]
    return invite, issue(invite, KEY)


@pytest.mark.parametrize(
    ("mangle", "kwargs", "rule"),
    [
        (lambda t: t[:-1], {}, "wrong_length"),
        (lambda t: t + "0", {}, "wrong_length"),
        (lambda t: "", {}, "wrong_length"),
        (lambda t: t[:-1] + "-", {}, "bad_alphabet"),
        (lambda t: t[:-1] + "码", {}, "bad_alphabet"),
        (lambda t: "z" * TOKEN_LENGTH, {}, "bad_alphabet"),
        (lambda t: "0" * TOKEN_LENGTH, {}, "unknown_version"),
        (lambda t: t, {"key": OTHER_KEY}, "bad_mac"),
        (lambda t: t, {"store_no": 43}, "other_store"),
        (lambda t: t, {"today": TODAY + timedelta(days=8)}, "expired"),
    ],
)
def test_each_refusal_is_named(mangle: object, kwargs: dict[str, object], rule: str) -> None:
    _, token = _token()
    args: dict[str, object] = {"key": KEY, "today": TODAY, **kwargs}
    key = args.pop("key")
    with pytest.raises(InvalidInput) as err:
        verify(mangle(token), key, **args)  # type: ignore[operator, arg-type]
    assert (err.value.field, err.value.rule) == ("token", rule)


def test_expiry_is_seven_days_by_default_and_configurable() -> None:
    invite, token = _token()
    assert verify(token, KEY, today=TODAY + timedelta(days=7)) == invite
    with pytest.raises(InvalidInput):
        verify(token, KEY, today=TODAY + timedelta(days=2), valid_days=1)
    referral = Invite(Channel.MINI_PROGRAM, 42, TODAY, referrer_code=new_member_code())
    assert verify(issue(referral, KEY), KEY, today=TODAY + timedelta(days=300)) == referral


def test_fields_that_do_not_fit_are_refused_when_issuing() -> None:
    with pytest.raises(ValueError, match="store_no"):
        issue(Invite(Channel.APP, 1 << 24, TODAY), KEY)
    with pytest.raises(ValueError, match="referrer"):
        issue(Invite(Channel.APP, 1, TODAY, referrer_code="1234"), KEY)


# --- which QRs each rung gets ----------------------------------------------------------------


def _on(rung: str, **standing: object) -> tuple[object, ...]:
    from posapp.domain.invite import offers_for
    from posapp.domain.ladder import CustomerStanding, LadderRules, Rung, assess

    days = standing.pop("days", ())
    has_guide = bool(standing.get("has_guide", False))
    assessment = assess(CustomerStanding(purchase_days=days, **standing), LadderRules(), TODAY)  # type: ignore[arg-type]
    assert assessment.rung is Rung(rung)
    return offers_for(assessment, has_guide=has_guide)


def test_each_rung_is_offered_the_next_channel() -> None:
    from posapp.domain.invite import Offer

    recent = tuple(TODAY - timedelta(days=d) for d in (1, 20, 40, 60, 80, 100))
    assert _on("walk_in", is_member=False) == (Offer(Channel.MINI_PROGRAM),)
    assert _on("member", is_member=True, days=recent[:1]) == (Offer(Channel.MICRO_MALL),)
    assert _on("regular", is_member=True, days=recent[:2], has_guide=True) == (
        Offer(Channel.MICRO_MALL),
        Offer(Channel.GUIDE_CONTACT),
        Offer(Channel.MINI_PROGRAM, referral=True),  # referrals count toward super-member
    )
    assert _on("regular", is_member=True, days=recent[:2], has_guide=True, referrals=1) == (
        Offer(Channel.MICRO_MALL),
        Offer(Channel.GUIDE_CONTACT),
    )
    assert _on(
        "super_member", is_member=True, days=recent, has_guide=True, referrals=2,
        lifetime_spend_fen=500_000,
    ) == (Offer(Channel.APP), Offer(Channel.MINI_PROGRAM, referral=True))  # fmt: skip


def test_invite_urls_come_from_hq_templates_with_defaults() -> None:
    from posapp.domain.invite import DEFAULT_CHANNEL_URLS, invite_url

    token = "A" * TOKEN_LENGTH
    assert invite_url({}, Channel.APP, token) == DEFAULT_CHANNEL_URLS["app"].replace(
        "{token}", token
    )
    custom = {"app": "https://brand.cn/app?from={token}"}
    assert invite_url(custom, Channel.APP, token) == f"https://brand.cn/app?from={token}"
    assert invite_url(custom, Channel.MICRO_MALL, token).endswith("/j/" + token)
