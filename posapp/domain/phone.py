"""Phone numbers as cashiers and scanners type them, reduced to one E.164 form.

Membership needs a number the customer can receive an SMS on, so only valid *mobile*
numbers pass; every refusal names the rule that failed.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult

from posapp.domain.errors import InvalidInput
from posapp.domain.text import find_hidden_character

DEFAULT_REGION = "CN"
PHONE_MAX_CHARS = 32
_ALLOWED = frozenset("0123456789+-(). ")
_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


def _refuse(rule: str, message: str) -> InvalidInput:
    return InvalidInput("phone", rule, message)


def parse_mobile(raw: str, region: str = DEFAULT_REGION) -> str:
    """Return the E.164 form (``+8613812345678``) of a valid mobile number, or raise."""
    if raw is None or not raw.strip():
        raise _refuse("empty", "Phone number is empty.")
    if len(raw) > PHONE_MAX_CHARS:
        raise _refuse("too_long", f"Phone number is longer than {PHONE_MAX_CHARS} characters.")
    hidden = find_hidden_character(raw.replace("\t", " "))
    if hidden is not None:
        raise _refuse(
            "control_character",
            f"Phone number contains a hidden or control character (U+{ord(hidden):04X}).",
        )
    text = unicodedata.normalize("NFKC", raw).replace("\t", " ").strip()
    bad = next((ch for ch in text if ch not in _ALLOWED), None)
    if bad is not None:
        if bad in "#*xX,;" or bad.isalpha():
            raise _refuse("extension_or_letters", "Phone number has letters or an extension.")
        raise _refuse("bad_character", f"Phone number contains {bad!r}.")
    quick = _plain_national_mobile(text, region)
    if quick is not None:
        return quick
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
            raise _refuse("unknown_country", "Phone number has an unknown country code.") from exc
        raise _refuse("unparseable", "This is not a phone number.") from exc
    if number.extension:
        raise _refuse("extension_or_letters", "Phone number has letters or an extension.")
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible in (ValidationResult.TOO_SHORT, ValidationResult.INVALID_LENGTH):
        raise _refuse("too_short", "Phone number has too few digits.")
    if possible == ValidationResult.TOO_LONG:
        raise _refuse("too_long", "Phone number has too many digits.")
    if possible == ValidationResult.INVALID_COUNTRY_CODE:
        raise _refuse("unknown_country", "Phone number has an unknown country code.")
    kind = phonenumbers.number_type(number)  # UNKNOWN is exactly "not a valid number"
    if kind == PhoneNumberType.UNKNOWN:
        raise _refuse("not_valid", "No such phone number exists (only possible, not valid).")
    if kind not in _MOBILE_TYPES:
        raise _refuse("not_mobile", "Only mobile numbers can be used (this is a landline).")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _plain_national_mobile(text: str, region: str) -> str | None:
    """E.164 for the common case, digits only as typed or scanned (``13812345678``).

    Building the number directly skips ``parse``'s prefix handling (half the cost of a
    lookup); validation is still libphonenumber's. Anything it does not accept as a
    mobile falls through to the full parse, so results never differ from ``parse``'s
    (a property test checks that).
    """
    if not text.isdigit() or text[0] == "0":
        return None
    country_code = phonenumbers.country_code_for_region(region)
    number = phonenumbers.PhoneNumber(country_code=country_code, national_number=int(text))
    if phonenumbers.number_type(number) in _MOBILE_TYPES:
        return f"+{country_code}{text}"
    return None


def national_digits(e164: str) -> str:
    """The national significant number of an E.164 string (``13812345678``)."""
    return str(phonenumbers.parse(e164, None).national_number)


def last_four(e164: str) -> str:
    return e164[-4:]


def mask_phone(e164: str, home_region: str = DEFAULT_REGION) -> str:
    """Show a phone without its middle digits: ``138****5678`` (country code kept abroad)."""
    home_prefix = _home_prefix(home_region)
    if e164.startswith(home_prefix):
        return _mask_digits(e164[len(home_prefix) :])
    number = phonenumbers.parse(e164, None)
    return f"+{number.country_code} {_mask_digits(str(number.national_number))}"


@lru_cache(maxsize=16)
def _home_prefix(region: str) -> str:
    return f"+{phonenumbers.country_code_for_region(region)}"


def _mask_digits(digits: str) -> str:
    keep_head = 3 if len(digits) >= 9 else 1
    # Hide at least two digits: a short number (4-6 digits, e.g. +690, +682) would otherwise
    # be shown in full, its "last four" being all of it.
    keep_tail = max(min(4, len(digits) - keep_head - 2), 0)
    middle = max(len(digits) - keep_head - keep_tail, 0)
    return digits[:keep_head] + "*" * middle + digits[keep_head + middle :]
