"""Shared pixel operations: resampling, black-frame cropping, flat-field normalisation, Lab, ink mask.

Pure functions on numpy arrays; nothing here knows about signatures or seals.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import thresholds as T


def resize_to(rgb: np.ndarray, factor: float) -> np.ndarray:
    if abs(factor - 1.0) < 1e-3:
        return rgb
    h, w = rgb.shape[:2]
    size = (max(1, int(round(w * factor))), max(1, int(round(h * factor))))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC)


def crop_black_border(rgb: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Trim rows/columns at the edges whose mean is below BLACK_BORDER_MEAN (scanner lid, phone frame)."""
    grey = rgb.mean(axis=2)
    rows = grey.mean(axis=1) >= T.BLACK_BORDER_MEAN
    cols = grey.mean(axis=0) >= T.BLACK_BORDER_MEAN
    if not rows.any() or not cols.any():
        return rgb, (0, 0, rgb.shape[1], rgb.shape[0])
    y0, y1 = int(np.argmax(rows)), len(rows) - int(np.argmax(rows[::-1]))
    x0, x1 = int(np.argmax(cols)), len(cols) - int(np.argmax(cols[::-1]))
    if (y1 - y0) < 0.5 * len(rows) or (x1 - x0) < 0.5 * len(cols):
        return rgb, (0, 0, rgb.shape[1], rgb.shape[0])  # a dark image, not a frame
    return rgb[y0:y1, x0:x1], (x0, y0, x1, y1)


def background(rgb: np.ndarray, k_frac: float = 1 / 8) -> np.ndarray:
    """Per-channel paper estimate: blur(dilate(channel)) with a kernel ≈ k_frac × short side.

    Computed on a copy whose short side is 16/k_frac px, so the kernel is always ~15 px: the
    background is smooth by construction, and this keeps the cost flat however wide the kernel.
    """
    h, w = rgb.shape[:2]
    f = min(1.0, (16.0 / k_frac) / min(h, w))
    small = cv2.resize(rgb, (max(8, int(w * f)), max(8, int(h * f))), interpolation=cv2.INTER_AREA)
    k = max(3, int(min(small.shape[:2]) * k_frac) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    bg = cv2.dilate(small, kernel)
    bg = cv2.GaussianBlur(bg, (0, 0), k / 3)
    bg = cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.maximum(bg.astype(np.float32), 1.0)


def normalise(rgb: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """Flat-field: image ÷ background → paper ≈ 1.0 in every channel (removes shading *and* colour cast)."""
    clipped: np.ndarray = np.clip(rgb.astype(np.float32) / bg, 0.0, 1.0)
    return clipped


def lab(rgb01: np.ndarray) -> np.ndarray:
    """float RGB in [0,1] → CIELAB (L 0–100, a/b ≈ ±127)."""
    return cv2.cvtColor(np.ascontiguousarray(rgb01, dtype=np.float32), cv2.COLOR_RGB2LAB)


def lab_u8(rgb: np.ndarray) -> np.ndarray:
    return lab(rgb.astype(np.float32) / 255.0)


def chroma_hue(lab_px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = lab_px[..., 1], lab_px[..., 2]
    return np.hypot(a, b), (np.degrees(np.arctan2(b, a)) + 360.0) % 360.0


def grey(rgb01: np.ndarray) -> np.ndarray:
    return rgb01 @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def drop_small(mask: np.ndarray, min_px: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Remove connected components smaller than ``min_px``; returns (mask, labels, stats)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    keep = np.zeros(n, dtype=bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_px
    return keep[labels], labels, stats[keep]


def ink_components(
    norm_grey: np.ndarray, threshold: float = T.INK_THRESHOLD, min_px: int = T.MIN_COMPONENT_PX
) -> tuple[np.ndarray, np.ndarray]:
    """(ink mask, stats of its kept components) — one labelling pass serves both."""
    m: np.ndarray = (norm_grey < threshold).astype(np.uint8)
    m = cv2.morphologyEx(m, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    mask, _, stats = drop_small(m > 0, min_px)
    return mask, stats


def ink_mask(norm_grey: np.ndarray, threshold: float = T.INK_THRESHOLD, min_px: int = T.MIN_COMPONENT_PX) -> np.ndarray:
    return ink_components(norm_grey, threshold, min_px)[0]


def circular_mean_deg(h: np.ndarray) -> float:
    r = np.radians(h)
    return float((np.degrees(np.arctan2(np.sin(r).mean(), np.cos(r).mean())) + 360.0) % 360.0)


def hue_in(h: float, lo: float, hi: float) -> bool:
    """Hue range test that wraps through 0° when lo > hi (e.g. red 330°–50°)."""
    return lo <= h <= hi if lo <= hi else (h >= lo or h <= hi)
