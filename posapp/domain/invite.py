"""The invite token inside every join QR: made offline at the counter, verified by HQ.

30 characters from ``[0-9A-Za-z]``: fits a WeChat mini-program ``scene`` (≤ 32) and a
WeCom contact-way ``state`` (≤ 30) as it is, so one form serves both. Inside, 22 bytes:

- 14 bytes of fields, most significant bit first: version (4 bits), kind (4: channel
  index, plus 8 for a member's referral invite), store number (24), then either
  device (12), staff (20), device-local serial (28), issue day (16) for a staff invite,
  or the referrer's member code (44), issue day (16) for a referral invite; zero padding.
- 8 bytes of HMAC-SHA256 over those 14 bytes with the store's invite key (64 bits),
  compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, timedelta

from posapp.domain.errors import InvalidInput
from posapp.domain.ladder import Assessment, Channel, Rung
from posapp.domain.member_code import CODE_LENGTH, is_member_code

VERSION = 1
TOKEN_LENGTH = 30
FIELD_BYTES = 14
MAC_BYTES = 8
EPOCH = date(2024, 1, 1)
INVITE_DAYS = 7
REFERRAL_DAYS = 365
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_INDEX = {ch: i for i, ch in enumerate(ALPHABET)}
_CHANNELS = [Channel.MINI_PROGRAM, Channel.MICRO_MALL, Channel.APP, Channel.GUIDE_CONTACT]
_REFERRAL = 8
# HQ's per-channel URL templates replace these; WeChat opens the mini-program from an
# ordinary-link QR whose prefix the brand registered, so the counter needs no online call.
DEFAULT_CHANNEL_URLS = {
    Channel.MINI_PROGRAM.value: "https://m.example.cn/j/{token}",
    Channel.MICRO_MALL.value: "https://m.example.cn/j/{token}",
    Channel.APP.value: "https://m.example.cn/j/{token}",
    Channel.GUIDE_CONTACT.value: "https://m.example.cn/g/{token}",
}
LIMITS = {"store_no": 1 << 24, "device_no": 1 << 12, "staff_no": 1 << 20, "serial": 1 << 28}


@dataclass(frozen=True, slots=True)
class Invite:
    """Who invited whom to which channel, and when. ``referrer_code`` marks a referral invite."""

    channel: Channel
    store_no: int
    issue_day: date
    device_no: int = 0
    staff_no: int = 0
    serial: int = 0
    referrer_code: str | None = None
    version: int = VERSION

    @property
    def is_referral(self) -> bool:
        return self.referrer_code is not None

    def expires_on(self, days: int | None = None) -> date:
        default = REFERRAL_DAYS if self.is_referral else INVITE_DAYS
        return self.issue_day + timedelta(days=default if days is None else days)


def _refuse(rule: str, message: str) -> InvalidInput:
    return InvalidInput("token", rule, message)


def _pack(invite: Invite) -> bytes:
    day = (invite.issue_day - EPOCH).days
    if not 0 <= day < 1 << 16:
        raise ValueError("issue day outside the token's range")
    for name, limit in LIMITS.items():
        if not 0 <= getattr(invite, name) < limit:
            raise ValueError(f"{name} does not fit in an invite token")
    kind = _CHANNELS.index(invite.channel)
    bits = invite.version
    if invite.referrer_code is not None:
        if not is_member_code(invite.referrer_code):
            raise ValueError("referrer code is not a member code")
        bits = (bits << 4 | kind | _REFERRAL) << 24 | invite.store_no
        bits = (bits << 44 | int(invite.referrer_code)) << 16 | day
        bits <<= 20
    else:
        bits = (bits << 4 | kind) << 24 | invite.store_no
        bits = (bits << 12 | invite.device_no) << 20 | invite.staff_no
        bits = (bits << 28 | invite.serial) << 16 | day
        bits <<= 4
    return bits.to_bytes(FIELD_BYTES, "big")


def _unpack(fields: bytes) -> Invite:
    bits = int.from_bytes(fields, "big")
    version = bits >> 108
    if version != VERSION:
        raise _refuse("unknown_version", f"Invite version {version} is not known here.")
    kind = bits >> 104 & 0xF
    if kind & ~_REFERRAL >= len(_CHANNELS):
        raise _refuse("bad_layout", "The invite names no known channel.")
    channel = _CHANNELS[kind & ~_REFERRAL]
    store_no = bits >> 80 & 0xFFFFFF
    if kind & _REFERRAL:
        code = str(bits >> 36 & (1 << 44) - 1).zfill(CODE_LENGTH)
        day = bits >> 20 & 0xFFFF
        if bits & 0xFFFFF or not is_member_code(code):
            raise _refuse("bad_layout", "The referral invite is malformed.")
        return Invite(channel, store_no, EPOCH + timedelta(days=day), referrer_code=code)
    if bits & 0xF:
        raise _refuse("bad_layout", "The invite is malformed.")
    return Invite(
        channel,
        store_no,
        EPOCH + timedelta(days=bits >> 4 & 0xFFFF),
        device_no=bits >> 68 & 0xFFF,
        staff_no=bits >> 48 & 0xFFFFF,
        serial=bits >> 20 & 0xFFFFFFF,
    )


def _mac(key: bytes, fields: bytes) -> bytes:
    return hmac.new(key, fields, hashlib.sha256).digest()[:MAC_BYTES]


def _encode(raw: bytes) -> str:
    number = int.from_bytes(raw, "big")
    chars = []
    for _ in range(TOKEN_LENGTH):
        number, digit = divmod(number, 62)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def _decode(token: str) -> bytes:
    if len(token) != TOKEN_LENGTH:
        raise _refuse(
            "wrong_length", f"An invite is {TOKEN_LENGTH} characters; this has {len(token)}."
        )
    number = 0
    for ch in token:
        digit = _INDEX.get(ch)
        if digit is None:
            raise _refuse("bad_alphabet", "An invite holds only letters and digits.")
        number = number * 62 + digit
    if number >> (8 * (FIELD_BYTES + MAC_BYTES)):
        raise _refuse("bad_alphabet", "This is not an invite.")
    return number.to_bytes(FIELD_BYTES + MAC_BYTES, "big")


def issue(invite: Invite, key: bytes) -> str:
    """The token for ``invite``, signed with the store's invite key."""
    fields = _pack(invite)
    return _encode(fields + _mac(key, fields))


