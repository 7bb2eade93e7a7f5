"""Receipt printers a slip can go to, chosen in settings, and what went wrong in plain words.

The sale is recorded before anything prints and printing runs off the GUI thread, so a
printer that is off, out of paper or unplugged costs a few seconds at most and ends in one
:class:`PrintFailed` the counter can show; it never blocks the till or loses the sale.
Every wait has a limit: connecting, writing, the paper-status question and the goodbye.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from posapp.printing.slip import escpos_printers, invite_slip

if TYPE_CHECKING:
    from escpos.escpos import Escpos

DEFAULT_TIMEOUT = 5.0
STATUS_WAIT = 1.0  # a printer that answers DLE EOT at all does so within milliseconds
DLE_EOT_PAPER = b"\x10\x04\x04"  # "how is the paper roll sensor?"
NO_PAPER = 0x60  # paper-end bits of that answer
BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # kind: (required, optional)
    "none": ((), ()),
    "capture": ((), ()),
    "network": (("host",), ("port",)),
    "usb": (("vendor_id", "product_id"), ("in_ep", "out_ep")),
    "serial": (("device",), ("baudrate",)),
}
NOT_CONFIGURED = (
    "No receipt printer is set up, so nothing was printed. A manager can choose one in Settings."
)
OUT_OF_PAPER = "The receipt printer is out of paper. Put in a new roll, then print again."
CUT_SHORT = "The printer stopped in the middle of the slip. Check the printer, then print again."
FAILED = "The slip could not be printed. Check the printer, then print again."


class PrintFailed(RuntimeError):
    """The slip did not print (the sale is safe either way).

    ``rule`` is a stable code the UI translates: ``not_configured``, ``bad_config``,
    ``offline``, ``out_of_paper`` or ``failed``; ``message`` says in plain words what the
    cashier can do. The low-level cause stays chained as ``__cause__`` for the log.
    """

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message

    def __reduce__(self) -> tuple[type[PrintFailed], tuple[str, str]]:
        return (type(self), (self.rule, self.message))

    def __repr__(self) -> str:
        return f"PrintFailed(rule={self.rule!r})"


def print_invite_slip(
    printer: Mapping[str, Any] | Escpos,
    *,
    url: str,
    short_code: str,
    store_name: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> None:
    """Print one invite slip: the settings' printer config, or a ready python-escpos printer.

    A reprint is the same call again. Run it after the sale is recorded and off the GUI
    thread: each step waits at most ``timeout`` (the status question ``STATUS_WAIT``), so
    a dead printer costs seconds, never the till. Raises only :class:`PrintFailed` (and
    ``ValueError`` for an empty code or a URL too long for a QR: caller bugs).
    """
    data = invite_slip(url=url, short_code=short_code, store_name=store_name)
    escpos_printers()
    from escpos.escpos import Escpos

    if not isinstance(printer, Escpos):
        printer = printer_from_config(printer, timeout=timeout)
    send(printer, data, timeout=timeout)


def printer_from_config(config: Mapping[str, Any], *, timeout: float = DEFAULT_TIMEOUT) -> Escpos:
    """The python-escpos printer the settings describe, not yet connected.

    Raises :class:`PrintFailed` ``not_configured`` for kind ``none`` and ``bad_config``,
    naming the offending key, for anything else it cannot use; a settings screen can
    call it to check a config before saving.
    """
    kind = _checked_kind(config)
    printers = escpos_printers()
    if kind == "none":
        raise PrintFailed("not_configured", NOT_CONFIGURED)
    if kind == "capture":
        return printers.Dummy()
    if kind == "network":
        host = config["host"]
        if not isinstance(host, str) or not host.strip():
            raise _bad_config('"host" must be the printer\'s IP address or name')
        port = _number(config, "port", 9100, 1, 65535)
        return printers.Network(host=host.strip(), port=port, timeout=timeout)
    if kind == "usb":
        return printers.Usb(
            _number(config, "vendor_id", None, 1, 0xFFFF),
            _number(config, "product_id", None, 1, 0xFFFF),
            timeout=max(1, int(timeout * 1000)),  # pyusb counts milliseconds; 0 would mean forever
            in_ep=_number(config, "in_ep", 0x82, 1, 0xFF),
            out_ep=_number(config, "out_ep", 0x01, 1, 0xFF),
        )
    device = config["device"]
    if not isinstance(device, str) or not device.strip():
        raise _bad_config('"device" must be the serial port, like "/dev/ttyUSB0" or "COM3"')
    baudrate = _number(config, "baudrate", 9600, 1, 10**7)
    if baudrate not in BAUD_RATES:
        raise _bad_config(f'"baudrate" must be one of {", ".join(map(str, BAUD_RATES))}')
    # The serial timeout is the read timeout: it bounds the wait for a paper-status answer.
    return printers.Serial(devfile=device.strip(), baudrate=baudrate, timeout=STATUS_WAIT)


def send(printer: Escpos, data: bytes, *, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Hand ``data`` to the printer in one write, asking its paper sensor first where it can.

    One write means a printer that hangs up part way shows up as a failure rather than as
    a half-sent job we take for printed.
    """
    sent = False
    try:
        try:
            _open(printer, timeout)
        except Exception as exc:
            raise PrintFailed("offline", _offline_message(printer)) from exc
        try:
            _check_paper(printer)
            printer._raw(data)  # python-escpos's one way to send bytes as they are
            _finish(printer, timeout)
        except PrintFailed:
            raise
        except Exception as exc:
            raise _explain(exc, printer) from exc
        sent = True
    finally:
        _close(printer, sent=sent)


