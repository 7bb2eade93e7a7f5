"""Phones as cashiers and scanners type them: one E.164 form, masked on screen, every refusal named.

libphonenumber itself is the oracle for which numbers exist: the generators below keep only
what it calls a valid mobile, so the tests check our handling, not a copy of its tables.
"""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberType

from posapp.domain.errors import InvalidInput
from posapp.domain.phone import (
    PHONE_MAX_CHARS,
    _plain_national_mobile,
    last_four,
    mask_phone,
    national_digits,
    parse_mobile,
)

MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
FULL_WIDTH = str.maketrans("0123456789+-.() ", "０１２３４５６７８９＋－．（）\u3000")


def _oracle(text: str, region: str = "CN") -> str | None:
    """What libphonenumber alone says: the E.164 of a valid mobile, or None."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if number.extension or phonenumbers.number_type(number) not in MOBILE_TYPES:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _is_valid_cn_mobile(digits: str) -> bool:
    number = phonenumbers.PhoneNumber(country_code=86, national_number=int(digits))
    return phonenumbers.number_type(number) == PhoneNumberType.MOBILE


# Any 1xx prefix, kept only when libphonenumber calls the whole number a valid CN mobile.
cn_mobiles = st.builds(
    lambda prefix, rest: f"{prefix}{rest:08d}", st.integers(130, 199), st.integers(0, 10**8 - 1)
).filter(_is_valid_cn_mobile)


@st.composite
def typed_forms(draw: st.DrawFn, digits: str) -> str:
    """One way a cashier, a customer or a scanner might enter ``digits``."""
    cut = draw(st.sampled_from([(3, 7), (3, 11), (7, 11), (11, 11)]))
    groups = [digits[: cut[0]], digits[cut[0] : cut[1]], digits[cut[1] :]]
    seps = st.sampled_from(["", " ", "-", ".", "  ", "\t", "\u00a0", "\u3000", " - "])
    body = groups[0]
    for group in groups[1:]:
        if group:
            body += draw(seps) + group
    if draw(st.booleans()) and cut[0] == 3:
        body = f"({groups[0]}) " + body[3:].lstrip(" -.\t\u00a0\u3000")
    country = draw(st.sampled_from(["", "+86", "+86 ", "0086", "0086 ", "+86-", "86 ", "+86 (0)"]))
    text = country + body
    if draw(st.booleans()):
        text = text.translate(FULL_WIDTH)
    pad = st.sampled_from(["", " ", "  ", "\t", "\u3000"])
    return draw(pad) + text + draw(pad)


@settings(max_examples=400)
@given(data=st.data(), digits=cn_mobiles)
def test_every_way_of_typing_a_mobile_gives_the_same_e164(data: st.DataObject, digits: str) -> None:
    typed = data.draw(typed_forms(digits), label="typed")
    e164 = parse_mobile(typed)
    assert e164 == f"+86{digits}"
    assert parse_mobile(e164) == e164  # E.164 is a fixed point


@pytest.mark.parametrize(
    "typed",
    [
        "+86 138 1234 5678",
        "0086 138 1234 5678",
        "00 86 138 1234 5678",
        "0086-138-1234-5678",
        "8613812345678",
        "138-1234-5678",
        "138.1234.5678",
        "(138) 1234-5678",
        "(+86) 138 1234 5678",
        "+86 (0)138 1234 5678",
        "0138 1234 5678",
        "１３８１２３４５６７８",
        "＋８６　１３８　１２３４　５６７８",
        "１３８－１２３４－５６７８",
        "138\u00a01234\u00a05678",
        "138\u202f1234\u202f5678",
        " \t13812345678\t ",
    ],
)
def test_examples_from_the_counter(typed: str) -> None:
    assert parse_mobile(typed) == "+8613812345678"


@settings(max_examples=300)
@given(digits=cn_mobiles)
def test_mask_keeps_first_three_and_last_four_and_hides_the_middle(digits: str) -> None:
    e164 = parse_mobile(digits)
    masked = mask_phone(e164)
    assert len(masked) == 11
    assert masked[:3] == digits[:3]
    assert masked[3:7] == "****"
    assert masked[7:] == digits[7:]
    assert last_four(e164) == digits[-4:]
    assert national_digits(e164) == digits
    assert parse_mobile(national_digits(e164)) == e164


def test_mask_of_the_example_in_the_issue() -> None:
    assert mask_phone(parse_mobile("138 1234 5678")) == "138****5678"


def _foreign_mobiles() -> list[tuple[str, str]]:
    found = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in MOBILE_TYPES:
            example = phonenumbers.example_number_for_type(region, kind)
            # FIXED_LINE_OR_MOBILE asks may answer with a landline example: keep real mobiles.
            if example is not None and phonenumbers.number_type(example) in MOBILE_TYPES:
                e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
                found.append((region, e164))
    return found


FOREIGN_MOBILES = _foreign_mobiles()


def test_mobiles_of_every_region_are_accepted_and_masked_without_leaking() -> None:
    assert len(FOREIGN_MOBILES) > 200  # the walk really saw libphonenumber's regions
    problems = []
    for region, e164 in FOREIGN_MOBILES:
        if parse_mobile(e164) != e164:
            problems.append(f"{region} {e164}: not accepted as itself")
            continue
        number = phonenumbers.parse(e164, None)
        national = str(number.national_number)
        masked = mask_phone(e164)
        if number.country_code == 86:
            shown = masked
        else:
            prefix = f"+{number.country_code} "
            if not masked.startswith(prefix):
                problems.append(f"{region} {e164}: {masked!r} lacks its country code")
                continue
            shown = masked[len(prefix) :]
        hidden = shown.count("*")
        kept = [(a, b) for a, b in zip(shown, national, strict=False) if a != "*"]
        if (
            len(shown) != len(national)
            or hidden < 2
            or "*" * hidden not in shown  # one contiguous run
            or any(a != b for a, b in kept)
            or (len(national) >= 9 and (shown[:3] != national[:3] or hidden != len(national) - 7))
        ):
            problems.append(f"{region} {e164}: masked as {masked!r}")
    assert problems == []


def test_short_foreign_mobiles_are_not_shown_in_full() -> None:
    # Tokelau and Cook Islands mobiles have 4 and 5 digits: "last four" would be all of them.
    assert mask_phone("+6907290") == "+690 7**0"
    assert mask_phone("+68271234") == "+682 7**34"
    assert mask_phone(parse_mobile("+852 5123 4567")) == "+852 5***4567"
    assert mask_phone(parse_mobile("+44 7911 123456")) == "+44 791***3456"


def test_mask_drops_the_country_code_only_at_home() -> None:
    hk = parse_mobile("5123 4567", region="HK")
    assert hk == "+85251234567"
    assert mask_phone(hk, home_region="HK") == "5***4567"
    assert mask_phone("+8613812345678", home_region="HK") == "+86 138****5678"
    assert mask_phone("+8613812345678") == "138****5678"


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        # nothing there
        ("", "empty"),
        ("   ", "empty"),
        ("\t", "empty"),
        ("\u3000", "empty"),
        # absurdly long before any parsing
        ("1" * (PHONE_MAX_CHARS + 1), "too_long"),
        ("9" * 10_000, "too_long"),
        # invisible or control characters, anywhere
        ("138\u200b1234\u200b5678", "control_character"),
        ("\u200b13812345678", "control_character"),
        ("138\x001234 5678", "control_character"),
        ("13812345678\x00", "control_character"),
        ("13812345678\r\n", "control_character"),
        ("\x1b[A13812345678", "control_character"),
        ("\u202e13812345678", "control_character"),
        ("138\u20661234\u20695678", "control_character"),
        ("\ufeff13812345678", "control_character"),
        ("138\u00ad12345678", "control_character"),
        ("138\u20611234 5678", "control_character"),
        # extensions and letters
        ("138 1234 5678 ext 12", "extension_or_letters"),
        ("010-12345678 x123", "extension_or_letters"),
        ("13812345678#123", "extension_or_letters"),
        ("+86 138 1234 5678#", "extension_or_letters"),
        ("13812345678,5", "extension_or_letters"),
        ("13812345678;ext=5", "extension_or_letters"),
        ("1-800-FLOWERS", "extension_or_letters"),
        ("tel:13812345678", "extension_or_letters"),
        ("手机13812345678", "extension_or_letters"),
        # punctuation a phone never has
        ("138/1234/5678", "bad_character"),
        ("138_1234_5678", "bad_character"),
        ("138–1234–5678", "bad_character"),
        ("138'; DROP TABLE", "bad_character"),
        ("١٣٨١٢٣٤٥٦٧٨", "bad_character"),
        # not a number at all
        ("+", "unparseable"),
        ("-", "unparseable"),
        ("(((", "unparseable"),
        ("+86", "unparseable"),
        ("1", "unparseable"),
        # digit counts libphonenumber calls impossible
        ("138", "mobile_too_short"),  # starts as a mobile does: "11 digits, this has 3"
        ("1.3.8", "mobile_too_short"),
        ("1381234567890123", "mobile_too_long"),
        ("+86 138 1234 56789 0", "mobile_too_long"),
        # country codes that do not exist
        ("+999 1234 5678", "unknown_country"),
        ("00999 1234 5678", "unknown_country"),
        # landlines and other fixed services
        ("010-12345678", "not_mobile"),
        ("(010) 1234 5678", "not_mobile"),
        ("+86 10 1234 5678", "not_mobile"),
        ("0086 10 12345678", "not_mobile"),
        ("021 6123 4567", "not_mobile"),
        ("+86 400 123 4567", "not_mobile"),
        ("+852 2123 4567", "not_mobile"),
        ("+44 20 7946 0958", "not_mobile"),
        ("+1 800 555 0123", "not_mobile"),
        # possible lengths, but no such number
        ("12012345678", "not_valid"),
        ("10012345678", "not_valid"),
        ("14012345678", "not_valid"),
        ("17912345678", "not_valid"),
        ("+86 138 1234 567", "mobile_too_short"),  # "11 digits; this has 10"
        ("12345", "mobile_too_short"),
    ],
)
def test_each_rejection_names_its_rule(raw: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_mobile(raw)
    assert err.value.field == "phone"
    assert err.value.rule == rule
    assert err.value.message
    assert str(err.value) == err.value.message


def test_possible_but_invalid_numbers_are_really_possible() -> None:
    # Guards the "not_valid" rows above: libphonenumber calls them possible, never valid.
    for raw in ["12012345678", "10012345678", "14012345678", "17912345678"]:
        number = phonenumbers.parse(raw, "CN")
        assert phonenumbers.is_possible_number(number)
        assert not phonenumbers.is_valid_number(number)


@settings(max_examples=200)
@given(data=st.data(), digits=cn_mobiles, hidden=st.sampled_from("\u200b\u2060\ufeff\x00\x1b\n"))
def test_a_hidden_character_anywhere_refuses_a_good_number(
    data: st.DataObject, digits: str, hidden: str
) -> None:
    typed = data.draw(typed_forms(digits), label="typed").strip()
    at = data.draw(st.integers(1, len(typed) - 1), label="at")
    with pytest.raises(InvalidInput) as err:
        parse_mobile(typed[:at] + hidden + typed[at:])
    assert err.value.rule == "control_character"


@settings(max_examples=400)
@given(
    digits=st.one_of(
        st.text(alphabet="0123456789", min_size=1, max_size=16),
        st.builds(lambda p, r: f"{p}{r:08d}", st.integers(100, 199), st.integers(0, 10**8 - 1)),
        st.builds(
            lambda p, r: f"17951{p}{r:08d}", st.integers(130, 199), st.integers(0, 10**8 - 1)
        ),
    )
)
def test_digit_strings_are_accepted_exactly_when_libphonenumber_calls_them_mobile(
    digits: str,
) -> None:
    expected = _oracle(digits)
    try:
        got = parse_mobile(digits)
    except InvalidInput as err:
        assert expected is None, f"refused ({err.rule}) but libphonenumber says {expected}"
        return
    assert got == expected


@settings(max_examples=300)
@given(
    digits=st.one_of(
        st.text(alphabet="0123456789", min_size=1, max_size=16),
        st.builds(lambda p, r: f"1{p}{r:09d}"[:11], st.integers(3, 9), st.integers(0, 10**9 - 1)),
    ),
    region=st.sampled_from(["CN", "HK", "MO", "TW", "US", "GB", "SG", "DE"]),
)
def test_the_digits_only_fast_path_never_disagrees_with_the_full_parse(
    digits: str, region: str
) -> None:
    quick = _plain_national_mobile(digits, region)
    if quick is not None:
        assert quick == _oracle(digits, region)


def test_the_fast_path_leaves_dialling_prefixes_to_the_full_parse() -> None:
    # 17951 is an IP-dialling prefix libphonenumber strips for CN; the fast path must not guess.
    assert _plain_national_mobile("1795113812345678", "CN") is None
    assert _plain_national_mobile("013812345678", "CN") is None
    assert parse_mobile("1795113812345678") == _oracle("1795113812345678") == "+8613812345678"


@settings(max_examples=400)
@given(
    st.one_of(
        st.text(max_size=40),
        st.text(alphabet="0123456789+-(). #xX,;０１２３４５６７８９＋\u3000\u200b", max_size=40),
    )
)
def test_any_text_is_either_a_valid_mobile_or_a_named_refusal(raw: str) -> None:
    try:
        e164 = parse_mobile(raw)
    except InvalidInput as err:
        assert err.field == "phone"
        assert err.rule in {
            "empty",
            "too_long",
            "control_character",
            "extension_or_letters",
            "bad_character",
            "unparseable",
            "too_short",
            "mobile_too_short",
            "mobile_too_long",
            "unknown_country",
            "not_valid",
            "not_mobile",
        }
        return
    number = phonenumbers.parse(e164, None)
    assert e164 == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    assert phonenumbers.is_valid_number(number)
    assert phonenumbers.number_type(number) in MOBILE_TYPES
