"""Names as people write them: any script and emoji, NFC, bounded, no invisible tricks."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posapp.domain.errors import InvalidInput
from posapp.domain.text import NAME_MAX_CHARS, clean_name, find_hidden_character

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 👨‍👩‍👧: three people joined by ZWJ
SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"  # tag flag


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("王芳", "王芳"),
        ("  王芳 ", "王芳"),
        ("欧阳   娜娜", "欧阳 娜娜"),
        ("欧阳\u3000娜娜", "欧阳 娜娜"),  # ideographic space, as Chinese IMEs type it
        ("Li\u00a0Na", "Li Na"),
        ("Ze\u0301 Li", "Z\u00e9 Li"),  # decomposed é becomes the one composed code point
        ("Zoë", "Zoë"),
        ("김민준", "김민준"),
        ("محمد", "محمد"),
        ("אברהם", "אברהם"),
        ("Ελένη", "Ελένη"),
        ("Дмитрий", "Дмитрий"),
        ("สมชาย", "สมชาย"),
        ("देवनागरी", "देवनागरी"),
        ("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"),  # Persian ZWNJ
        ("阿卜杜拉·买买提", "阿卜杜拉·买买提"),
        ("Ｌｉｓａ", "Ｌｉｓａ"),  # full-width letters are kept as typed (NFC, not NFKC)
        (f"{FAMILY} family", f"{FAMILY} family"),
        ("👍🏽 小王", "👍🏽 小王"),
        ("🇨🇳 Wang", "🇨🇳 Wang"),
        ("1\ufe0f\u20e3 号", "1\ufe0f\u20e3 号"),
        (SCOTLAND, SCOTLAND),
        ("", None),
        ("   ", None),
        ("\u3000", None),
        ("\t\r\n", None),
        (None, None),
    ],
)  # fmt: skip
def test_names_are_normalised_and_kept(raw: str | None, clean: str | None) -> None:
    assert clean_name(raw) == clean


def test_decomposed_and_composed_spellings_become_the_same_name() -> None:
    composed = clean_name("Ren\u00e9e")
    decomposed = clean_name("Rene\u0301e")
    assert composed == decomposed
    assert composed is not None and len(composed) == 5
    assert unicodedata.name(composed[3]) == "LATIN SMALL LETTER E WITH ACUTE"


@pytest.mark.parametrize(
    "hidden",
    [
        "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # embeddings and overrides
        "\u2066", "\u2067", "\u2068", "\u2069",  # isolates
        "\u200e", "\u200f", "\u061c",  # marks
        "\u200b", "\u2060", "\ufeff", "\u00ad", "\u180e",  # zero-width and soft hyphen
        "\u2061", "\u2062", "\u2063", "\u2064",  # invisible maths operators
        "\u206a", "\u206f", "\ufff9", "\U000e0001",  # other format characters
        "\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b",  # C0 / C1 controls
        "\n", "\r", "\t", "\x0b", "\x0c",  # line breaks and tabs inside a name
        "\ud800", "\udfff",  # lone surrogates
        "\ue000", "\U000f0000",  # private use
        "\ufdd0", "\U0010fffe",  # noncharacters
    ],
)  # fmt: skip
def test_hidden_characters_inside_a_name_are_refused(hidden: str) -> None:
    with pytest.raises(InvalidInput) as err:
        clean_name(f"王{hidden}芳")
    assert (err.value.field, err.value.rule) == ("name", "control_character")
    assert f"U+{ord(hidden):04X}" in err.value.message
    assert find_hidden_character(f"ab{hidden}cd") == hidden


def test_the_reversed_name_trick_is_refused_at_either_end() -> None:
    for raw in ["\u202eevil", "evil\u202e", "\u2066x\u2069"]:
        with pytest.raises(InvalidInput) as err:
            clean_name(raw)
        assert err.value.rule == "control_character"


def test_unassigned_code_points_are_kept_for_emoji_newer_than_our_tables() -> None:
    # U+1FAE8 (shaking face, Unicode 15) is unassigned in Python 3.11's tables.
    assert clean_name("王芳\U0001fae8") == "王芳\U0001fae8"
    assert find_hidden_character("\u0378") is None


def test_find_hidden_character_reports_the_first_one() -> None:
    assert find_hidden_character("a\u202eb\x00c") == "\u202e"
    assert find_hidden_character(f"王芳 {FAMILY} {SCOTLAND} Zoë") is None
    assert find_hidden_character("") is None


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("x" * 10_000, "too_long"),
        ("王" * 10_000, "too_long"),
        ("\x00" * 10_000, "too_long"),  # a huge paste is refused before it is even read
        (" " * 10_000 + "王", "too_long"),
        ("名" * (NAME_MAX_CHARS + 1), "too_long"),
        (FAMILY * 13, "too_long"),  # 65 code points
    ],
)
def test_names_longer_than_the_limit_are_refused(raw: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as err:
        clean_name(raw, field="guide_name")
    assert (err.value.field, err.value.rule) == ("guide_name", rule)
    assert str(NAME_MAX_CHARS) in err.value.message


def test_the_limit_counts_the_cleaned_name() -> None:
    assert clean_name("名" * NAME_MAX_CHARS) == "名" * NAME_MAX_CHARS
    assert clean_name(f"  {'名' * NAME_MAX_CHARS}\u3000") == "名" * NAME_MAX_CHARS
    # 128 code points typed, 64 once é is composed
    assert clean_name("e\u0301" * NAME_MAX_CHARS) == "\u00e9" * NAME_MAX_CHARS
    # runs of spaces count once
    spaced = "   ".join(["a"] * 32)
    assert clean_name(spaced) == " ".join(["a"] * 32)


# Visible characters of every kind: letters, marks, digits, punctuation, symbols (emoji), spaces.
visible = st.characters(categories=["L", "M", "N", "P", "S", "Zs"])
hidden_chars = st.one_of(
    st.characters(categories=["Cc", "Cs", "Co"]),
    st.sampled_from(["\ufdd0", "\ufdef", "\ufffe", "\U0001ffff", "\U0010fffe"]),
    st.characters(categories=["Cf"]).filter(
        lambda ch: ch not in "\u200c\u200d" and not "\U000e0020" <= ch <= "\U000e007f"
    ),
)


@settings(max_examples=300)
@given(st.text(visible, max_size=80))
def test_visible_text_is_cleaned_never_refused_unless_too_long(raw: str) -> None:
    expected = " ".join(unicodedata.normalize("NFC", raw).split())
    if len(expected) > NAME_MAX_CHARS:
        with pytest.raises(InvalidInput) as err:
            clean_name(raw)
        assert err.value.rule == "too_long"
        return
    assert clean_name(raw) == (expected or None)


@settings(max_examples=300)
@given(
    st.text(st.characters(categories=["L"]), min_size=1, max_size=20),
    hidden_chars,
    st.text(st.characters(categories=["L"]), min_size=1, max_size=20),
)
def test_a_hidden_character_between_letters_is_always_refused(
    left: str, hidden: str, right: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        clean_name(left + hidden + right)
    assert err.value.rule == "control_character"


@settings(max_examples=200)
@given(st.text(st.characters(categories=["So", "Sk"]), min_size=1, max_size=NAME_MAX_CHARS // 2))
def test_emoji_and_symbols_are_welcome(raw: str) -> None:
    name = clean_name(raw)
    assert name == unicodedata.normalize("NFC", raw).strip()


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_a_cleaned_name_is_nfc_bounded_visible_and_stable(raw: str) -> None:
    try:
        name = clean_name(raw)
    except InvalidInput as err:
        assert err.field == "name"
        assert err.rule in {"too_long", "control_character"}
        return
    if name is None:
        assert not raw.strip()
        return
    assert unicodedata.is_normalized("NFC", name)
    assert 0 < len(name) <= NAME_MAX_CHARS
    assert name == name.strip()
    assert "  " not in name
    assert find_hidden_character(name) is None
    assert clean_name(name) == name  # idempotent
