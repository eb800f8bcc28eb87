"""Defective portraits made from real photos (tests/data/faces): darker, tilted, the face tiny."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps


def load(data: bytes) -> Image.Image:
    return ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")


def jpeg(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=92)
    return buf.getvalue()


def dark(data: bytes, factor: float = 0.25) -> bytes:
    """Every pixel times ``factor``: an underexposed photo."""
    arr = np.asarray(load(data), dtype=np.float32) * factor
    return jpeg(Image.fromarray(arr.clip(0, 255).astype(np.uint8)))


def tilted(data: bytes, degrees: float = 22.0) -> bytes:
    """Rotated about the centre (counter-clockwise), the corners filled with the photo's light background."""
    im = load(data)
    return jpeg(im.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=(240, 240, 240)))


def tiny(data: bytes, scale: float = 0.16, canvas: int = 1400) -> bytes:
    """The photo shrunk and placed in the middle of a large light canvas: the face is small."""
    im = load(data)
    small = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.LANCZOS)
    page = Image.new("RGB", (canvas, canvas), (238, 238, 238))
    page.paste(small, ((canvas - small.width) // 2, (canvas - small.height) // 2))
    return jpeg(page)
