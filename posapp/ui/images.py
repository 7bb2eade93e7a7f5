"""Pillow images (the QR codes ``posapp.qr`` renders) as Qt pixmaps."""

from __future__ import annotations

from PIL import Image
from PySide6.QtGui import QImage, QPixmap

from posapp.qr import qr_image


def to_pixmap(image: Image.Image) -> QPixmap:
    rgb = image.convert("RGB")
    data = rgb.tobytes()
    qimage = QImage(data, rgb.width, rgb.height, rgb.width * 3, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(qimage.copy())  # copy: ``data`` is freed when this returns


def qr_pixmap(url: str, size_px: int) -> QPixmap:
    """A crisp QR for the screen: whole pixels per module, never smoothed."""
    return to_pixmap(qr_image(url, size=size_px))
