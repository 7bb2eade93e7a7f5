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
        raise InvalidInput(
            "phone", "too_long", f"Phone number is longer than {PHONE_MAX_CHARS} characters.",
            limit=PHONE_MAX_CHARS, actual=len(raw),
        )  # fmt: skip
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
        _check_mobile_length(text, region)
        raise _refuse("too_short", "Phone number has too few digits.")
    if possible == ValidationResult.TOO_LONG:
        _check_mobile_length(text, region)
        raise _refuse("too_long", "Phone number has too many digits.")
    if possible == ValidationResult.INVALID_COUNTRY_CODE:
        raise _refuse("unknown_country", "Phone number has an unknown country code.")
    kind = phonenumbers.number_type(number)  # UNKNOWN is exactly "not a valid number"
    if kind == PhoneNumberType.UNKNOWN:
        _check_mobile_length(text, region)
        raise _refuse("not_valid", "No such phone number exists (only possible, not valid).")
    if kind not in _MOBILE_TYPES:
        raise _refuse("not_mobile", "Only mobile numbers can be used (this is a landline).")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _check_mobile_length(text: str, region: str) -> None:
    """Digits as a mobile number starts here, but too few or too many: say how many it needs.

    Asked only once the full parse has refused the text (dialling prefixes such as 17951
    are the parse's to strip).

    libphonenumber calls ``1381234567`` (one digit short) a *possible* number of another
    kind and then not valid ("no such number"); a cashier needs "11 digits, this has 10".
    """
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("+"):  # the home country's code may lead; another country's: no rule
        home = str(phonenumbers.country_code_for_region(region))
        if not digits.startswith(home):
            return
        digits = digits[len(home) :]
    if len(digits) < 3:  # "1" is no number at all, not a short one
        return
    lengths = mobile_lengths(region)
    if not lengths or digits[0] not in _mobile_first_digits(region) or len(digits) in lengths:
        return
    rule = "too_short" if len(digits) < min(lengths) else "too_long"
    raise InvalidInput(
        "phone", f"mobile_{rule}", f"A mobile number here has {max(lengths)} digits.",
        limit=max(lengths) if rule == "too_long" else min(lengths), actual=len(digits),
    )  # fmt: skip


@lru_cache(maxsize=16)
def mobile_lengths(region: str) -> tuple[int, ...]:
    """How many digits a mobile number of ``region`` has, nationally (CN: 11)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.mobile is None:
        return ()
    return tuple(n for n in metadata.mobile.possible_length if n > 0)


@lru_cache(maxsize=16)
def _mobile_first_digits(region: str) -> frozenset[str]:
    """The first digit mobile numbers of ``region`` start with, from libphonenumber's example
    (CN: 1): digits that start otherwise are some other kind of number, not a short mobile."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    example = metadata.mobile.example_number if metadata and metadata.mobile else None
    return frozenset(example[:1]) if example else frozenset()


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


def format_phone(e164: str, home_region: str = DEFAULT_REGION) -> str:
    """A revealed phone as staff read it: ``138 1234 5678`` at home, ``+852 5123 4567`` abroad."""
    number = phonenumbers.parse(e164, None)
    home = e164.startswith(_home_prefix(home_region))
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if home
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


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
