"""Printer targets: the bytes that reach a (fake) network or serial printer, and every way
a printer can fail ending in one PrintFailed with a rule, never a hang or a raw trace.

The network printer is a real TCP server on a free loopback port and the serial one a real
pseudo-terminal: fakes only at the edge we do not own, the printer itself.
"""

from __future__ import annotations

import copy
import os
import pickle
import select
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from posapp.printing import PrintFailed, invite_slip, print_invite_slip, printer_from_config
from posapp.printing.targets import DLE_EOT_PAPER
from posapp.settings import Settings, load_settings

URL = "https://m.example.cn/j/Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0F"
CODE = "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0F"
SLIP = invite_slip(url=URL, short_code=CODE, store_name="测试门店")
PAPER_OK = b"\x12"
PAPER_OUT = b"\x72"  # both paper-end bits set
TIMEOUT = 0.5


class FakeNetworkPrinter:
    """A receipt printer on TCP: records what it reads and answers DLE EOT 4.

    ``status`` None never answers (a printer without status support); ``hang_up_after``
    closes after reading that many bytes, with the rest unread; ``reads`` False accepts
    and then reads nothing until the test asks (a printer wedged with a full buffer).
    """

    def __init__(
        self,
        *,
        status: bytes | None = PAPER_OK,
        hang_up_after: int | None = None,
        reads: bool = True,
    ) -> None:
        self.status, self.hang_up_after, self.reads = status, hang_up_after, reads
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.received = bytearray()
        self.conn: socket.socket | None = None
        self.finished = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def config(self) -> dict[str, Any]:
        return {"kind": "network", "host": "127.0.0.1", "port": self.port}

    def _serve(self) -> None:
        self.conn, _ = self.server.accept()
        if not self.reads:
            return
        answered = 0
        while True:
            size = 4096
            if self.hang_up_after is not None:
                size = self.hang_up_after - len(self.received)
            chunk = self.conn.recv(size)
            if not chunk:
                break
            self.received += chunk
            while self.status is not None and self.received.count(DLE_EOT_PAPER) > answered:
                self.conn.sendall(self.status)
                answered += 1
            if self.hang_up_after is not None and len(self.received) >= self.hang_up_after:
                break
        self.conn.close()
        self.finished.set()

    def read_the_rest(self) -> bytes:
        """For a printer that did not read during the job: what is waiting for it."""
        assert self.conn is not None
        self.conn.settimeout(10)
        while chunk := self.conn.recv(4096):
            self.received += chunk
        return bytes(self.received)

    def close(self) -> None:
        self.server.close()
        if self.conn is not None:
            self.conn.close()
        self.thread.join(10)


@pytest.fixture
def fake_printers() -> Iterator[list[FakeNetworkPrinter]]:
    made: list[FakeNetworkPrinter] = []
    yield made
    for printer in made:
        printer.close()


def network(made: list[FakeNetworkPrinter], **kwargs: Any) -> FakeNetworkPrinter:
    printer = FakeNetworkPrinter(**kwargs)
    made.append(printer)
    return printer


def print_to(config: Any) -> None:
    print_invite_slip(config, url=URL, short_code=CODE, store_name="测试门店", timeout=TIMEOUT)


# --- network -------------------------------------------------------------------------


def test_a_network_printer_gets_the_status_question_then_the_exact_slip(
    fake_printers: list[FakeNetworkPrinter],
) -> None:
    printer = network(fake_printers)
    print_to(printer.config)
    assert printer.finished.wait(10)
    assert bytes(printer.received) == DLE_EOT_PAPER + SLIP
    assert b"\x1d\x28\x6b\x03\x00\x31\x51\x30" in printer.received


def test_a_reprint_sends_the_same_slip_again(fake_printers: list[FakeNetworkPrinter]) -> None:
    first, second = network(fake_printers), network(fake_printers)
    print_to(first.config)
    print_to(second.config)
    assert first.finished.wait(10) and second.finished.wait(10)
    assert bytes(first.received) == bytes(second.received) == DLE_EOT_PAPER + SLIP


def test_a_printer_that_never_answers_status_still_prints(
    fake_printers: list[FakeNetworkPrinter],
) -> None:
    printer = network(fake_printers, status=None)
    print_to(printer.config)
    assert printer.finished.wait(10)
    assert bytes(printer.received) == DLE_EOT_PAPER + SLIP


