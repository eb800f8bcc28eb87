"""Similarity of a new signature to the filed one — a score for a human, never a rejection (design 2.11).

Both cleaned assets are reduced to their ink (alpha), cropped, fitted into the same canvas and
compared with HOG descriptors (gradient-orientation histograms, robust to pen width and small
shifts).  The score is uncalibrated: no genuine/forged pairs of Chinese signatures are available
here (HanSig is on request only), so it is reported, not thresholded.
"""

from __future__ import annotations

import io
from typing import Any

import cv2
import numpy as np
from PIL import Image

_CANVAS = (256, 128)  # w, h
_CELL = 16
_BINS = 9


def _hog(img: np.ndarray) -> np.ndarray:
    """Gradient-orientation histograms per 16×16 cell (unsigned, 9 bins), each cell L2-normalised.
    (OpenCV 5 moved HOGDescriptor out of the main package; this is the same idea in numpy.)"""
    g = img.astype(np.float32)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    mag = np.hypot(gx, gy)
    ang = (np.degrees(np.arctan2(gy, gx)) + 180.0) % 180.0
    b = np.minimum((ang / (180.0 / _BINS)).astype(np.int32), _BINS - 1)
    h, w = img.shape
    cy, cx = h // _CELL, w // _CELL
    cell = (np.arange(h)[:, None] // _CELL) * cx + (np.arange(w)[None, :] // _CELL)
    hist = np.bincount((cell * _BINS + b).ravel(), weights=mag.ravel(), minlength=cy * cx * _BINS).reshape(
        cy * cx, _BINS
    )
    hist = hist / (np.linalg.norm(hist, axis=1, keepdims=True) + 1e-6)
    flat: np.ndarray = hist.ravel()
    return flat


def _features(png: bytes) -> np.ndarray | None:
    a = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))[..., 3]
    ys, xs = np.nonzero(a > 40)
    if len(ys) < 20:
        return None
    a = a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = a.shape
    f = min((_CANVAS[0] - 16) / w, (_CANVAS[1] - 16) / h)
    a = cv2.resize(a, (max(1, int(w * f)), max(1, int(h * f))), interpolation=cv2.INTER_AREA)
    canvas: np.ndarray = np.zeros((_CANVAS[1], _CANVAS[0]), np.uint8)
    y0, x0 = (_CANVAS[1] - a.shape[0]) // 2, (_CANVAS[0] - a.shape[1]) // 2
    canvas[y0 : y0 + a.shape[0], x0 : x0 + a.shape[1]] = a
    canvas = cv2.GaussianBlur(canvas, (0, 0), 2.0)
    return _hog(canvas)


def compare(new_png: bytes, reference_png: bytes) -> dict[str, Any] | None:
    fa, fb = _features(new_png), _features(reference_png)
    if fa is None or fb is None:
        return None
    score = float(np.dot(fa, fb) / (np.linalg.norm(fa) * np.linalg.norm(fb) + 1e-9))
    return {
        "score": round(score, 3),
        "method": "hog-cosine",
        "note": "for a human reviewer only; never an automatic rejection",
    }
