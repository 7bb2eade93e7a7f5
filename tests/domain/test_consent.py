"""Consent under PIPL: membership needs consent, a child under 14 a guardian's as well."""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posapp.domain.consent import (
    GUARDIAN_AGE,
    OLDEST_AGE,
    Notice,
    Purpose,
    age_on,
    check_birthday,
    check_enrolment,
)
from posapp.domain.errors import InvalidInput

TODAY = date(2026, 11, 25)
MEMBERSHIP = frozenset({Purpose.MEMBERSHIP})


def reference_age(birthday: date, today: date) -> int:
    """Whole years lived, counting anniversaries; a 29 February birthday falls on 1 March."""
    years = 0
    while True:
        year = birthday.year + years + 1
        try:
            anniversary = birthday.replace(year=year)
        except ValueError:
            anniversary = date(year, 3, 1)
        if anniversary > today:
            return years
        years += 1


def _refusal(purposes: frozenset[Purpose] | set[Purpose], **kwargs: object) -> str | None:
    try:
        check_enrolment(purposes, **kwargs)  # type: ignore[arg-type]
    except InvalidInput as err:
        return err.rule
    return None


def test_constants() -> None:
    assert (GUARDIAN_AGE, OLDEST_AGE) == (14, 120)
    assert {p.value for p in Purpose} == {"membership", "marketing", "guide_contact"}


# --- membership consent ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("purposes", "rule"),
    [
        (set(), "membership_required"),
        ({Purpose.MARKETING}, "membership_required"),
        ({Purpose.GUIDE_CONTACT}, "membership_required"),
        ({Purpose.MARKETING, Purpose.GUIDE_CONTACT}, "membership_required"),
        ({Purpose.MEMBERSHIP}, None),
        ({Purpose.MEMBERSHIP, Purpose.MARKETING}, None),
        (frozenset(Purpose), None),
    ],
)
def test_membership_consent_is_required_and_the_others_are_optional(
    purposes: set[Purpose], rule: str | None
) -> None:
    assert _refusal(purposes, birthday=None, today=TODAY) == rule


def test_a_guardians_consent_does_not_replace_membership_consent() -> None:
    with pytest.raises(InvalidInput) as err:
        check_enrolment(
            {Purpose.MARKETING}, birthday=date(2020, 1, 1), today=TODAY, guardian_consent=True
        )
    assert (err.value.field, err.value.rule) == ("consent", "membership_required")


# --- children and impossible birthdays -------------------------------------------------------


@pytest.mark.parametrize(
    ("birthday", "today", "guardian", "rule"),
    [
        (date(2012, 11, 26), TODAY, False, "guardian_required"),  # 14 tomorrow
        (date(2012, 11, 26), TODAY, True, None),
        (date(2012, 11, 25), TODAY, False, None),  # 14 today
        (date(2000, 1, 1), TODAY, False, None),
        (TODAY, TODAY, False, "guardian_required"),  # born today
        (TODAY, TODAY, True, None),
        # born on a leap day: 14 only once 28 February has passed in a common year
        (date(2012, 2, 29), date(2026, 2, 28), False, "guardian_required"),
        (date(2012, 2, 29), date(2026, 3, 1), False, None),
        (date(2010, 2, 28), date(2024, 2, 28), False, None),
        (date(2010, 3, 1), date(2024, 2, 29), False, "guardian_required"),
        (date(2010, 3, 1), date(2024, 3, 1), False, None),
        # impossible birthdays are refused, guardian or not
        (TODAY + timedelta(days=1), TODAY, False, "in_future"),
        (TODAY + timedelta(days=1), TODAY, True, "in_future"),
        (date(2027, 1, 1), TODAY, False, "in_future"),
        (date(1906, 11, 25), TODAY, False, None),  # exactly 120
        (date(1906, 11, 24), TODAY, False, None),  # 120 and a day
        (date(1905, 11, 25), TODAY, False, "too_old"),  # 121
        (date(1890, 1, 1), TODAY, False, "too_old"),
        (None, TODAY, False, None),  # no birthday given: nothing to check
    ],
)
def test_children_and_impossible_birthdays(
    birthday: date | None, today: date, guardian: bool, rule: str | None
) -> None:
    assert _refusal(MEMBERSHIP, birthday=birthday, today=today, guardian_consent=guardian) == rule