def test_out_of_paper_is_reported_and_the_slip_is_not_sent(
    fake_printers: list[FakeNetworkPrinter],
) -> None:
    printer = network(fake_printers, status=PAPER_OUT)
    with pytest.raises(PrintFailed) as failed:
        print_to(printer.config)
    assert failed.value.rule == "out_of_paper"
    assert "paper" in failed.value.message
    assert printer.finished.wait(10)
    assert bytes(printer.received) == DLE_EOT_PAPER


def test_a_refused_connection_is_offline() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # free now that nothing listens on it
    with pytest.raises(PrintFailed) as failed:
        print_to({"kind": "network", "host": "127.0.0.1", "port": port})
    assert failed.value.rule == "offline"
    assert "127.0.0.1" in failed.value.message
    assert "switched on" in failed.value.message
    assert isinstance(failed.value.__cause__, Exception)  # the cause stays for the log


def test_a_printer_that_hangs_up_part_way_through_the_slip_fails(
    fake_printers: list[FakeNetworkPrinter],
) -> None:
    printer = network(fake_printers, hang_up_after=len(DLE_EOT_PAPER) + 10)
    with pytest.raises(PrintFailed) as failed:
        print_to(printer.config)
    assert failed.value.rule == "failed"
    assert "middle" in failed.value.message
    assert bytes(printer.received) == DLE_EOT_PAPER + SLIP[:10]


def test_a_printer_that_hangs_up_before_the_slip_fails(
    fake_printers: list[FakeNetworkPrinter],
) -> None:
    printer = network(fake_printers, status=None, hang_up_after=len(DLE_EOT_PAPER))
    with pytest.raises(PrintFailed) as failed:
        print_to(printer.config)
    assert failed.value.rule == "failed"
    assert "middle" not in failed.value.message  # nothing of the slip went out
    assert bytes(printer.received) == DLE_EOT_PAPER


@pytest.mark.timeout(30)  # a hang would fail here rather than after the suite's 300 s
def test_a_printer_that_accepts_but_never_reads_cannot_hold_us(
    fake_printers: list[FakeNetworkPrinter],
) -> None:
    printer = network(fake_printers, reads=False)
    print_to(printer.config)  # returns: the status wait and the goodbye both time out
    # Every byte was handed over before we let go, status question first.
    assert printer.read_the_rest() == DLE_EOT_PAPER + SLIP


# --- usb and serial --------------------------------------------------------------------


def test_a_usb_printer_that_is_not_there_is_offline_not_a_trace() -> None:
    with pytest.raises(PrintFailed) as failed:
        print_to({"kind": "usb", "vendor_id": "0xfffe", "product_id": "0xfffd"})
    assert failed.value.rule == "offline"
    assert "plugged in" in failed.value.message


def test_a_serial_port_that_does_not_exist_is_offline(tmp_path: Path) -> None:
    device = str(tmp_path / "ttyNOPE")
    with pytest.raises(PrintFailed) as failed:
        print_to({"kind": "serial", "device": device, "baudrate": 19200})
    assert failed.value.rule == "offline"
    assert device in failed.value.message


class FakeSerialPrinter:
    """A receipt printer on the far end of a pseudo-terminal, answering DLE EOT 4."""

    def __init__(self, status: bytes) -> None:
        self.master, self.slave = os.openpty()
        self.device = os.ttyname(self.slave)
        self.status = status
        self.received = bytearray()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        answered = 0
        while not self.stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                return
            self.received += chunk
            while self.received.count(DLE_EOT_PAPER) > answered:
                os.write(self.master, self.status)
                answered += 1

    def close(self) -> bytes:
        """Everything the printer was sent: what the thread read, then what is still coming."""
        self.stop.set()
        self.thread.join(10)
        while select.select([self.master], [], [], 0.2)[0]:
            try:
                self.received += os.read(self.master, 4096)
            except OSError:
                break
        os.close(self.master)
        os.close(self.slave)
        return bytes(self.received)


@pytest.fixture
def serial_printer() -> Iterator[type[FakeSerialPrinter]]:
    if not hasattr(os, "openpty"):
        pytest.skip("needs a pseudo-terminal (POSIX)")
    yield FakeSerialPrinter


