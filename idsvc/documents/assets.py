"""Cleaned assets: what the electronic certificate and reports print.

Cropped (signature: ink box + 3 mm; seal: hull + 1.5 mm), background transparent, ink colour
normalised (pure black / standard seal red), 300 dpi in the PNG metadata.  Strokes are never
"beautified" (design 2.13): alpha keeps the measured anti-aliasing.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image

from . import thresholds as T
from .strokes import darkness

ASSET_PX_PER_MM = T.ANALYSIS_DPI / T.MM_PER_INCH


def _png(rgba: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG", dpi=(T.ANALYSIS_DPI, T.ANALYSIS_DPI), compress_level=3)
    return buf.getvalue()


def _crop(shape: tuple[int, int], box: tuple[int, int, int, int], margin: int) -> tuple[slice, slice]:
    h, w = shape
    x0, y0, x1, y1 = box
    return slice(max(0, y0 - margin), min(h, y1 + margin)), slice(max(0, x0 - margin), min(w, x1 + margin))


def signature_png(
    norm_grey: np.ndarray, ink: np.ndarray, bbox: tuple[int, int, int, int], ink_core: float, px_per_mm: float | None
) -> bytes:
    """``px_per_mm`` None (unknown scale): printed at a nominal NOMINAL_SIGNATURE_WIDTH_MM wide."""
    ppm = px_per_mm or (bbox[2] - bbox[0]) / T.NOMINAL_SIGNATURE_WIDTH_MM
    ys, xs = _crop(norm_grey.shape, bbox, int(round(T.ASSET_MARGIN_MM * ppm)))
    alpha = darkness(norm_grey[ys, xs], ink_core)
    near = cv2.dilate(ink[ys, xs].astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    alpha = np.where(near, alpha, 0.0)  # paper texture and specks far from the ink stay transparent
    f = ASSET_PX_PER_MM / ppm
    if abs(f - 1) > 1e-3:
        alpha = cv2.resize(
            alpha.astype(np.float32), None, fx=f, fy=f, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC
        )
    a8 = np.clip(alpha * 255.0, 0, 255).astype(np.uint8)
    rgba = np.zeros(a8.shape + (4,), np.uint8)
    rgba[..., 3] = a8
    return _png(rgba)


def seal_png(chroma: np.ndarray, hull: np.ndarray, angle_deg: float, px_per_mm: float, upright: bool) -> bytes:
    """Alpha from Lab chroma on the flat-fielded image, clip((C* − 10)/25) (design 2.13), inside the
    hull; rotated upright when the shape has a defined orientation."""
    inside: np.ndarray = np.zeros(chroma.shape, np.uint8)
    cv2.fillConvexPoly(inside, hull.astype(np.int32), 1)
    inside = cv2.dilate(inside, np.ones((5, 5), np.uint8))
    alpha = np.clip((chroma - 10.0) / 25.0, 0, 1) * inside
    x, y, w, h = cv2.boundingRect(hull.astype(np.int32))
    margin = int(round(T.SEAL_ASSET_MARGIN_MM * px_per_mm))
    pad = margin + int(0.3 * max(w, h))  # room to rotate without clipping
    ys, xs = _crop(alpha.shape, (x, y, x + w, y + h), pad)
    a: np.ndarray = alpha[ys, xs].astype(np.float32)
    if upright and abs(angle_deg) > 0.2:
        c = (a.shape[1] / 2, a.shape[0] / 2)
        a = cv2.warpAffine(
            a, cv2.getRotationMatrix2D(c, angle_deg, 1.0), (a.shape[1], a.shape[0]), flags=cv2.INTER_LINEAR
        )
    nz = np.argwhere(a > 0.05)
    if len(nz):
        (y0, x0), (y1, x1) = nz.min(axis=0), nz.max(axis=0) + 1
        a = a[max(0, y0 - margin) : y1 + margin, max(0, x0 - margin) : x1 + margin]
    f = ASSET_PX_PER_MM / px_per_mm
    if abs(f - 1) > 1e-3:
        a = cv2.resize(a, None, fx=f, fy=f, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)
    rgba = np.zeros(a.shape + (4,), np.uint8)
    rgba[..., :3] = T.SEAL_RGB
    rgba[..., 3] = np.clip(a * 255.0, 0, 255).astype(np.uint8)
    return _png(rgba)
