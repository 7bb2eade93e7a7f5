"""QR images scan back to exactly the URL, crisp, with their quiet zone, logo or not."""

from __future__ import annotations

from pathlib import Path

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from posapp.domain.invite import ALPHABET, TOKEN_LENGTH
from posapp.qr import QUIET_ZONE, qr_image, qr_matrix, save_png

URL = "https://m.example.cn/j/0cv946CBj6QA42p9YIQgQUoodwr2dR"


def _scan(image: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image)]


@settings(max_examples=25, deadline=None)
@given(st.text(alphabet=ALPHABET, min_size=TOKEN_LENGTH, max_size=TOKEN_LENGTH))
def test_every_invite_url_scans_back(token: str) -> None:
    url = f"https://m.example.cn/j/{token}"
    assert _scan(qr_image(url, size=240)) == [url]


def test_quiet_zone_and_whole_pixel_modules() -> None:
    matrix = qr_matrix(URL)
    n = len(matrix)
    for i in range(QUIET_ZONE):
        assert not any(matrix[i]) and not any(matrix[n - 1 - i])
        assert not any(row[i] or row[n - 1 - i] for row in matrix)
    image = qr_image(URL, size=400)
    assert image.width == image.height == n * (400 // n)
    assert {colour for _, colour in image.getcolors()} == {0, 255}  # no grey edges from smoothing


def test_a_centre_logo_raises_error_correction_and_still_scans(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    Image.new("RGB", (64, 64), (200, 30, 30)).save(logo)
    plain, marked = qr_matrix(URL), qr_matrix(URL, logo=True)
    assert len(marked) > len(plain)  # level H needs more modules than M
    image = qr_image(URL, size=330, logo=logo)
    assert image.getpixel((image.width // 2, image.height // 2)) not in (0, 255)
    assert _scan(image) == [URL]


def test_png_file(tmp_path: Path) -> None:
    path = save_png(URL, tmp_path / "invite.png")
    with Image.open(path) as image:
        assert image.format == "PNG" and _scan(image) == [URL]


@pytest.mark.parametrize("url", ["", "x" * 3000])
def test_odd_payloads_are_still_encoded_or_refused_clearly(url: str) -> None:
    if len(url) > 2000:
        with pytest.raises(ValueError, match="too long for a QR code"):
            qr_matrix(url * 2)
    else:
        assert _scan(qr_image(url or " ", size=200)) == [url or " "]
