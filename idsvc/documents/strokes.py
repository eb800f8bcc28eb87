"""Stroke measurements: skeleton (Zhang–Suen via a lookup table), Euclidean skeleton length,
blur-invariant stroke width, normalised edge sharpness.

Stroke width = Σ ink darkness ÷ Euclidean skeleton length (design 2.5): blur spreads ink but
conserves it, so the estimate is ±5 % from σ = 0 to 2 px, where 2·DT−1 inflates and quantises.
"""

from __future__ import annotations

import cv2
import numpy as np


def _zs_luts() -> tuple[np.ndarray, np.ndarray]:
    lut1 = np.zeros(256, dtype=bool)
    lut2 = np.zeros(256, dtype=bool)
    for code in range(256):
        p = [(code >> i) & 1 for i in range(8)]  # p2..p9 clockwise from north
        b = sum(p)
        a = sum(1 for i in range(8) if p[i] == 0 and p[(i + 1) % 8] == 1)
        p2, _p3, p4, _p5, p6, _p7, p8, _p9 = p
        if 2 <= b <= 6 and a == 1:
            lut1[code] = p2 * p4 * p6 == 0 and p4 * p6 * p8 == 0
            lut2[code] = p2 * p4 * p8 == 0 and p2 * p6 * p8 == 0
    return lut1, lut2


_LUT1, _LUT2 = _zs_luts()


# Correlation kernel giving each pixel the 8-bit code of its neighbours p2..p9 (N, NE, E, SE, S, SW, W, NW).
_CODE_KERNEL = np.array([[128, 1, 2], [64, 0, 4], [32, 16, 8]], dtype=np.float32)
_LUT1_U8 = _LUT1.astype(np.uint8)
_LUT2_U8 = _LUT2.astype(np.uint8)


def _neighbour_code(img: np.ndarray) -> np.ndarray:
    """One filter2D call (exact: integer weights, result ≤ 255 fits uint8)."""
    return cv2.filter2D(img, cv2.CV_8U, _CODE_KERNEL, borderType=cv2.BORDER_CONSTANT)


def skeletonize(mask: np.ndarray, max_iter: int = 200) -> np.ndarray:
    """Zhang–Suen thinning of a boolean mask; each sub-iteration is a filter2D + a LUT lookup."""
    ys, xs = np.nonzero(mask)
    out = np.zeros(mask.shape, dtype=bool)
    if len(ys) == 0:
        return out
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    img = np.pad(mask[y0:y1, x0:x1].astype(np.uint8), 1)
    for _ in range(max_iter):
        changed = False
        for lut in (_LUT1_U8, _LUT2_U8):
            kill = np.asarray(cv2.LUT(_neighbour_code(img), lut), dtype=np.uint8) & img
            if cv2.countNonZero(kill):
                img -= kill
                changed = True
        if not changed:
            break
    out[y0:y1, x0:x1] = img[1:-1, 1:-1].astype(bool)
    return out


def skeleton_length(skel: np.ndarray) -> float:
    """Euclidean length: orthogonal neighbour pairs count 1, diagonal pairs √2 — except diagonals
    already joined through an orthogonal neighbour (staircases), which would double-count."""
    s = skel.astype(bool)
    horiz = np.count_nonzero(s[:, :-1] & s[:, 1:])
    vert = np.count_nonzero(s[:-1, :] & s[1:, :])
    a, b, c, d = s[:-1, :-1], s[:-1, 1:], s[1:, :-1], s[1:, 1:]
    diag1 = np.count_nonzero(a & d & ~b & ~c)
    diag2 = np.count_nonzero(b & c & ~a & ~d)
    return float(horiz + vert + np.sqrt(2.0) * (diag1 + diag2))


def darkness(norm_grey: np.ndarray, ink_core: float, paper: float = 1.0) -> np.ndarray:
    """Per-pixel ink fraction: 0 on paper, 1 at the stroke core (keeps anti-aliasing)."""
    return np.clip((paper - norm_grey) / max(1e-3, paper - ink_core), 0.0, 1.0)


def stroke_width_px(norm_grey: np.ndarray, mask: np.ndarray, ink_core: float, halo_px: int = 4) -> tuple[float, float]:
    """(width px, skeleton length px).  Σ darkness is taken over the mask dilated by ``halo_px`` so
    the blurred skirts of each stroke are counted; JPEG noise on open paper is excluded."""
    if not mask.any():
        return 0.0, 0.0
    ys, xs = np.nonzero(mask)
    pad = halo_px + 8
    y0, y1 = max(0, ys.min() - pad), ys.max() + pad + 1
    x0, x1 = max(0, xs.min() - pad), xs.max() + pad + 1
    norm_grey, mask = norm_grey[y0:y1, x0:x1], mask[y0:y1, x0:x1]
    halo = cv2.dilate(mask.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * halo_px + 1,) * 2)) > 0
    dark = darkness(norm_grey, ink_core)
    # Subtract the paper's own noise floor (median darkness just outside the halo) so texture is not ink.
    ring = (cv2.dilate(halo.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0) & ~halo
    floor = float(np.median(dark[ring])) if ring.any() else 0.0
    total = float(np.clip(dark[halo] - floor, 0, 1).sum())
    length = skeleton_length(skeletonize(mask))
    if length < 1:
        return 0.0, 0.0
    return total / length, length


def edge_sharpness(grey255: np.ndarray, mask: np.ndarray, contrast: float) -> float:
    """p90 of Sobel magnitude (÷8, i.e. grey levels per px) on the ink boundary ÷ paper−ink contrast."""
    if contrast <= 1 or not mask.any():
        return float("nan")
    ys, xs = np.nonzero(mask)
    y0, y1 = max(0, ys.min() - 3), ys.max() + 4
    x0, x1 = max(0, xs.min() - 3), xs.max() + 4
    grey255, mask = grey255[y0:y1, x0:x1], mask[y0:y1, x0:x1]  # only the ink's neighbourhood matters
    g = grey255.astype(np.float32)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    mag = cv2.magnitude(gx, gy) / 8.0
    m8 = mask.astype(np.uint8)
    k = np.ones((3, 3), np.uint8)
    boundary = (cv2.dilate(m8, k) - cv2.erode(m8, k)) > 0
    if not boundary.any():
        return float("nan")
    return float(np.percentile(mag[boundary], 90)) / contrast
