"""Printing the invite QR slip on an ESC/POS receipt printer (USB, network or serial).

Qt-free and independent of the database: it takes the invite as plain strings, so the
counter calls it after the sale is saved, off the GUI thread, and again for a reprint.
"""

from __future__ import annotations

from posapp.printing.slip import JOIN_LINE, invite_slip
from posapp.printing.targets import (
    DEFAULT_TIMEOUT,
    PrintFailed,
    print_invite_slip,
    printer_from_config,
    send,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "JOIN_LINE",
    "PrintFailed",
    "invite_slip",
    "print_invite_slip",
    "printer_from_config",
    "send",
]