def test_refusals_name_their_field() -> None:
    with pytest.raises(InvalidInput) as err:
        check_enrolment(MEMBERSHIP, birthday=date(2020, 5, 5), today=TODAY)
    assert (err.value.field, err.value.rule) == ("consent", "guardian_required")
    assert str(GUARDIAN_AGE) in err.value.message
    with pytest.raises(InvalidInput) as err:
        check_birthday(TODAY + timedelta(days=1), TODAY)
    assert (err.value.field, err.value.rule) == ("birthday", "in_future")
    check_birthday(None, TODAY)
    check_birthday(TODAY, TODAY)


@settings(max_examples=300)
@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2040, 12, 31)),
    st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31)),
    st.booleans(),
)
def test_guardian_consent_is_needed_exactly_under_14(
    birthday: date, today: date, guardian: bool
) -> None:
    rule = _refusal(MEMBERSHIP, birthday=birthday, today=today, guardian_consent=guardian)
    if birthday > today:
        assert rule == "in_future"
    elif reference_age(birthday, today) > OLDEST_AGE:
        assert rule == "too_old"
    elif reference_age(birthday, today) < GUARDIAN_AGE and not guardian:
        assert rule == "guardian_required"
    else:
        assert rule is None


# --- age --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birthday", "today", "age"),
    [
        (date(2012, 11, 25), TODAY, 14),
        (date(2012, 11, 26), TODAY, 13),
        (date(2012, 11, 24), TODAY, 14),
        (date(2000, 12, 31), date(2001, 1, 1), 0),
        (date(2000, 12, 31), date(2001, 12, 31), 1),
        (date(2000, 1, 1), date(2000, 1, 1), 0),
        # leap days
        (date(2012, 2, 29), date(2026, 2, 28), 13),
        (date(2012, 2, 29), date(2026, 3, 1), 14),
        (date(2012, 2, 29), date(2024, 2, 28), 11),
        (date(2012, 2, 29), date(2024, 2, 29), 12),
        (date(2000, 2, 29), date(2004, 2, 29), 4),
        (date(2000, 2, 29), date(2001, 2, 28), 0),
        (date(2000, 2, 29), date(2001, 3, 1), 1),
        (date(2001, 2, 28), date(2004, 2, 28), 3),
        (date(2001, 3, 1), date(2004, 2, 29), 2),
        (date(1996, 2, 29), date(2100, 2, 28), 103),  # 2100 is not a leap year
        (date(1996, 2, 29), date(2100, 3, 1), 104),
    ],
)
def test_age_on_birthdays_and_leap_days(birthday: date, today: date, age: int) -> None:
    assert age_on(birthday, today) == age
    assert reference_age(birthday, today) == age  # the oracle agrees with the table


@settings(max_examples=300)
@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
    st.integers(0, 130 * 366),
)
def test_age_matches_counting_anniversaries(birthday: date, days_later: int) -> None:
    today = birthday + timedelta(days=days_later)
    assert age_on(birthday, today) == reference_age(birthday, today)


@settings(max_examples=200)
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)), st.integers(0, 120))
def test_age_goes_up_by_one_on_the_anniversary(birthday: date, years: int) -> None:
    try:
        anniversary = birthday.replace(year=birthday.year + years)
    except ValueError:  # 29 February in a common year
        anniversary = date(birthday.year + years, 3, 1)
    assert age_on(birthday, anniversary) == years
    if years:
        assert age_on(birthday, anniversary - timedelta(days=1)) == years - 1


# --- the notice a consent refers to ----------------------------------------------------------


def test_notice_hash_pins_the_exact_text() -> None:
    text = "我们处理您的手机号码，用于会员服务。"
    notice = Notice.from_text("privacy", 3, "zh-CN", text)
    assert (notice.notice_id, notice.version, notice.language) == ("privacy", 3, "zh-CN")
    assert notice.text_hash == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert len(notice.text_hash) == 64 and int(notice.text_hash, 16) >= 0
    assert notice == Notice.from_text("privacy", 3, "zh-CN", text)
    for changed in [text + " ", text[:-1], text.replace("会员", "营销"), "", text + "\n"]:
        assert Notice.from_text("privacy", 3, "zh-CN", changed).text_hash != notice.text_hash


def test_notice_hash_distinguishes_spellings_that_look_alike() -> None:
    nfc = "Café"
    nfd = unicodedata.normalize("NFD", nfc)
    assert (
        Notice.from_text("p", 1, "fr", nfc).text_hash
        != Notice.from_text("p", 1, "fr", nfd).text_hash
    )


notice_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=200)


@settings(max_examples=200)
@given(notice_text, notice_text)
def test_different_texts_give_different_hashes(a: str, b: str) -> None:
    first = Notice.from_text("privacy", 1, "zh-CN", a)
    second = Notice.from_text("privacy", 1, "zh-CN", b)
    assert (first.text_hash == second.text_hash) is (a == b)
