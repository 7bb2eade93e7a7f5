"""Render ``resources/icons/posapp.svg`` to the sizes installers need.

PNGs at 16-512 px (the Linux .desktop entry and AppImage use ``posapp-256.png``; hicolor
themes take any of them), and ``posapp.ico`` with 16-256 px for Windows (PyInstaller's
program icon and the Inno Setup shortcuts). Rendered with Qt's own SVG renderer, so the
PNGs are the SVG, not a redrawing of it. Run after changing the SVG; the outputs are
committed so a build needs nothing but the repository.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def render(svg: Path, size: int, target: Path) -> None:
    renderer = QSvgRenderer(str(svg))
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    if not image.save(str(target)):
        raise SystemExit(f"could not write {target}")


def main() -> int:
    _app = QGuiApplication(sys.argv[:1])
    svg = ICONS / "posapp.svg"
    for size in PNG_SIZES:
        render(svg, size, ICONS / f"posapp-{size}.png")
    with Image.open(ICONS / "posapp-256.png") as big:
        big.save(ICONS / "posapp.ico", sizes=[(s, s) for s in ICO_SIZES])
    sys.stdout.write(f"wrote {len(PNG_SIZES)} PNGs and posapp.ico to {ICONS}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
