"""Text as people type it: names in any script, emoji welcome, invisible tricks refused."""

from __future__ import annotations

import unicodedata

from posapp.domain.errors import InvalidInput

NAME_MAX_CHARS = 64

# Bidi embeddings/overrides/isolates: they can make a name display as something else.
_BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
# Zero-width characters that are not part of an emoji sequence (ZWJ U+200D is allowed there).
_INVISIBLE = frozenset("\u200b\u2060\ufeff\u00ad\u180e")
# Format characters that belong in real text: ZWNJ/ZWJ (Persian, Indic scripts, emoji
# sequences); tag characters U+E0020..U+E007F spell subdivision flags (England, Scotland).
_FORMAT_ALLOWED = frozenset("\u200c\u200d")
_TAGS = ("\U000e0020", "\U000e007f")


def _is_noncharacter(ch: str) -> bool:
    """U+FDD0..U+FDEF and U+xxFFFE/U+xxFFFF: never text. Other unassigned code points may be
    emoji newer than this Python's Unicode tables (a WeChat nickname), so they are kept."""
    code = ord(ch)
    return 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE


def find_hidden_character(text: str) -> str | None:
    """Return the first control, bidi or invisible character in ``text``, if any."""
    for ch in text:
        if ch in _BIDI_CONTROLS or ch in _INVISIBLE:
            return ch
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs", "Co") or (category == "Cn" and _is_noncharacter(ch)):
            return ch
        # Other invisible format characters (U+2061..U+2064, U+206A..U+206F, U+FFF9..U+FFFB ...)
        if category == "Cf" and ch not in _FORMAT_ALLOWED and not _TAGS[0] <= ch <= _TAGS[1]:
            return ch
    return None


def clean_name(raw: str | None, *, field: str = "name") -> str | None:
    """Normalise a customer or staff name to NFC; ``None`` or blank means no name given."""
    if raw is None:
        return None
    if len(raw) > NAME_MAX_CHARS * 4:
        raise _too_long(field, len(raw))
    text = unicodedata.normalize("NFC", raw).strip()
    if not text:
        return None
    hidden = find_hidden_character(text)
    if hidden is not None:
        raise InvalidInput(
            field,
            "control_character",
            f"Name contains a hidden or control character (U+{ord(hidden):04X}).",
        )
    text = " ".join(text.split())
    if len(text) > NAME_MAX_CHARS:
        raise _too_long(field, len(text))
    return text


def _too_long(field: str, actual: int) -> InvalidInput:
    return InvalidInput(
        field, "too_long", f"Name is longer than {NAME_MAX_CHARS} characters.",
        limit=NAME_MAX_CHARS, actual=actual,
    )  # fmt: skip


def mask_name(name: str | None) -> str:
    """A name as a customer-facing screen may show it: the first character only (王**)."""
    if not name:
        return ""
    first = name[0]
    return first + "*" * min(max(len(name) - 1, 1), 3)
