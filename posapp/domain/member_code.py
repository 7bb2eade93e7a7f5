"""The member code: printed on a member's card and shown in the mini-program.

Thirteen digits: ``9`` (never the first digit of a CN mobile or a last-four query),
eleven random digits, and a Luhn check digit so a misread scan is refused rather than
matching somebody else.
"""

from __future__ import annotations

import secrets

from stdnum import luhn

CODE_LENGTH = 13
CODE_PREFIX = "9"


def new_member_code(rand: secrets.SystemRandom | None = None) -> str:
    rng = rand or secrets.SystemRandom()
    body = CODE_PREFIX + "".join(str(rng.randrange(10)) for _ in range(CODE_LENGTH - 2))
    return body + luhn.calc_check_digit(body)


def is_member_code(text: str) -> bool:
    """True when ``text`` has the shape of a member code and its check digit is right."""
    return (
        len(text) == CODE_LENGTH
        and text.isascii()
        and text.isdigit()
        and text.startswith(CODE_PREFIX)
        and luhn.is_valid(text)
    )