def test_a_serial_printer_gets_the_exact_slip(
    serial_printer: type[FakeSerialPrinter],
) -> None:
    printer = serial_printer(PAPER_OK)
    try:
        print_to({"kind": "serial", "device": printer.device, "baudrate": 9600})
    finally:
        received = printer.close()
    assert received == DLE_EOT_PAPER + SLIP


def test_a_serial_printer_out_of_paper_gets_no_slip(
    serial_printer: type[FakeSerialPrinter],
) -> None:
    printer = serial_printer(PAPER_OUT)
    try:
        with pytest.raises(PrintFailed) as failed:
            print_to({"kind": "serial", "device": printer.device})
    finally:
        received = printer.close()
    assert failed.value.rule == "out_of_paper"
    assert received == DLE_EOT_PAPER


# --- configuration ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ("usb", "object"),
        ({"kind": "bluetooth"}, "bluetooth"),
        ({"kind": 3}, "kind"),
        ({"kind": "network"}, '"host"'),
        ({"kind": "network", "host": ""}, '"host"'),
        ({"kind": "network", "host": "10.0.0.9", "port": 70000}, '"port"'),
        ({"kind": "network", "host": "10.0.0.9", "port": "9100"}, '"port"'),
        ({"kind": "network", "host": "10.0.0.9", "baudrate": 9600}, '"baudrate"'),
        ({"kind": "usb", "vendor_id": "0x0416"}, '"product_id"'),
        ({"kind": "usb", "vendor_id": "zz", "product_id": 1}, '"vendor_id"'),
        ({"kind": "usb", "vendor_id": True, "product_id": 1}, '"vendor_id"'),
        ({"kind": "usb", "vendor_id": 1, "product_id": 1, "out_ep": 300}, '"out_ep"'),
        ({"kind": "serial"}, '"device"'),
        ({"kind": "serial", "device": "COM3", "baudrate": 9601}, '"baudrate"'),
        ({"kind": "capture", "path": "/tmp/x"}, '"path"'),
    ],
)
def test_a_bad_printer_config_names_what_is_wrong(config: Any, named: str) -> None:
    with pytest.raises(PrintFailed) as failed:
        printer_from_config(config)
    assert failed.value.rule == "bad_config"
    assert named in failed.value.message
    assert "Settings" in failed.value.message
    with pytest.raises(PrintFailed) as printing:
        print_to(config)
    assert printing.value.rule == "bad_config"


@pytest.mark.parametrize("config", [{"kind": "none"}, {}])
def test_no_printer_is_not_configured(config: dict[str, Any]) -> None:
    with pytest.raises(PrintFailed) as failed:
        print_to(config)
    assert failed.value.rule == "not_configured"


def test_good_configs_build_the_printers_they_describe() -> None:
    usb = printer_from_config({"kind": "usb", "vendor_id": "0x0416", "product_id": 0x5011})
    assert usb.usb_args == {"idVendor": 0x0416, "idProduct": 0x5011}
    assert usb.timeout > 0  # pyusb reads 0 as "wait forever"
    net = printer_from_config({"kind": "network", "host": " 192.168.1.50 "}, timeout=2.5)
    assert (net.host, net.port, net.timeout) == ("192.168.1.50", 9100, 2.5)
    serial = printer_from_config({"kind": "serial", "device": "COM3", "baudrate": 115200})
    assert (serial.devfile, serial.baudrate) == ("COM3", 115200)


def test_the_settings_carry_the_printer_and_load_it_back(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    assert settings.printer == {"kind": "none"}
    assert Settings(data_dir=tmp_path).printer is not Settings(data_dir=tmp_path).printer
    settings.printer = {"kind": "network", "host": "192.168.1.50", "port": 9100}
    settings.save()
    loaded = load_settings(tmp_path)
    assert loaded.printer == {"kind": "network", "host": "192.168.1.50", "port": 9100}
    assert printer_from_config(loaded.printer).host == "192.168.1.50"


def test_print_failed_keeps_its_rule_across_threads_and_copies() -> None:
    error = PrintFailed("offline", "The receipt printer does not answer.")
    for clone in (pickle.loads(pickle.dumps(error)), copy.copy(error)):
        assert (clone.rule, clone.message, str(clone)) == (
            "offline",
            "The receipt printer does not answer.",
            "The receipt printer does not answer.",
        )
    assert repr(error) == "PrintFailed(rule='offline')"
