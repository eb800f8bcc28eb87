"""Paper and photo geometry: lighting uniformity, paper colour, ruled lines, sheet skew."""

from __future__ import annotations

import cv2
import numpy as np

from . import thresholds as T
from .imaging import lab


def lighting_spread(bg: np.ndarray) -> float:
    """p95 − p5 of the background's L* (design 2.2): the document analogue of OFIQ BackgroundUniformity."""
    small = cv2.resize(bg, (max(8, bg.shape[1] // 4), max(8, bg.shape[0] // 4)), interpolation=cv2.INTER_AREA)
    L = lab(np.clip(small / 255.0, 0, 1))[..., 0]
    p5, p95 = np.percentile(L, [5, 95])
    return float(p95 - p5)


def paper_lab(rgb: np.ndarray, ink: np.ndarray, band_px: int = 9) -> tuple[float, float, float]:
    """Median raw L*, a*, b* of the paper, excluding a band around the ink."""
    near = cv2.dilate(ink.astype(np.uint8), np.ones((2 * band_px + 1,) * 2, np.uint8)) > 0
    paper = ~near
    step = max(1, int(np.sqrt(paper.sum() / 200_000)))  # a 200k-pixel sample is plenty for a median
    px = rgb[::step, ::step][paper[::step, ::step]]
    if len(px) < 50:
        px = rgb.reshape(-1, 3)
    L = lab(px.reshape(-1, 1, 3).astype(np.float32) / 255.0).reshape(-1, 3)
    med = np.median(L, axis=0)
    return float(med[0]), float(med[1]), float(med[2])


def ruled_lines(grey255: np.ndarray) -> tuple[int, float]:
    """Count long, thin, parallel dark lines (design 2.3): black-hat → angle-swept long opening →
    row projection.  Returns (line count at the best angle, that angle in degrees)."""
    h, w = grey255.shape
    f = min(1.0, 1200.0 / max(h, w))
    g: np.ndarray = cv2.resize(grey255, (int(w * f), int(h * f)), interpolation=cv2.INTER_AREA) if f < 1 else grey255
    g = g.astype(np.uint8)
    bh = cv2.morphologyEx(g, cv2.MORPH_BLACKHAT, np.ones((9, 1), np.uint8))
    thr = max(6.0, float(np.percentile(bh, 92)))
    binary: np.ndarray = (bh > thr).astype(np.uint8) * 255
    # Max-pool to half size: keeps 1-px lines, quarters the cost of the 61-angle sweep.
    hh, ww = binary.shape
    binary = cv2.resize(
        cv2.dilate(binary, np.ones((2, 2), np.uint8)), (ww // 2, hh // 2), interpolation=cv2.INTER_NEAREST
    )
    hh, ww = binary.shape
    klen = max(10, ww // 12)
    kernel = np.ones((1, klen), np.uint8)
    min_gap = max(3, int(0.04 * hh))
    centre = (ww / 2, hh / 2)

    def count(angle: float) -> int:
        m = cv2.getRotationMatrix2D(centre, float(angle), 1.0)
        rot = cv2.warpAffine(binary, m, (ww, hh), flags=cv2.INTER_NEAREST)
        opened = cv2.morphologyEx(rot, cv2.MORPH_OPEN, kernel)
        rows = np.flatnonzero((opened > 0).sum(axis=1) / ww > T.RULED_MIN_COVERAGE)
        # Distinct lines: runs of rows separated by more than a minimum spacing, so one thick or
        # slightly curved line (an underline flourish) counts once; ruled paper's pitch is far larger.
        return 0 if len(rows) == 0 else 1 + int(np.count_nonzero(np.diff(rows) > min_gap))

    # Coarse 1° sweep, then the half-degree neighbours of the best angle (32 + 2 rotations, not 61).
    best = (0, 0.0)
    for angle in np.arange(-T.RULED_ANGLE_RANGE, T.RULED_ANGLE_RANGE + 0.01, 1.0):
        n = count(angle)
        if n > best[0]:
            best = (n, float(angle))
    for angle in (best[1] - 0.5, best[1] + 0.5):
        n = count(angle)
        if n > best[0]:
            best = (n, float(angle))
    return best


def sheet_skew(grey255: np.ndarray) -> tuple[float | None, np.ndarray | None]:
    """Worst deviation (degrees) of a visible paper sheet from an upright rectangle: max of
    |corner angle − 90°| over its visible corners and the rotation of its visible edges.

    Returns (None, None) when no sheet edge is visible (the photo is already cropped to the paper).
    The second value is the sheet's 4 corners in ``grey255`` pixels (TL, TR, BR, BL) when the whole
    sheet is in the picture, so the caller can rectify it; else None.
    """
    h, w = grey255.shape
    f = 400.0 / max(h, w)
    g: np.ndarray = np.asarray(
        cv2.resize(grey255, (max(8, int(w * f)), max(8, int(h * f))), interpolation=cv2.INTER_AREA), dtype=np.uint8
    )
    g = cv2.GaussianBlur(g, (5, 5), 0)
    for c in _sheet_candidates(g):
        out = _judge_sheet(g, c, f)
        if out[0] is not None:
            return out
    return None, None


def _sheet_candidates(g: np.ndarray) -> list[np.ndarray]:
    """Outer contours of (1) the closed Canny edge map — the usual document-scanner recipe, exact
    when the whole sheet is in view — and (2) the Otsu bright region, for sheets cut by the frame."""
    out = []
    edges = cv2.dilate(cv2.Canny(g, 30, 90), np.ones((3, 3), np.uint8))
    for binary in (
        edges,
        cv2.morphologyEx(
            cv2.threshold(g, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1], cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8)
        ),
    ):
        contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        if contours:
            out.append(max(contours, key=cv2.contourArea))
    return out


def _judge_sheet(g: np.ndarray, c: np.ndarray, f: float) -> tuple[float | None, np.ndarray | None]:
    area = cv2.contourArea(c)
    img_area = g.shape[0] * g.shape[1]
    if not (0.1 * img_area <= area <= 0.97 * img_area):
        return None, None
    approx = cv2.approxPolyDP(c, 0.02 * cv2.arcLength(c, True), True).reshape(-1, 2).astype(np.float64)
    if not (4 <= len(approx) <= 8) or not cv2.isContourConvex(approx.astype(np.int32)):
        return None, None
    # It must look like paper on a background: clearly brighter inside than outside.
    inside = np.zeros(g.shape, np.uint8)
    cv2.fillConvexPoly(inside, approx.astype(np.int32), 1)
    outside = inside == 0
    if outside.mean() < 0.03 or float(g[inside > 0].mean()) - float(g[outside].mean()) < 40:
        return None, None
    hh, ww = g.shape
    margin = 4

    def on_border(p: np.ndarray) -> set[str]:
        out = set()
        if p[0] <= margin:
            out.add("l")
        if p[0] >= ww - 1 - margin:
            out.add("r")
        if p[1] <= margin:
            out.add("t")
        if p[1] >= hh - 1 - margin:
            out.add("b")
        return out

    n = len(approx)
    # Corners on the photo border are where the crop cut the sheet; edges along the border are the
    # crop itself: judge only the real sheet geometry.  A paper edge is a sharp step, so each real
    # edge must run along Canny edges (a lighting gradient that Otsu split has none).
    edges = cv2.dilate(cv2.Canny(g, 30, 90), np.ones((5, 5), np.uint8)) > 0
    hits = samples = 0
    worst, judged = 0.0, 0
    for i in range(n):
        a, b, c2 = approx[i - 1], approx[i], approx[(i + 1) % n]
        if on_border(b) & on_border(c2):
            continue
        for t in np.linspace(0.1, 0.9, 17):
            x, y = (b + t * (c2 - b)).astype(int)
            samples += 1
            hits += bool(edges[min(max(y, 0), hh - 1), min(max(x, 0), ww - 1)])
        e = c2 - b
        rot = np.degrees(np.arctan2(e[1], e[0])) % 90.0
        worst = max(worst, min(rot, 90.0 - rot))
        judged += 1
        if n == 4 and not on_border(b) and not on_border(a):
            v1, v2 = a - b, c2 - b
            cosang = np.dot(v1, v2) / (np.linalg.norm(v1) * np.linalg.norm(v2) + 1e-9)
            worst = max(worst, abs(np.degrees(np.arccos(np.clip(cosang, -1, 1))) - 90.0))
    if judged == 0 or samples == 0 or hits < 0.7 * samples:
        return None, None
    quad = None
    if n == 4 and not any(on_border(p) for p in approx):
        quad = _order_corners(approx / f)
    return float(worst), quad


def _order_corners(pts: np.ndarray) -> np.ndarray:
    """TL, TR, BR, BL: the sheet is read in its nearest upright orientation."""
    s = pts.sum(axis=1)
    d = pts[:, 1] - pts[:, 0]
    return np.array([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]], dtype=np.float32)


def rectify_sheet(rgb: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """Four-point transform of the visible sheet to an upright rectangle (design 2.7)."""
    tl, tr, br, bl = quad
    w = int(round(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))))
    h = int(round(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))))
    inset = 0.015  # trim the sheet's own edge and the table's shadow line
    dx, dy = w * inset, h * inset
    dst = np.array([[-dx, -dy], [w + dx, -dy], [w + dx, h + dy], [-dx, h + dy]], dtype=np.float32)
    M = cv2.getPerspectiveTransform(quad.astype(np.float32), dst)
    return cv2.warpPerspective(rgb, M, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
