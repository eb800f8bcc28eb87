"""QR images of a URL (pure): PNG and SVG, error-correction level M, quiet zone 4."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M


def _qr(data: str, box_size: int) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, box_size=box_size)
    qr.add_data(data)
    qr.make(fit=True)
    return qr


def png(data: str, box_size: int = 8) -> bytes:
    buf = io.BytesIO()
    _qr(data, box_size).make_image(fill_color="black", back_color="white").save(buf, format="PNG")
    return buf.getvalue()


def svg(data: str, box_size: int = 10) -> bytes:
    buf = io.BytesIO()
    _qr(data, box_size).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buf)
    return buf.getvalue()