def peek(token: str) -> Invite:
    """Read a token's fields without checking its MAC: only to find which store's key to use."""
    return _unpack(_decode(token)[:FIELD_BYTES])


def verify(
    token: str,
    key: bytes,
    *,
    today: date,
    store_no: int | None = None,
    valid_days: int | None = None,
) -> Invite:
    """The invite, if the token is well-formed, genuine, this store's and not expired."""
    raw = _decode(token)
    fields, mac = raw[:FIELD_BYTES], raw[FIELD_BYTES:]
    invite = _unpack(fields)
    if store_no is not None and invite.store_no != store_no:
        raise _refuse("other_store", "This invite belongs to another store.")
    if not hmac.compare_digest(mac, _mac(key, fields)):
        raise _refuse("bad_mac", "This invite was not made by the store it names.")
    if today > invite.expires_on(valid_days):
        raise _refuse("expired", "This invite has expired: ask the cashier for a new one.")
    if invite.issue_day > today + timedelta(days=1):
        raise _refuse("bad_layout", "This invite is dated in the future.")
    return invite


def store_key(master_key: bytes, store_id: str) -> bytes:
    """Each store's own invite-signing key, derived from HQ's master key so HQ need not
    store it; the store receives it once, at registration."""
    return hmac.new(master_key, b"posapp/invite-key/v1/" + store_id.encode(), "sha256").digest()


def invite_url(templates: dict[str, str], channel: Channel, token: str) -> str:
    """The URL the QR holds: HQ's template for the channel (or the default) around the token."""
    template = templates.get(channel.value) or DEFAULT_CHANNEL_URLS[channel.value]
    return template.replace("{token}", token)


@dataclass(frozen=True, slots=True)
class Offer:
    """One QR to show: a channel, or (``referral``) the member's own QR to pass to friends."""

    channel: Channel
    referral: bool = False


def offers_for(assessment: Assessment, *, has_guide: bool) -> tuple[Offer, ...]:
    """Which QRs the counter shows for a customer on this rung, first the main one:
    walk-in → mini-program; member → micro-mall; regular → micro-mall and their guide's
    contact; super-member → app. Regulars and super-members also get their referral QR
    when the ladder offers it (referrals count toward super-member)."""
    step = assessment.next_step
    offers = [Offer(step.channel)]
    if assessment.rung is Rung.REGULAR and has_guide:
        offers.append(Offer(Channel.GUIDE_CONTACT))
    if step.offer_referral and assessment.rung in (Rung.REGULAR, Rung.SUPER_MEMBER):
        offers.append(Offer(Channel.MINI_PROGRAM, referral=True))
    return tuple(offers)


# The identity `posapp --demo` gives its store, and what an unregistered counter signs with.
DEMO_MASTER_KEY = b"posapp demo master key: not a secret, never for a real brand"
DEMO_STORE_ID = "demo-store"
DEMO_STORE_NO = 1


@dataclass(frozen=True, slots=True)
class Signer:
    """What this counter signs invites with: HQ's numbers for store and device, the store's
    key. ``demo`` marks the built-in demo identity of a counter not registered with HQ."""

    store_no: int
    device_no: int
    key: bytes
    demo: bool = False


DEMO_SIGNER = Signer(DEMO_STORE_NO, 1, store_key(DEMO_MASTER_KEY, DEMO_STORE_ID), demo=True)
