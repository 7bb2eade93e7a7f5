"""Consent under PIPL: separate purposes, each tied to the exact notice the customer saw.

A sale never needs consent (PIPL art. 16: a contract can be performed without it);
membership does, and a child under 14 needs a guardian's consent as well (art. 31).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from posapp.domain.errors import InvalidInput

GUARDIAN_AGE = 14
OLDEST_AGE = 120


class Purpose(StrEnum):
    MEMBERSHIP = "membership"
    MARKETING = "marketing"
    GUIDE_CONTACT = "guide_contact"


@dataclass(frozen=True, slots=True)
class Notice:
    """One version of the privacy notice in one language; the hash proves which text was shown."""

    notice_id: str
    version: int
    language: str
    text_hash: str

    @classmethod
    def from_text(cls, notice_id: str, version: int, language: str, text: str) -> Notice:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return cls(notice_id, version, language, digest)


def age_on(birthday: date, today: date) -> int:
    years = today.year - birthday.year
    if (today.month, today.day) < (birthday.month, birthday.day):
        years -= 1
    return years


def check_birthday(birthday: date | None, today: date) -> None:
    if birthday is None:
        return
    if birthday > today:
        raise InvalidInput("birthday", "in_future", "Birthday is in the future.")
    if age_on(birthday, today) > OLDEST_AGE:
        raise InvalidInput("birthday", "too_old", f"Birthday is more than {OLDEST_AGE} years ago.")


def check_enrolment(
    purposes: frozenset[Purpose] | set[Purpose],
    *,
    birthday: date | None,
    today: date,
    guardian_consent: bool = False,
) -> None:
    """Refuse an enrolment that lacks membership consent, or a child's without a guardian's."""
    if Purpose.MEMBERSHIP not in purposes:
        raise InvalidInput(
            "consent", "membership_required", "Membership consent is needed to join."
        )
    check_birthday(birthday, today)
    if birthday is not None and age_on(birthday, today) < GUARDIAN_AGE and not guardian_consent:
        raise InvalidInput(
            "consent",
            "guardian_required",
            f"Customers under {GUARDIAN_AGE} can join only with a guardian's consent.",
        )
