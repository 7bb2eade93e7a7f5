"""The invite slip as ESC/POS bytes: a line to read, the join QR, the code to type, a cut.

Pure: it builds bytes and touches no device, so the exact output is testable and a reprint
is byte for byte the same slip. The QR goes out as the printer's own QR command
(``GS ( k``), never as an image: a few dozen bytes instead of kilobytes of raster, and the
printer draws it at its full resolution.
"""

from __future__ import annotations

import functools
import logging
import unicodedata
from types import ModuleType

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from qrcode.exceptions import DataOverflowError

INIT = b"\x1b@"  # ESC @: forget whatever the last job left set
ALIGN_CENTER = b"\x1ba\x01"  # ESC a 1 (applies to the native QR as well as to text)
ALIGN_LEFT = b"\x1ba\x00"
CHINESE_ON = b"\x1c&"  # FS &: the next bytes are double-byte GB18030 characters
CHINESE_OFF = b"\x1c."  # FS .: back to single-byte text
JOIN_LINE = "扫码成为会员 / Scan to join"
PAPER_DOTS = 384  # printable width of a 58 mm roll, the narrowest one shops use
MAX_MODULE_DOTS = 6  # about 0.75 mm a module at 203 dpi: easy for any phone camera
QUIET_MODULES = 8  # 4 blank modules each side, which scanners need


@functools.cache
def escpos_printers() -> ModuleType:
    """Import ``escpos.printer`` once, on first use, without it taking over our logging.

    python-escpos calls ``logging.basicConfig()`` when imported, which would add its own
    stderr handler and make the app's later logging set-up a no-op; a handler already on
    the root logger during the import makes that call do nothing. It is also slow to
    import (a quarter of a second), so nothing pays for it until a slip is printed.
    """
    root = logging.getLogger()
    guard = logging.NullHandler()
    root.addHandler(guard)
    try:
        import escpos.printer
    finally:
        root.removeHandler(guard)
    return escpos.printer


def invite_slip(*, url: str, short_code: str, store_name: str | None = None) -> bytes:
    """The whole slip for one invite, ready to send to any ESC/POS printer in one write.

    Raises ``ValueError`` for a URL no QR can hold or an empty code: those are bugs in
    the caller, not printer trouble.
    """
    code = _printable(short_code)
    if not url or not code:
        raise ValueError("an invite slip needs both the URL and the short code")
    printer = escpos_printers().Dummy()
    from escpos.constants import QR_ECLEVEL_M, QR_MODEL_2

    printer._raw(INIT + ALIGN_CENTER)
    if store_name and _printable(store_name):
        printer._raw(text_line(store_name))
    printer._raw(text_line(JOIN_LINE))
    # Error correction M (15%) survives a smudge or a fold in thermal paper.
    printer.qr(url, native=True, ec=QR_ECLEVEL_M, model=QR_MODEL_2, size=module_dots(url))
    printer._raw(b"\n" + text_line(code) + ALIGN_LEFT)
    printer.cut()
    return bytes(printer.output)


def text_line(text: str) -> bytes:
    """One line of text; Chinese goes out as GB18030 inside the printer's Chinese mode.

    python-escpos writes any text with a Chinese character as bare GB18030 without
    switching the printer to Chinese mode, so such a line prints as single-byte gibberish
    on printers that start in a Western code page; hence the raw FS & … FS . around it.
    Control characters are dropped so a name can never smuggle in a printer command.
    """
    clean = _printable(text)
    if clean.isascii():
        return clean.encode("ascii") + b"\n"
    return CHINESE_ON + clean.encode("gb18030") + CHINESE_OFF + b"\n"


def module_dots(url: str) -> int:
    """Dots per QR module so the whole code, quiet zone included, fits a 58 mm roll."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    code.add_data(url.encode("utf-8"))
    try:
        code.make(fit=True)
    except DataOverflowError as exc:
        raise ValueError("the invite URL is too long for a QR code") from exc
    modules = 17 + 4 * int(code.version) + QUIET_MODULES
    return max(1, min(MAX_MODULE_DOTS, PAPER_DOTS // modules))


def _printable(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip()
