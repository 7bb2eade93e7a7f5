"""One-time SMS codes that prove a customer owns the phone before HQ makes them a member.

The sender is pluggable (``SmsSender``): HQ ships a development sender that appends codes
to a file in its data dir (never to the log), and docs/join-page.md shows a real adapter.
Codes are kept only as keyed hashes, expire, are limited per phone and per invite, and a
phone that guesses wrong too often is locked out of that invite for good.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from posapp.hq.config import HqSettings
from posapp.hq.models import SmsCode
from posapp.hq.ratelimit import bump_window

CODE_DIGITS = 6
OUTBOX_NAME = "sms-outbox.jsonl"


class SmsSender(Protocol):
    """Delivers one code to one phone; raises ``SmsSendFailed`` when the provider refuses."""

    def send_code(self, phone_e164: str, code: str, *, language: str) -> None: ...


def forget_phone(sender: SmsSender, phone_e164: str) -> None:
    """After an erasure: a sender that keeps what it sent (the development one) forgets it."""
    forget = getattr(sender, "forget", None)
    if callable(forget):
        forget(phone_e164)


def sender_for(settings: HqSettings) -> SmsSender:
    """The sender ``POSAPP_HQ_SMS_SENDER`` names; only ``file`` ships (a real one is passed in)."""
    if settings.sms_sender != "file":
        raise ValueError(f"unknown SMS sender {settings.sms_sender!r}")
    return FileSmsSender(settings.data_dir / OUTBOX_NAME)


class SmsSendFailed(Exception):
    """The provider did not take the message (network, quota, bad number)."""


def message_text(code: str, language: str) -> str:
    if language.startswith("en"):
        return f"Your membership code is {code}. It expires in a few minutes; do not share it."
    return f"您的入会验证码是 {code}，几分钟内有效，请勿告诉他人。"


class FileSmsSender:
    """Development sender: one JSON line per message in ``path`` (0600), for demos and tests.

    Never for production: the file holds phone numbers and live codes.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def send_code(self, phone_e164: str, code: str, *, language: str) -> None:
        line = json.dumps(
            {"phone": phone_e164, "code": code, "text": message_text(code, language)},
            ensure_ascii=False,
        )
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")

    def forget(self, phone_e164: str) -> None:
        """An erased member's phone leaves this file too (rewritten whole, 0600)."""
        with self._lock:
            if not self.path.exists():
                return
            lines = self.path.read_text(encoding="utf-8").splitlines()
            kept = [line for line in lines if json.loads(line).get("phone") != phone_e164]
            if len(kept) == len(lines):
                return
            fresh = self.path.with_name(self.path.name + ".tmp")
            fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write("".join(line + "\n" for line in kept))
            os.replace(fresh, self.path)


def last_code(path: Path, phone_e164: str) -> str | None:
    """The newest code the development sender wrote for ``phone_e164`` (tests, demos)."""
    if not path.exists():
        return None
    found = None
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["phone"] == phone_e164:
            found = row["code"]
    return found


@dataclass(frozen=True)
class SmsRules:
    code_minutes: int = 5
    resend_seconds: int = 30
    per_phone_per_hour: int = 5
    per_invite: int = 5
    max_tries: int = 5
    per_referral_per_day: int = 30

    @classmethod
    def of(cls, settings: HqSettings) -> SmsRules:
        return cls(
            code_minutes=settings.sms_code_minutes,
            resend_seconds=settings.sms_resend_seconds,
            per_phone_per_hour=settings.sms_per_phone_per_hour,
            per_invite=settings.sms_per_invite,
            max_tries=settings.sms_max_tries,
            per_referral_per_day=settings.sms_per_referral_per_day,
        )


class SmsRefused(Exception):
    """Why no code was sent or accepted: ``too_soon``, ``phone_limit``, ``invite_limit``,
    ``locked``, ``no_code``, ``expired``, ``used``, ``wrong`` (with ``left`` tries) or
    ``send_failed``."""

    def __init__(self, reason: str, left: int = 0) -> None:
        super().__init__(reason)
        self.reason, self.left = reason, left


def _mac(master_key: bytes, *parts: str) -> str:
    return hmac.new(master_key, "/".join(("posapp/sms", *parts)).encode(), "sha256").hexdigest()


def new_code() -> str:
    return str(secrets.randbelow(10**CODE_DIGITS)).zfill(CODE_DIGITS)