def _open(printer: Escpos, timeout: float) -> None:
    printers = escpos_printers()
    if isinstance(printer, printers.Dummy):
        return
    printer.open()
    if printer.device is None:  # python-escpos checks with ``assert``, gone under ``-O``
        raise ConnectionError("no device")
    if isinstance(printer, printers.Serial):
        printer.device.write_timeout = timeout
        # A status answer is one byte: return just after it rather than waiting out the
        # read timeout for the 16 bytes python-escpos asks for.
        printer.device.inter_byte_timeout = 0.05


def _check_paper(printer: Escpos) -> None:
    """Ask DLE EOT 4; stop on "no paper", carry on when the printer cannot tell.

    Not ``paper_status()``: it reads "no answer" as "plenty of paper", and from a network
    printer no answer at all means it hung up on us.
    """
    printers = escpos_printers()
    if not isinstance(printer, printers.Network | printers.Serial | printers.Usb):
        return
    network = isinstance(printer, printers.Network)
    if network:
        printer.device.settimeout(min(STATUS_WAIT, printer.timeout))
    try:
        answer = printer.query_status(DLE_EOT_PAPER)
    except (TimeoutError, NotImplementedError):
        return  # a printer that does not report status: print anyway
    except OSError:
        if isinstance(printer, printers.Usb):
            return  # no IN endpoint, or it does not answer on it
        raise
    finally:
        if network:
            printer.device.settimeout(printer.timeout)
    if not answer:
        if network:  # it hung up before the slip: nothing printed
            raise PrintFailed("failed", FAILED)
        return
    # Bits 1 and 4 are always set in a real status byte; anything else is line noise.
    if answer[0] & 0x93 == 0x12 and answer[0] & NO_PAPER == NO_PAPER:
        raise PrintFailed("out_of_paper", OUT_OF_PAPER)


