"""The digits-only fast path of parse_mobile must agree with libphonenumber's full parse."""

from __future__ import annotations

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from posapp.domain.errors import InvalidInput
from posapp.domain.phone import _plain_national_mobile, parse_mobile


def _full_parse(text: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    kind = phonenumbers.number_type(number)
    if kind not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@settings(max_examples=400)
@given(
    digits=st.one_of(
        st.text(alphabet="0123456789", min_size=1, max_size=16),
        st.builds(lambda p, r: f"1{p}{r:09d}"[:11], st.integers(3, 9), st.integers(0, 10**9 - 1)),
        st.builds(lambda p, r: f"17951{p}{r:09d}", st.integers(3, 9), st.integers(0, 10**9 - 1)),
    ),
    region=st.sampled_from(["CN", "HK", "US", "GB", "SG"]),
)
def test_fast_path_never_disagrees_with_full_parse(digits: str, region: str) -> None:
    quick = _plain_national_mobile(digits, region)
    if quick is not None:
        assert quick == _full_parse(digits, region)


@settings(max_examples=200)
@given(rest=st.integers(0, 10**8 - 1), prefix=st.sampled_from([138, 139, 150, 186, 199]))
def test_plain_cn_mobiles_take_the_fast_path_and_match(rest: int, prefix: int) -> None:
    digits = f"{prefix}{rest:08d}"
    assert _plain_national_mobile(digits, "CN") == f"+86{digits}"
    assert parse_mobile(digits) == _full_parse(digits, "CN")


def test_carrier_prefix_dialling_still_goes_through_the_full_parse() -> None:
    # 17951 is an IP-dialling prefix libphonenumber strips for CN; the fast path must not guess.
    assert _plain_national_mobile("1795113812345678", "CN") is None
    try:
        result = parse_mobile("1795113812345678")
    except InvalidInput:
        result = None
    assert result == _full_parse("1795113812345678", "CN")
