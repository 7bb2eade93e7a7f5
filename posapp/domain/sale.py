"""Money and receipt numbers as they arrive from a keyboard, a scanner or the POS."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from posapp.domain.errors import InvalidInput

RECEIPT_MAX_CHARS = 64
AMOUNT_MAX_CHARS = 20
MAX_SALE_FEN = 100_000_000 * 100  # one hundred million yuan: anything above is a scan error
CURRENCIES = frozenset({"CNY", "HKD", "MOP", "TWD", "USD", "EUR", "JPY", "SGD"})
_MAX_SALE_YUAN = Decimal(MAX_SALE_FEN) / 100
_RECEIPT = re.compile(r"[0-9A-Za-z][0-9A-Za-z._/-]*")
_POS_AMOUNT = re.compile(r"[0-9]{1,12}(\.[0-9]{1,2})?")


def parse_amount(raw: str | int | Decimal) -> int:
    """Return minor units (fen) from ``"12.30"``, ``"¥12.3"``, ``Decimal`` or whole fen ``int``."""
    if isinstance(raw, bool):
        raise InvalidInput("amount", "not_a_number", "Amount is not a number.")
    if isinstance(raw, int):
        fen = raw
    else:
        text = unicodedata.normalize("NFKC", str(raw)).strip().lstrip("¥￥").replace(",", "")
        if len(text) > AMOUNT_MAX_CHARS:
            raise InvalidInput(
                "amount", "too_long", f"Amount is longer than {AMOUNT_MAX_CHARS} characters.",
                limit=AMOUNT_MAX_CHARS, actual=len(text),
            )  # fmt: skip
        try:
            value = Decimal(text)
        except InvalidOperation as exc:
            raise InvalidInput("amount", "not_a_number", "Amount is not a number.") from exc
        if not value.is_finite():
            raise InvalidInput("amount", "not_a_number", "Amount is not a number.")
        # Compare without arithmetic: abs()/* round to the context and raise decimal.Overflow
        # for exponents such as "1e999999".
        if value.copy_abs() > _MAX_SALE_YUAN:
            raise InvalidInput("amount", "too_large", "Amount is implausibly large.")
        if value != value.quantize(Decimal("0.01")):
            raise InvalidInput("amount", "too_precise", "Amount has more than two decimals.")
        fen = int(value * 100)
    if fen < 0:
        raise InvalidInput(
            "amount", "negative", "Amount cannot be negative (refunds are not sales)."
        )
    if fen > MAX_SALE_FEN:
        raise InvalidInput("amount", "too_large", "Amount is implausibly large.")
    return fen


def parse_pos_amount(raw: str) -> int:
    """The POS's one documented form: yuan as ``"128"``, ``"128.5"`` or ``"128.50"``.

    Another form that still means an amount (``"¥128"``, ``"1e2"``) is refused too, so the
    POS's integration is fixed now rather than guessed at; a broken rule (negative, too
    precise ...) is named as :func:`parse_amount` names it.
    """
    fen = parse_amount(raw)
    if not _POS_AMOUNT.fullmatch(raw):
        raise InvalidInput(
            "amount", "format", 'Amount must be yuan as a plain decimal string, like "128.00".'
        )
    return fen


def check_sale_amount(fen: int, *, gift: bool) -> None:
    """A ¥0.00 sale is almost always a slip of the keyboard (Enter before the amount), so it
    is recorded only when someone says it is a free gift: the cashier confirming at the
    counter, ``--gift`` on the command line, or the POS, whose own records already hold it."""
    if fen == 0 and not gift:
        raise InvalidInput(
            "amount",
            "zero",
            "A sale of 0.00 is recorded only as a free gift: type the amount paid, or confirm"
            " the gift.",
        )


def clean_receipt_no(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text:
        raise InvalidInput("receipt_no", "empty", "Receipt number is empty.")
    if len(text) > RECEIPT_MAX_CHARS:
        raise InvalidInput(
            "receipt_no",
            "too_long",
            f"Receipt number is longer than {RECEIPT_MAX_CHARS} characters.",
            limit=RECEIPT_MAX_CHARS,
            actual=len(text),
        )
    if not _RECEIPT.fullmatch(text):
        raise InvalidInput(
            "receipt_no",
            "bad_character",
            "Receipt number may hold only letters, digits and . _ / -",
        )
    return text


def check_currency(raw: str) -> str:
    code = (raw or "").strip().upper()
    if code not in CURRENCIES:
        raise InvalidInput("currency", "unknown", f"Unknown currency {code[:8]!r}.")
    return code


def format_fen(fen: int, currency: str = "CNY") -> str:
    sign = "¥" if currency == "CNY" else f"{currency} "
    minus, fen = ("-", -fen) if fen < 0 else ("", fen)  # floor division would give ¥-1.99 for -1
    return f"{minus}{sign}{fen // 100:,}.{fen % 100:02d}"
