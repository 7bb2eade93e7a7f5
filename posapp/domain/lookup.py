"""What the cashier typed or scanned into the one always-ready input, and what it means."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from posapp.domain.errors import InvalidInput
from posapp.domain.member_code import CODE_LENGTH, CODE_PREFIX, is_member_code
from posapp.domain.phone import DEFAULT_REGION, parse_mobile
from posapp.domain.text import clean_name, find_hidden_character

QUERY_MAX_CHARS = 64
_PHONE_CHARS = frozenset("0123456789+-(). ")


class QueryKind(StrEnum):
    PHONE = "phone"
    LAST_FOUR = "last_four"
    MEMBER_CODE = "member_code"
    NAME = "name"


@dataclass(frozen=True, slots=True)
class CounterQuery:
    kind: QueryKind
    value: str

    @property
    def exact(self) -> bool:
        """A phone or member code names one member; the others give a candidate list."""
        return self.kind in (QueryKind.PHONE, QueryKind.MEMBER_CODE)


def classify_query(raw: str, region: str = DEFAULT_REGION) -> CounterQuery:
    """Read one scan or typed entry: member code, phone, last four digits or a name prefix."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text:
        raise InvalidInput("query", "empty", "Nothing to look up.")
    if len(text) > QUERY_MAX_CHARS:
        raise InvalidInput(
            "query", "too_long", "That is too long for a phone, code or name.",
            limit=QUERY_MAX_CHARS, actual=len(text),
        )  # fmt: skip
    hidden = find_hidden_character(text)
    if hidden is not None:
        raise InvalidInput(
            "query",
            "control_character",
            f"The scan contains a control character (U+{ord(hidden):04X}).",
        )
    if all(ch in _PHONE_CHARS for ch in text):
        digits = "".join(ch for ch in text if ch.isdigit())
        if len(digits) == 4 and digits == text:
            return CounterQuery(QueryKind.LAST_FOUR, digits)
        if len(digits) == CODE_LENGTH and digits.startswith(CODE_PREFIX) and digits == text:
            if is_member_code(digits):
                return CounterQuery(QueryKind.MEMBER_CODE, digits)
            raise InvalidInput(
                "member_code", "check_digit", "Member code failed its check digit: scan it again."
            )
        return CounterQuery(QueryKind.PHONE, parse_mobile(text, region))
    # Names are stored as clean_name leaves them (NFC, full-width letters kept), so the
    # prefix is cleaned the same way, not from the NFKC text used to spot digits above.
    name = clean_name(raw, field="query")
    assert name is not None
    return CounterQuery(QueryKind.NAME, name)


def names_one_member(raw: str, region: str = DEFAULT_REGION) -> bool:
    """True when ``raw`` is a valid member code or mobile number: what a scan is.

    A keyboard-wedge scanner types into whatever has the focus; the counter sends such
    a burst to identify wherever it landed. Receipt numbers, amounts, last fours and
    names are not exact queries and stay where they were typed.
    """
    try:
        return classify_query(raw, region).exact
    except InvalidInput:
        return False
