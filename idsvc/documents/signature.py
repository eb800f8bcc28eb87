"""Signature measurements (design S1–S10) on an analysis-scale RGB image.

``measure`` returns raw numbers only; ``judge`` turns them into checks.  Keeping the two apart lets
the eval script print the raw figures and lets tests pin each measurement separately.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from . import thresholds as T
from .imaging import (
    background,
    chroma_hue,
    circular_mean_deg,
    crop_black_border,
    grey,
    ink_components,
    lab,
    normalise,
)
from .paper import lighting_spread, paper_lab, rectify_sheet, ruled_lines, sheet_skew
from .strokes import edge_sharpness, stroke_width_px


@dataclass
class SigMeasure:
    px_per_mm: float | None
    shape: tuple[int, int]
    ink_fraction: float = 0.0
    n_components: int = 0
    clusters: list[tuple[int, int, int, int, int]] = field(
        default_factory=list
    )  # x,y,w,h,ink_px (significant, largest first)
    rows: list[int] = field(default_factory=list)  # ink px per signature row (clusters on one baseline)
    text_lines: int = 0
    bbox: tuple[int, int, int, int] | None = None  # x0,y0,x1,y1 of the signature ink
    touches_edge: bool = False
    lighting: float = 0.0
    paper_L: float = 0.0
    paper_a: float = 0.0
    paper_b: float = 0.0
    ruled: int = 0
    ruled_angle: float = 0.0
    ink_L: float = 0.0
    ink_C: float = 0.0
    ink_hue: float = 0.0
    ink_core_grey: float = 0.0
    stroke_px: float = 0.0
    skeleton_px: float = 0.0
    sharpness: float = float("nan")
    contrast: float = 0.0
    skew: float | None = None
    frame_cropped: bool = False

    @property
    def paper_C(self) -> float:
        return float(np.hypot(self.paper_a, self.paper_b))

    @property
    def stroke_mm(self) -> float | None:
        return None if not self.px_per_mm else self.stroke_px / self.px_per_mm

    def size_mm(self) -> tuple[float, float] | None:
        if not self.px_per_mm or self.bbox is None:
            return None
        x0, y0, x1, y1 = self.bbox
        return (x1 - x0) / self.px_per_mm, (y1 - y0) / self.px_per_mm


@dataclass
class SigPixels:
    """Intermediate arrays kept for the cleaned asset."""

    rgb: np.ndarray
    norm_grey: np.ndarray
    ink: np.ndarray


def _clusters(ink: np.ndarray, gap_px: int) -> tuple[list[tuple[int, int, int, int, int]], np.ndarray]:
    """Group strokes into words/signatures: components of the ink mask dilated by ``gap_px``."""
    k = np.ones((2 * gap_px + 1, 2 * gap_px + 1), np.uint8)  # rectangular: separable, so cheap at any size
    grown = cv2.dilate(ink.astype(np.uint8), k)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    ink_counts = np.bincount(labels[ink], minlength=n)
    out = [
        (int(stats[i, 0]), int(stats[i, 1]), int(stats[i, 2]), int(stats[i, 3]), int(ink_counts[i]))
        for i in range(1, n)
    ]
    out.sort(key=lambda c: -c[4])
    return out, labels


def _signature_rows(clusters: list[tuple[int, int, int, int, int]]) -> list[int]:
    """Merge clusters that share a baseline (vertical overlap ≥ 30 % of the shorter one): words of
    one signature sit side by side, a second signature sits above or below.  Returns ink per row."""
    rows: list[list[int]] = []  # [y0, y1, ink]
    for _x, y, _w, h, ink in sorted(clusters, key=lambda c: c[1]):
        for r in rows:
            overlap = min(r[1], y + h) - max(r[0], y)
            if overlap >= 0.3 * min(h, r[1] - r[0]):
                r[0], r[1], r[2] = min(r[0], y), max(r[1], y + h), r[2] + ink
                break
        else:
            rows.append([y, y + h, ink])
    return sorted((r[2] for r in rows), reverse=True)


def _text_lines(ink: np.ndarray, stats: np.ndarray) -> int:
    """Rows of small, similar-height components = printed text lines (a whole page was uploaded)."""
    if len(stats) < T.PAGE_MIN_COMPONENTS:
        return 0
    heights = stats[:, cv2.CC_STAT_HEIGHT]
    med = float(np.median(heights))
    small = stats[(heights <= 2.5 * med) & (heights >= 0.4 * med)]
    if len(small) < T.PAGE_MIN_COMPONENTS // 2:
        return 0
    centres = small[:, cv2.CC_STAT_TOP] + small[:, cv2.CC_STAT_HEIGHT] / 2
    hist, _ = np.histogram(centres, bins=max(1, int(ink.shape[0] / max(2.0, med))), range=(0, ink.shape[0]))
    busy = hist >= 5
    return int(np.count_nonzero(busy[1:] & ~busy[:-1]) + int(busy[0]))


def measure(rgb_in: np.ndarray, px_per_mm: float | None) -> tuple[SigMeasure, SigPixels]:
    rgb, frame = crop_black_border(rgb_in)
    skew, quad = sheet_skew(grey(rgb.astype(np.float32)))
    if quad is not None and px_per_mm is None:
        rgb = rectify_sheet(rgb, quad)  # analyse the paper only, not the table around it
    h, w = rgb.shape[:2]
    m = SigMeasure(px_per_mm=px_per_mm, shape=(h, w), frame_cropped=frame != (0, 0, rgb_in.shape[1], rgb_in.shape[0]))
    m.skew = skew
    bg = background(rgb)
    norm = normalise(rgb, bg)
    g = grey(norm)
    ink, comp_stats = ink_components(g)
    m.lighting = lighting_spread(bg)
    m.paper_L, m.paper_a, m.paper_b = paper_lab(rgb, ink)
    grey_raw = grey(rgb.astype(np.float32))
    m.ruled, m.ruled_angle = ruled_lines(grey_raw)
    px = SigPixels(rgb, g, ink)
    m.ink_fraction = float(ink.mean())
    if not ink.any():
        return m, px

    m.n_components = len(comp_stats)
    m.text_lines = _text_lines(ink, comp_stats)
    gap = int(round(4 * px_per_mm)) if px_per_mm else max(6, int(0.025 * max(h, w)))
    clusters, _ = _clusters(ink, gap)
    big = clusters[0][4]
    m.clusters = [c for c in clusters if c[4] >= 0.15 * big]
    m.rows = _signature_rows(m.clusters)
    keep = np.zeros_like(ink)
    for x, y, cw, ch, _ in m.clusters:
        keep[y : y + ch, x : x + cw] = True
    sig_ink = ink & keep
    ys, xs = np.nonzero(sig_ink)
    m.bbox = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    x0, y0, x1, y1 = m.bbox
    m.touches_edge = x0 <= 1 or y0 <= 1 or x1 >= w - 1 or y1 >= h - 1

    # Ink colour: white-balanced Lab of the darkest 40 % of ink pixels (stroke cores).
    vals = g[sig_ink]
    cut = np.percentile(vals, 100 * T.INK_CORE_FRACTION)
    core = sig_ink & (g <= cut)
    L = lab(norm[core].reshape(-1, 1, 3)).reshape(-1, 3)
    m.ink_L = float(np.median(L[:, 0]))
    C, hue = chroma_hue(L)
    m.ink_C = float(np.hypot(np.median(L[:, 1]), np.median(L[:, 2])))
    m.ink_hue = circular_mean_deg(hue[C > 3]) if (C > 3).any() else 0.0
    m.ink_core_grey = float(np.percentile(vals, 10))

    m.stroke_px, m.skeleton_px = stroke_width_px(g, sig_ink, m.ink_core_grey)
    far = ~cv2.dilate(ink.astype(np.uint8), np.ones((19, 19), np.uint8)).astype(bool)
    paper_grey = float(np.median(grey_raw[far])) if far.any() else float(np.percentile(grey_raw, 95))
    ink_grey = float(np.median(grey_raw[core]))
    m.contrast = paper_grey - ink_grey
    m.sharpness = edge_sharpness(g * 255.0, sig_ink, max(1.0, (1.0 - float(np.median(g[core]))) * 255.0))
    return m, px
