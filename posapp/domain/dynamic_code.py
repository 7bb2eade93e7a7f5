"""The member code that changes every 30 seconds, so a screenshot of it is worth nothing.

What the member's phone shows and the counter's scanner types is one string of 21 digits:
``8`` (never the first digit of a static member code, a CN mobile or a last four), the
member's static code (13 digits, so the counter knows whose secret to check), a
time-based one-time code (RFC 6238: HMAC-SHA1, 30 s step, 6 digits) over a per-member
secret HQ holds and sends only to the stores that hold the member, and a Luhn check digit
over all of it, so a misread scan is refused rather than tried.

A code is accepted within one step either side of the counter's clock, and once: the
caller keeps the last step it accepted for the member and passes it back.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp
from stdnum import luhn

from posapp.domain.errors import InvalidInput
from posapp.domain.member_code import CODE_LENGTH, is_member_code

DYNAMIC_PREFIX = "8"
STEP_S = 30
OTP_DIGITS = 6
TOLERANCE_STEPS = 1
DYNAMIC_LENGTH = len(DYNAMIC_PREFIX) + CODE_LENGTH + OTP_DIGITS + 1
SECRET_BYTES = 20  # RFC 4226's recommended 160 bits


def new_secret() -> str:
    """A member's secret in base32, the form authenticator apps and pyotp take."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=OTP_DIGITS, interval=STEP_S)


def step_of(at: datetime) -> int:
    """The 30-second step an instant falls in (naive datetimes are UTC, as stored)."""
    moment = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return int(moment.timestamp()) // STEP_S


def dynamic_code(member_code: str, secret: str, at: datetime) -> str:
    """What the member's phone shows at ``at``."""
    if not is_member_code(member_code):
        raise InvalidInput("member_code", "check_digit", "Not a member code.")
    body = DYNAMIC_PREFIX + member_code + _totp(secret).at(step_of(at) * STEP_S)
    return body + luhn.calc_check_digit(body)


def looks_dynamic(text: str) -> bool:
    """The dynamic code's shape (the prefix and the length), before any check."""
    return (
        len(text) == DYNAMIC_LENGTH
        and text.isascii()
        and text.isdigit()
        and (text.startswith(DYNAMIC_PREFIX))
    )


@dataclass(frozen=True, slots=True)
class ScannedDynamic:
    member_code: str
    otp: str


def read_dynamic(text: str) -> ScannedDynamic:
    """Split a scanned dynamic code, or say which rule it breaks (a misread, a bad code)."""
    if not looks_dynamic(text) or not luhn.is_valid(text):
        raise InvalidInput(
            "member_code", "check_digit", "Member code failed its check digit: scan it again."
        )
    member_code = text[len(DYNAMIC_PREFIX) : len(DYNAMIC_PREFIX) + CODE_LENGTH]
    if not is_member_code(member_code):
        raise InvalidInput(
            "member_code", "check_digit", "Member code failed its check digit: scan it again."
        )
    return ScannedDynamic(member_code, text[len(DYNAMIC_PREFIX) + CODE_LENGTH : -1])


def accepted_step(
    scanned: ScannedDynamic, secret: str, now: datetime, last_accepted_step: int | None
) -> int:
    """The step the code was made in, if it is fresh and not used before; else InvalidInput.

    ``last_accepted_step`` is the newest step this member's code was accepted in: a code of
    that step or an older one is a replay (a screenshot, or the same scan twice).
    """
    totp = _totp(secret)
    current = step_of(now)
    for step in range(current - TOLERANCE_STEPS, current + TOLERANCE_STEPS + 1):
        if secrets.compare_digest(totp.at(step * STEP_S), scanned.otp):
            if last_accepted_step is not None and step <= last_accepted_step:
                raise InvalidInput(
                    "member_code", "replayed",
                    "This member code was already used: ask the member to show it again.",
                )  # fmt: skip
            return step
    raise InvalidInput(
        "member_code", "expired",
        "This member code has expired: ask the member to refresh it on their phone.",
    )  # fmt: skip
