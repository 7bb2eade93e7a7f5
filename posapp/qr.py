"""QR images of invite URLs for the counter screen, the customer display and `--png` files.

Error correction M (the URL is short, so the code stays coarse and scans from a counter
screen at arm's length); H when a centre logo covers part of it. The four-module quiet
zone is part of the image, and scaling is by whole pixels per module (nearest neighbour)
so edges stay crisp on any screen. The receipt printer draws its own QR natively
(``posapp.printing``), never from these images.
"""

from __future__ import annotations

from pathlib import Path

import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_M
from qrcode.exceptions import DataOverflowError

QUIET_ZONE = 4
LOGO_SHARE = 0.22  # of the side: well inside what level H can lose (≈ 30 % of modules)


def qr_matrix(data: str, *, logo: bool = False) -> list[list[bool]]:
    """The modules, quiet zone included: True is dark."""
    code = qrcode.QRCode(
        error_correction=ERROR_CORRECT_H if logo else ERROR_CORRECT_M,
        border=QUIET_ZONE,
        box_size=1,
    )
    code.add_data(data)
    try:
        code.make(fit=True)
    except (DataOverflowError, ValueError) as exc:  # qrcode says "Invalid version" for this
        raise ValueError(f"{len(data)} characters are too long for a QR code") from exc
    return code.get_matrix()


def qr_image(
    data: str, *, size: int = 0, module_px: int = 8, logo: Path | None = None
) -> Image.Image:
    """A greyscale image of the code. ``size`` (pixels) picks the largest whole number of
    pixels per module that fits; otherwise ``module_px`` is used."""
    matrix = qr_matrix(data, logo=logo is not None)
    modules = len(matrix)
    if size:
        module_px = max(1, size // modules)
    pixels = bytes(0 if dark else 255 for row in matrix for dark in row)
    image = Image.frombytes("L", (modules, modules), pixels)
    image = image.resize((modules * module_px, modules * module_px), Image.Resampling.NEAREST)
    if logo is not None:
        image = _with_logo(image, logo)
    return image


def _with_logo(image: Image.Image, logo_path: Path) -> Image.Image:
    side = int(image.width * LOGO_SHARE)
    with Image.open(logo_path) as logo:
        mark = logo.convert("L")
        mark.thumbnail((side, side), Image.Resampling.LANCZOS)
    framed = Image.new("L", (mark.width + 8, mark.height + 8), 255)
    framed.paste(mark, (4, 4))
    out = image.copy()
    out.paste(framed, ((image.width - framed.width) // 2, (image.height - framed.height) // 2))
    return out


def save_png(data: str, path: Path, *, module_px: int = 10) -> Path:
    qr_image(data, module_px=module_px).save(path, format="PNG", optimize=False)
    return path
