"""Bytes → validated RGB array, with every client mistake turned into a clear 4xx IdsvcError.

Limits are enforced here, explicitly, before pixels are decoded (we do not rely on Pillow's global
``Image.MAX_IMAGE_PIXELS``, which any other module may change): byte size, pixel count, side
length, single frame, JPEG/PNG only.  JPEGs are decoded with DCT scaling (``Image.draft``) when the
analysis needs fewer pixels than the file has; that is what keeps a 12 MP check cheap.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from idsvc.core.errors import IdsvcError, payload_too_large
from idsvc.core.imagebudget import check_decode_budget

from . import thresholds as T
from .errors import (
    EMPTY_FILE,
    IMAGE_TOO_LARGE,
    IMAGE_TOO_SMALL,
    IMAGE_UNREADABLE,
    UNSUPPORTED_FORMAT,
)

# Standard IJG luminance table (natural order); the ratio of sums is order-independent.
_STD_LUMA_SUM = sum(
    [
        16,
        11,
        10,
        16,
        24,
        40,
        51,
        61,
        12,
        12,
        14,
        19,
        26,
        58,
        60,
        55,
        14,
        13,
        16,
        24,
        40,
        57,
        69,
        56,
        14,
        17,
        22,
        29,
        51,
        87,
        80,
        62,
        18,
        22,
        37,
        56,
        68,
        109,
        103,
        77,
        24,
        35,
        55,
        64,
        81,
        104,
        113,
        92,
        49,
        64,
        78,
        87,
        103,
        121,
        120,
        101,
        72,
        92,
        95,
        98,
        112,
        100,
        103,
        99,
    ]
)


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "JPEG" | "PNG"
    width: int  # after EXIF orientation, full resolution
    height: int
    n_bytes: int
    declared_dpi: float | None  # rounded; None when absent / aspect-only
    camera: bool  # EXIF Make/Model present → the DPI tag is a phone default, not a scale
    jpeg_quality: int | None
    grayscale: bool
    orientation: int

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format.lower(),
            "width": self.width,
            "height": self.height,
            "bytes": self.n_bytes,
            "megapixels": round(self.megapixels, 2),
            "declared_dpi": self.declared_dpi,
            "camera": self.camera,
            "jpeg_quality": self.jpeg_quality,
            "grayscale": self.grayscale,
        }


def _unsupported(detected: str, what: str, what_en: str, advice: str, advice_en: str) -> IdsvcError:
    return UNSUPPORTED_FORMAT({"detected": detected}, what=what, what_en=what_en, advice=advice, advice_en=advice_en)


_UPLOAD_JPEG = ("请上传签名/印章的照片或扫描图（JPEG 或 PNG）", "upload a JPEG or PNG photo/scan")


def _sniff(data: bytes) -> str:
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:5] == b"%PDF-":
        raise _unsupported("pdf", "PDF 文件", "PDF", *_UPLOAD_JPEG)
    if data[:6] in (b"GIF87a", b"GIF89a"):
        raise _unsupported("gif", "GIF 图片", "GIF", *_UPLOAD_JPEG)
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc", b"ftypmsf1"):
        raise _unsupported(
            "heic",
            "HEIC 格式",
            "HEIC",
            "请在手机设置中选择“兼容性最佳”或导出为 JPEG",
            "export the photo as JPEG",
        )
    raise _unsupported(
        "unknown", "此类文件（不是 JPEG 或 PNG 图片）", "This file (not a JPEG or PNG image)", *_UPLOAD_JPEG
    )


def _declared_dpi(im: Image.Image) -> float | None:
    dpi = im.info.get("dpi")
    if im.format == "JPEG" and im.info.get("jfif_unit") == 0 and not im.getexif().get(296):
        return None  # JFIF unit 0 is a pixel aspect ratio, not a density
    if not dpi:
        return None
    try:
        x = float(dpi[0])
    except (TypeError, ValueError, IndexError):
        return None
    return round(x) if x > 0 else None  # PNG pHYs gives 299.9994


def _jpeg_quality(im: Image.Image) -> int | None:
    q = getattr(im, "quantization", None)
    if not q or 0 not in q:
        return None
    s = 100.0 * sum(q[0]) / _STD_LUMA_SUM  # IJG scaling factor in percent
    quality = (200.0 - s) / 2.0 if s <= 100 else 5000.0 / s
    return int(round(min(100.0, max(1.0, quality))))


def open_checked(data: bytes) -> Image.Image:
    """Open (not decode) ``data`` after the byte/format/dimension checks and the decode budget."""
    if not data:
        raise EMPTY_FILE()
    if len(data) > T.MAX_FILE_BYTES:
        raise payload_too_large(T.MAX_FILE_BYTES)
    fmt = _sniff(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=[fmt])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise IMAGE_TOO_LARGE({"max_pixels": T.MAX_PIXELS}, width="?", height="?") from None
    except Exception:  # noqa: BLE001 - third-party decoders raise anything on hostile input
        raise IMAGE_UNREADABLE() from None
    w, h = im.size
    if w * h > T.MAX_PIXELS or max(w, h) > T.MAX_SIDE:
        raise IMAGE_TOO_LARGE({"width": w, "height": h, "max_pixels": T.MAX_PIXELS}, width=w, height=h)
    if min(w, h) < T.MIN_SIDE:
        raise IMAGE_TOO_SMALL({"width": w, "height": h}, width=w, height=h)
    if getattr(im, "n_frames", 1) > 1:
        raise _unsupported(
            "animation",
            "动图或多页图片",
            "Animated or multi-page images",
            "请上传单张 JPEG 或 PNG",
            "upload one JPEG or PNG",
        )
    check_decode_budget(data)
    return im


_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _orientation(exif: Any) -> int:
    """EXIF Orientation (274) when it is a valid integer 1-8; anything else (ASCII, a tuple, 0, 99) is ignored."""
    try:
        value = exif.get(274)
    except Exception:  # noqa: BLE001 - a hostile EXIF block may raise anything
        return 1
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 8:
        return 1
    return value


def decode(data: bytes, max_long_side: int | None = None) -> tuple[np.ndarray, ImageInfo, float]:
    """Decode to an RGB uint8 array (EXIF orientation applied).

    With ``max_long_side`` a JPEG is DCT-downscaled while decoding (never below that size); the
    returned ``scale`` is array pixels per original pixel.
    """
    im = open_checked(data)
    fmt = im.format or "?"
    w0, h0 = im.size
    declared = _declared_dpi(im)
    exif: Any
    try:
        exif = im.getexif()
    except Exception:  # noqa: BLE001 - third-party decoders raise anything on hostile input
        exif = {}
    try:
        camera = bool(exif.get(271) or exif.get(272))
    except Exception:  # noqa: BLE001
        camera = False
    orientation = _orientation(exif)
    quality = _jpeg_quality(im) if fmt == "JPEG" else None
    grayscale = im.mode in ("1", "L", "LA", "I", "I;16", "F", "P") and not _palette_has_colour(im)
    if max_long_side and fmt == "JPEG" and max(w0, h0) > max_long_side:
        f = max_long_side / max(w0, h0)
        im.draft("RGB", (max(1, int(w0 * f)), max(1, int(h0 * f))))
    try:
        im.load()
        if orientation != 1:  # transpose ourselves: exif_transpose also rewrites (hostile) EXIF/XMP
            im = im.transpose(_TRANSPOSE[orientation])
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            rgba = im.convert("RGBA")
            bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            im = Image.alpha_composite(bg, rgba)
        if im.mode in ("I", "I;16", "I;16B", "F"):
            arr16 = np.asarray(im, dtype=np.float64)
            im = Image.fromarray(np.clip(arr16 / max(1.0, arr16.max()) * 255, 0, 255).astype(np.uint8))
        rgb = np.asarray(im if im.mode == "RGB" else im.convert("RGB"))
    except IdsvcError:
        raise
    except Exception:  # noqa: BLE001 - third-party decoders raise anything on hostile input
        raise IMAGE_UNREADABLE() from None
    wt, ht = (h0, w0) if orientation in (5, 6, 7, 8) else (w0, h0)
    info = ImageInfo(fmt, wt, ht, len(data), declared, camera, quality, grayscale, orientation)
    return np.ascontiguousarray(rgb), info, rgb.shape[1] / wt


def _palette_has_colour(im: Image.Image) -> bool:
    if im.mode != "P":
        return False
    pal = np.asarray(im.convert("RGB").resize((64, 64)), dtype=np.int16)
    return bool(np.abs(pal[..., 0] - pal[..., 1]).max() > 8 or np.abs(pal[..., 1] - pal[..., 2]).max() > 8)
