"""The slip's exact bytes: native QR (GS ( k) with EC M, the GB18030 line, the code, the cut."""

from __future__ import annotations

import subprocess
import sys

import pytest
import qrcode
from qrcode.constants import ERROR_CORRECT_M

from posapp.printing import JOIN_LINE, invite_slip, print_invite_slip, printer_from_config
from posapp.printing.slip import MAX_MODULE_DOTS, PAPER_DOTS, QUIET_MODULES, module_dots

URL = "https://m.example.cn/j/1A2b3C4d5E6f7G8h9I0jKlMnOpQrStUv"
CODE = "1A2b3C4d5E6f7G8h9I0jKlMnOpQrStUv"
GS_K = b"\x1d\x28\x6b"
QR_EC_M = GS_K + b"\x03\x00\x31\x45\x31"
QR_PRINT = GS_K + b"\x03\x00\x31\x51\x30"
CUT = b"\x1d\x56\x00"


def qr_store(payload: bytes) -> bytes:
    size = len(payload) + 3
    return GS_K + bytes([size & 0xFF, size >> 8]) + b"\x31\x50\x30" + payload


def captured(**kwargs: str) -> bytes:
    printer = printer_from_config({"kind": "capture"})
    print_invite_slip(printer, **kwargs)
    return bytes(printer.output)


def test_the_capture_target_gets_the_qr_as_native_commands_with_ec_m() -> None:
    out = captured(url=URL, short_code=CODE)
    store = out.index(qr_store(URL.encode()))
    assert out.index(QR_EC_M) < store < out.index(QR_PRINT)
    assert out.count(GS_K + b"\x03\x00\x31\x45") == 1  # one EC setting, and it is M
    # Never an image: no raster (GS v 0), graphics (GS ( L / GS 8 L) or bit-image (ESC *).
    for image_command in (b"\x1dv0", b"\x1d(L", b"\x1d8L", b"\x1b*"):
        assert image_command not in out


def test_a_long_url_sets_the_high_length_byte() -> None:
    url = "https://m.example.cn/j/" + "x" * 300
    out = captured(url=url, short_code=CODE)
    size = len(url) + 3
    assert size > 255
    assert GS_K + bytes([size % 256, size // 256]) + b"\x31\x50\x30" + url.encode() in out


def test_the_join_line_is_gb18030_in_chinese_mode_above_the_qr() -> None:
    out = captured(url=URL, short_code=CODE)
    line = b"\x1c\x26" + "扫码成为会员 / Scan to join".encode("gb18030") + b"\x1c\x2e\n"
    assert JOIN_LINE == "扫码成为会员 / Scan to join"
    assert line.startswith(b"\x1c\x26\xc9\xa8\xc2\xeb")  # 扫码 in GB18030
    assert out.index(line) < out.index(qr_store(URL.encode()))


def test_the_short_code_follows_the_qr_and_the_slip_ends_with_a_cut() -> None:
    out = captured(url=URL, short_code=CODE)
    code_at = out.index(b"\n" + CODE.encode() + b"\n")
    assert out.index(QR_PRINT) < code_at < out.index(CUT)
    assert out.endswith(CUT)
    assert out.startswith(b"\x1b@")  # reset first: no style left over from the last job


def test_a_store_name_prints_first_and_cannot_smuggle_in_commands() -> None:
    out = captured(url=URL, short_code=CODE, store_name="测试门店\x1bi\x1dV\x00 ")
    # The control bytes go; the letters they carried print harmlessly.
    name = b"\x1c\x26" + "测试门店iV".encode("gb18030") + b"\x1c\x2e\n"
    assert out.index(name) < out.index(b"\x1c\x26\xc9\xa8")
    assert b"\x1bi" not in out
    assert out.count(CUT) == 1
    ascii_name = captured(url=URL, short_code=CODE, store_name="Shop 12")
    assert b"\x1ba\x01Shop 12\n\x1c\x26" in ascii_name  # plain text needs no Chinese mode


def test_a_reprint_is_byte_for_byte_the_same_slip() -> None:
    first = captured(url=URL, short_code=CODE, store_name="测试门店")
    assert captured(url=URL, short_code=CODE, store_name="测试门店") == first
    assert first == invite_slip(url=URL, short_code=CODE, store_name="测试门店")


def test_the_qr_fits_a_58mm_roll_at_any_length() -> None:
    long_url = "https://m.example.cn/j/" + "x" * 1500
    assert module_dots(URL) == MAX_MODULE_DOTS
    assert 1 <= module_dots(long_url) < MAX_MODULE_DOTS
    for url in (URL, long_url):
        code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
        code.add_data(url.encode())
        code.make(fit=True)
        assert (17 + 4 * code.version + QUIET_MODULES) * module_dots(url) <= PAPER_DOTS
    size = bytes([module_dots(long_url)])
    assert b"\x1d(k\x03\x001C" + size in invite_slip(url=long_url, short_code=CODE)


@pytest.mark.parametrize(
    ("url", "code"),
    [("", CODE), (URL, ""), (URL, "\x1b\n "), ("https://x.cn/" + "y" * 3000, CODE)],
)
def test_a_slip_without_a_url_or_code_or_with_an_oversized_url_is_a_caller_bug(
    url: str, code: str
) -> None:
    with pytest.raises(ValueError):
        invite_slip(url=url, short_code=code)


def test_importing_printing_leaves_escpos_and_the_apps_logging_alone() -> None:
    script = (
        "import logging, sys\n"
        "import posapp.printing as p\n"
        "assert 'escpos' not in sys.modules, 'escpos imported eagerly'\n"
        "p.invite_slip(url='https://x.cn/j/A', short_code='A')\n"
        "assert 'escpos' in sys.modules\n"
        "assert logging.getLogger().handlers == [], logging.getLogger().handlers\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