def _finish(printer: Escpos, timeout: float) -> None:
    """Wait, within ``timeout``, until the slip has left this computer.

    Network: say we are done and read until the printer closes its side; a reset means
    it dropped the slip part way. A printer that keeps the line open has had every byte
    handed over, so that counts as printed. Serial: wait for the port's output queue to
    empty, since a stopped printer holds it back and closing would wait on it.
    """
    printers = escpos_printers()
    if isinstance(printer, printers.Network):
        sock = printer.device
        deadline = time.monotonic() + timeout
        try:
            sock.shutdown(socket.SHUT_WR)
            # Late status answers are read too: unread bytes would make closing a reset.
            while (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                if not sock.recv(256):
                    return
        except TimeoutError:
            return
        except OSError as exc:
            raise PrintFailed("failed", CUT_SHORT) from exc
    elif isinstance(printer, printers.Serial):
        deadline = time.monotonic() + timeout
        while printer.device.out_waiting:
            if time.monotonic() > deadline:
                raise TimeoutError("the serial printer stopped taking data")
            time.sleep(0.02)


def _close(printer: Escpos, *, sent: bool) -> None:
    printers = escpos_printers()
    with contextlib.suppress(Exception):
        if not sent and isinstance(printer, printers.Serial) and printer._device:
            # python-escpos flushes (tcdrain) before closing, which may not return while a
            # stuck printer holds the line; after a failure drop what is left instead.
            printer._device.reset_output_buffer()
            printer._device.close()
            printer._device = False
        else:
            printer.close()


def _explain(exc: Exception, printer: Escpos) -> PrintFailed:
    """The cashier's version of a failure once the printer was reached."""
    printers = escpos_printers()
    if isinstance(exc, _timeouts()):
        return PrintFailed("offline", _offline_message(printer))
    if isinstance(printer, printers.Network) and isinstance(exc, ConnectionError):
        return PrintFailed("failed", CUT_SHORT)
    if isinstance(printer, printers.Usb | printers.Serial) and isinstance(exc, OSError):
        return PrintFailed("offline", _offline_message(printer))  # unplugged part way
    return PrintFailed("failed", FAILED)


def _timeouts() -> tuple[type[BaseException], ...]:
    kinds: list[type[BaseException]] = [TimeoutError]
    with contextlib.suppress(ImportError):
        from serial import SerialTimeoutException

        kinds.append(SerialTimeoutException)
    with contextlib.suppress(ImportError):
        from usb.core import USBTimeoutError

        kinds.append(USBTimeoutError)
    return tuple(kinds)


def _offline_message(printer: Escpos) -> str:
    printers = escpos_printers()
    if isinstance(printer, printers.Network):
        return (
            f"The receipt printer at {printer.host} does not answer. Check that it is "
            "switched on and connected to the network, then print again."
        )
    if isinstance(printer, printers.Serial):
        return (
            f"The receipt printer on {printer.devfile} does not answer. Check that it is "
            "switched on and its cable is plugged in, then print again."
        )
    return (
        "The receipt printer was not found. Check that it is switched on and its cable "
        "is plugged in, then print again."
    )


def _checked_kind(config: Mapping[str, Any]) -> str:
    if not isinstance(config, Mapping):
        raise _bad_config('the printer setting must be an object like {"kind": "network", …}')
    kind = config.get("kind", "none")
    if not isinstance(kind, str) or kind not in KEYS:
        raise _bad_config(f'"kind" must be one of {", ".join(KEYS)}, not {kind!r}')
    required, optional = KEYS[kind]
    missing = [key for key in required if key not in config]
    if missing:
        raise _bad_config(f'a {kind} printer needs "{missing[0]}"')
    unknown = sorted(set(config) - {"kind", *required, *optional})
    if unknown:
        allowed = ", ".join(f'"{key}"' for key in (*required, *optional)) or "nothing else"
        raise _bad_config(f'"{unknown[0]}" is not a {kind} printer setting (allowed: {allowed})')
    return kind


def _number(config: Mapping[str, Any], key: str, default: int | None, low: int, high: int) -> int:
    """An integer setting; USB ids and endpoints may also be hex strings like "0x0416"."""
    value = config.get(key, default)
    if isinstance(value, str) and key.endswith(("_id", "_ep")):
        with contextlib.suppress(ValueError):
            value = int(value, 16)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        hint = ' (a hex string like "0x0416" works too)' if key.endswith(("_id", "_ep")) else ""
        raise _bad_config(f'"{key}" must be a whole number from {low} to {high}{hint}')
    return value


def _bad_config(what: str) -> PrintFailed:
    return PrintFailed(
        "bad_config",
        f"The printer settings are wrong: {what}. Nothing was printed; a manager can fix "
        "this in Settings.",
    )
