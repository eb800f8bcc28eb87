"""Seal measurements (design P2–P6) on an analysis-scale RGB image: ink colour, the impression's
convex hull, shape metrics, size in px, rotation, border coverage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from . import thresholds as T
from .imaging import background, chroma_hue, circular_mean_deg, hue_in, lab, normalise

INK_CHROMA = 10.0  # normalised-image chroma above which a pixel is ink (paper noise C* ≈ 1–2)
INK_DARK_L = 70.0  # or neutral but this dark (a black seal)


@dataclass
class SealMeasure:
    found: bool = False
    n_blobs: int = 0
    ink_C: float = 0.0  # median chroma of the seal's ink pixels
    ink_hue: float = 0.0
    ink_L: float = 0.0
    red_fraction: float = 0.0
    shape: str = "none"  # round | square | rect | oval | irregular
    circularity: float = 0.0
    fill: float = 0.0
    aspect: float = 0.0
    long_px: float = 0.0  # rect: minAreaRect sides; round: enclosing diameter; oval: ellipse axes
    short_px: float = 0.0
    diameter_px: float = 0.0
    angle_deg: float = 0.0  # long side / major axis from horizontal, (−90, 90]
    coverage: float = 0.0
    touches_edge: bool = False


@dataclass
class SealPixels:
    norm: np.ndarray
    chroma: np.ndarray
    ink: np.ndarray
    hull: np.ndarray | None
    rect: tuple[Any, ...] | None


def _ink(norm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    L = lab(norm)
    C, _H = chroma_hue(L)
    ink = (C >= INK_CHROMA) | (L[..., 0] < INK_DARK_L)
    ink = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)) > 0
    return ink, C, L


def measure(rgb: np.ndarray, px_per_mm_hint: float) -> tuple[SealMeasure, SealPixels]:
    """``px_per_mm_hint``: the true scale when known, else an estimate (only sizes morphology)."""
    m = SealMeasure()
    bg = background(rgb, k_frac=1 / 2)  # wide kernel: the seal's dense ink must not read as "background"
    norm = normalise(rgb, bg)
    ink, C, L = _ink(norm)
    px = SealPixels(norm, C, ink, None, None)
    if ink.sum() < 50:
        return m, px
    # Group the impression: strokes within 2 mm of each other belong to one seal.
    g = max(3, int(round(2.0 * px_per_mm_hint)))
    grown = cv2.dilate(ink.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * g + 1,) * 2))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    if n <= 1:
        return m, px
    areas = stats[1:, cv2.CC_STAT_AREA]
    best = 1 + int(np.argmax(areas))
    m.n_blobs = int(np.count_nonzero(areas >= 0.5 * areas.max()))
    group = (labels == best) & ink
    # The outline sits where the ink is half its strength: hull the pixels above half the seal's
    # median chroma, so blur skirts (counted by the loose ink mask) do not inflate the size.
    med_c = float(np.median(C[group]))
    if med_c >= 2 * INK_CHROMA:
        core = group & (0.5 * med_c <= C)
        if core.sum() > 0.3 * group.sum():
            group = core
    ys, xs = np.nonzero(group)
    pts = np.column_stack([xs, ys]).astype(np.float32)
    hull = cv2.convexHull(pts)
    h, w = ink.shape
    m.touches_edge = xs.min() <= 1 or ys.min() <= 1 or xs.max() >= w - 2 or ys.max() >= h - 2
    area = float(cv2.contourArea(hull))
    perim = float(cv2.arcLength(hull, True))
    rect = cv2.minAreaRect(hull)
    (rw, rh) = rect[1]
    if area <= 0 or min(rw, rh) <= 0:
        return m, px
    m.found = True
    m.circularity = 4 * np.pi * area / (perim * perim)
    m.fill = area / (rw * rh)
    m.aspect = max(rw, rh) / min(rw, rh)
    (_, _), radius = cv2.minEnclosingCircle(hull)
    m.diameter_px = 2 * radius
    if m.fill >= T.RECT_MIN_FILL:
        m.shape = "square" if m.aspect <= T.SQUARE_MAX_ASPECT else "rect"
    elif m.circularity >= T.ROUND_MIN_CIRCULARITY and m.aspect <= T.SQUARE_MAX_ASPECT:
        m.shape = "round"
    elif m.aspect > T.SQUARE_MAX_ASPECT and 0.70 <= m.fill < T.RECT_MIN_FILL:
        m.shape = "oval"
    else:
        m.shape = "irregular"
    if m.shape == "oval" and len(hull) >= 5:
        (_, _), (ea, eb), eang = cv2.fitEllipse(hull)
        m.long_px, m.short_px = max(ea, eb), min(ea, eb)
        m.angle_deg = _norm_angle(eang + (90.0 if ea < eb else 0.0) - 90.0)
    elif m.shape == "round":
        m.long_px = m.short_px = m.diameter_px
    else:
        m.long_px, m.short_px = max(rw, rh), min(rw, rh)
        m.angle_deg = _norm_angle(rect[2] + (90.0 if rh > rw else 0.0))
        if m.shape == "square":  # a square looks the same every 90°
            m.angle_deg = (m.angle_deg + 45.0) % 90.0 - 45.0
    # Colour of the seal's ink (pixels in the hull that are ink).
    inside = np.zeros(ink.shape, np.uint8)
    cv2.fillConvexPoly(inside, hull.astype(np.int32), 1)
    sel = ink & (inside > 0)
    Ls = L[sel]
    Cs, Hs = C[sel], chroma_hue(Ls)[1]
    m.ink_C = float(np.median(Cs))
    m.ink_L = float(np.median(Ls[:, 0]))
    strong = Cs >= np.percentile(Cs, 50)
    m.ink_hue = circular_mean_deg(Hs[strong])
    red = np.array([hue_in(float(x), *T.RED_HUE) for x in Hs[strong][:: max(1, strong.sum() // 5000)]])
    m.red_fraction = float(red.mean()) if len(red) else 0.0
    m.coverage = _coverage(ink, m, rect, hull, px_per_mm_hint)
    px.hull, px.rect = hull, rect
    return m, px


def _norm_angle(a: float) -> float:
    a = a % 180.0
    return a - 180.0 if a > 90.0 else a


def _coverage(ink: np.ndarray, m: SealMeasure, rect: tuple[Any, ...], hull: np.ndarray, ppm: float) -> float:
    """Fraction of a thin band just inside the outline that is inked (design 2.10)."""
    band = np.zeros(ink.shape, np.uint8)
    inset = T.BAND_INSET_MM * ppm
    thick = max(2, int(round(T.BAND_MM * ppm)))
    if m.shape == "round":
        (cx, cy), r = cv2.minEnclosingCircle(hull)
        cv2.circle(band, (int(round(cx)), int(round(cy))), max(1, int(round(r - inset))), 1, thick)
    elif m.shape == "oval" and len(hull) >= 5:
        (cx, cy), (ea, eb), ang = cv2.fitEllipse(hull)
        cv2.ellipse(band, ((cx, cy), (max(1.0, ea - 2 * inset), max(1.0, eb - 2 * inset)), ang), 1, thick)
    else:
        (cx, cy), (rw, rh), ang = rect
        box = cv2.boxPoints(((cx, cy), (max(1.0, rw - 2 * inset), max(1.0, rh - 2 * inset)), ang))
        cv2.polylines(band, [np.round(box).astype(np.int32)], True, 1, thick)
    sel = band > 0
    if not sel.any():
        return 0.0
    bridged = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)) > 0
    return float(bridged[sel].mean())