def issue_code(
    session: Session,
    *,
    token: str,
    phone_e164: str,
    master_key: bytes,
    now: datetime,
    rules: SmsRules,
    referral: bool = False,
) -> str:
    """Record a fresh code for this invite and phone and return it for sending (after commit).

    A staff invite is one customer's: at most ``per_invite`` codes, ever. A member's referral
    QR serves every friend for a year: at most ``per_invite`` codes per friend's phone, and
    ``per_referral_per_day`` a day for the QR, so a shared QR is not an SMS cannon either.
    """
    key = _mac(master_key, "key", token, phone_e164)
    row = session.get(SmsCode, key, with_for_update=True)
    if row is not None and row.tries >= rules.max_tries:
        raise SmsRefused("locked")
    if row is not None and now < row.sent_at + timedelta(seconds=rules.resend_seconds):
        raise SmsRefused("too_soon")
    if referral:
        if row is not None and row.sends >= rules.per_invite:
            raise SmsRefused("invite_limit")
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        if bump_window(session, f"smsref:{token}@{day:%Y%m%d}", expires_at=day + timedelta(days=2),
                       now=now) > rules.per_referral_per_day:  # fmt: skip
            raise SmsRefused("invite_limit")
    else:
        sent_for_invite = session.scalar(
            select(func.coalesce(func.sum(SmsCode.sends), 0)).where(SmsCode.token == token)
        )
        if sent_for_invite >= rules.per_invite:
            raise SmsRefused("invite_limit")
    hour = now.replace(minute=0, second=0, microsecond=0)
    phone_key = f"sms:{_mac(master_key, 'phone', phone_e164)[:40]}@{hour:%Y%m%d%H}"
    if bump_window(session, phone_key, expires_at=hour + timedelta(hours=2), now=now) > (
        rules.per_phone_per_hour
    ):
        raise SmsRefused("phone_limit")
    code = new_code()
    code_hash = _mac(master_key, "code", key, code)
    expires = now + timedelta(minutes=rules.code_minutes)
    if row is None:
        session.add(SmsCode(key=key, token=token, code_hash=code_hash, sends=1, tries=0,
                            sent_at=now, expires_at=expires))  # fmt: skip
    else:
        row.code_hash, row.sends, row.sent_at, row.expires_at = (
            code_hash,
            row.sends + 1,
            now,
            expires,
        )
    return code


USED = "used:"  # a code_hash that starts so: the code was spent on a join


def _used_mark(master_key: bytes, key: str, code: str, nonce: str) -> str:
    return USED + _mac(master_key, "used", key, code, nonce)[: 64 - len(USED)]


def check_code(
    session: Session,
    *,
    token: str,
    phone_e164: str,
    code: str,
    master_key: bytes,
    now: datetime,
    rules: SmsRules,
    nonce: str = "",
) -> None:
    """Accept the code or raise ``SmsRefused``; a wrong guess is counted (commit the session).

    A code is used once (``use_code``). Only the very submission that spent it, sent again by
    the same browser (a double tap, a reload: the same ``nonce`` from its cookie), is
    accepted again, so it answers the same member and no one else can reopen the page.
    """
    key = _mac(master_key, "key", token, phone_e164)
    row = session.get(SmsCode, key, with_for_update=True)
    if row is None:
        raise SmsRefused("no_code")
    if row.code_hash.startswith(USED):
        if nonce and hmac.compare_digest(
            row.code_hash, _used_mark(master_key, key, code.strip(), nonce)
        ):
            return
        raise SmsRefused("used")
    if row.tries >= rules.max_tries:
        raise SmsRefused("locked")
    given = _mac(master_key, "code", key, code.strip())
    if not hmac.compare_digest(given, row.code_hash):
        row.tries += 1
        left = rules.max_tries - row.tries
        raise SmsRefused("wrong" if left > 0 else "locked", left)
    if now > row.expires_at:
        raise SmsRefused("expired")


def use_code(
    session: Session,
    *,
    token: str,
    phone_e164: str,
    code: str,
    master_key: bytes,
    now: datetime,
    rules: SmsRules,
    nonce: str = "",
) -> None:
    """Spend an accepted code, in the transaction that makes the member (or raise ``used``)."""
    check_code(session, token=token, phone_e164=phone_e164, code=code, master_key=master_key,
               now=now, rules=rules, nonce=nonce)  # fmt: skip
    key = _mac(master_key, "key", token, phone_e164)
    row = session.get(SmsCode, key, with_for_update=True)
    assert row is not None
    row.code_hash = _used_mark(master_key, key, code.strip(), nonce)
