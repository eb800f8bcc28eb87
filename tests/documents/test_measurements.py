"""Each measurement on synthetic images with known truth."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from idsvc.documents import paper, strokes
from idsvc.documents.api import check_signature
from idsvc.documents.imaging import grey, hue_in, ink_mask
from idsvc.documents.signature import measure
from tests.factories import documents_synth as synth
from tests.factories.documents_defects import (
    PPM_300,
    clean_signature_scan,
    on_table,
    recolour_ink,
    ruled,
    shadow,
)


def _line_image(width_px: float, blur: float, ink: float = 0.06) -> np.ndarray:
    """A straight line, an ellipse and a diagonal of known width, drawn at 8× and averaged down."""
    S, H, W = 8, 200, 600
    big = np.full((H * S, W * S), 255, np.uint8)
    t = int(round(width_px * S))
    cv2.line(big, (50 * S, 100 * S), (550 * S, 130 * S), 0, t)
    cv2.ellipse(big, (300 * S, 100 * S), (60 * S, 40 * S), 0, 0, 360, 0, t)
    cv2.line(big, (100 * S, 20 * S), (180 * S, 190 * S), 0, t)
    img = cv2.resize(big, (W, H), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    img = ink + (1 - ink) * img
    return cv2.GaussianBlur(img, (0, 0), blur) if blur else img


# ±8 % for blur up to σ = 1 px; up to +12 % at σ = 1.5–2 px (or for a 3-px line at σ = 1): a
# blurred thin stroke's core never reaches the true ink darkness, so Σ darkness ÷ core over-reads.
@pytest.mark.parametrize(
    ("width", "blur", "tol"),
    [
        (3.0, 0, 0.08),
        (3.0, 1.0, 0.12),
        (4.7, 0, 0.08),
        (4.7, 1.0, 0.08),
        (4.7, 1.5, 0.12),
        (5.9, 0, 0.08),
        (5.9, 2.0, 0.12),
        (8.3, 0, 0.08),
        (8.3, 2.0, 0.12),
        (11.8, 1.0, 0.08),
        (11.8, 2.0, 0.12),
    ],
)
def test_stroke_width_is_blur_invariant(width: float, blur: float, tol: float) -> None:
    g = _line_image(width, blur)
    mask = g < 0.72
    core = float(np.percentile(g[mask], 10))
    measured, length = strokes.stroke_width_px(g, mask, core)
    assert measured == pytest.approx(width, rel=tol), (measured, length)


def test_skeleton_length_of_a_diagonal_is_euclidean() -> None:
    m = np.zeros((120, 120), bool)
    cv2.line(m.view(np.uint8), (10, 10), (109, 109), 1, 5)
    length = strokes.skeleton_length(strokes.skeletonize(m))
    assert length == pytest.approx(99 * np.sqrt(2), rel=0.06)


def test_skeletonize_thins_to_one_pixel() -> None:
    m = np.zeros((60, 200), bool)
    m[20:31, 10:190] = True
    sk = strokes.skeletonize(m)
    assert sk[:, 30:170].sum(axis=0).max() == 1
    assert 150 < sk.sum() < 185


def test_pen_width_in_mm_on_a_300dpi_scan() -> None:
    for pen_mm in (0.3, 0.5, 0.8):
        r = check_signature(synth.to_png(clean_signature_scan(pen_mm=pen_mm), 300))
        c = r.check("stroke_width")
        assert c.unit == "mm"
        assert c.value == pytest.approx(pen_mm, rel=0.1), pen_mm


def test_thin_pen_is_flagged_and_medium_passes() -> None:
    thin = check_signature(synth.to_png(clean_signature_scan(pen_mm=0.1), 300)).check("stroke_width")
    medium = check_signature(synth.to_png(clean_signature_scan(pen_mm=0.5), 300)).check("stroke_width")
    assert thin.verdict.value == "fail" and medium.verdict.value == "pass"


@pytest.mark.parametrize(
    ("colour", "verdict"),
    [
        ((25, 25, 30), "pass"),
        ((40, 60, 170), "fail"),
        ((30, 130, 60), "fail"),
        ((135, 135, 135), "fail"),
        ((150, 40, 40), "fail"),
    ],
)
def test_ink_colour(colour: tuple[int, int, int], verdict: str) -> None:
    img = recolour_ink(clean_signature_scan(), colour)
    c = check_signature(synth.to_png(img, 300)).check("ink_black")
    assert c.verdict.value == verdict, (colour, c.value, c.details)


def test_blue_ink_is_named_blue() -> None:
    c = check_signature(synth.to_png(recolour_ink(clean_signature_scan(), (40, 60, 170)), 300)).check("ink_black")
    assert "blue" in c.message_en and hue_in(c.details["hue_deg"], 230, 330)


def test_sharpness_falls_with_blur() -> None:
    scan = clean_signature_scan()
    values = []
    for sigma in (0.0, 1.0, 2.0, 3.0):
        img = cv2.GaussianBlur(scan, (0, 0), sigma) if sigma else scan
        values.append(check_signature(synth.to_png(img, 300)).check("sharpness").value)
    assert values == sorted(values, reverse=True)
    assert values[0] >= 0.30 and values[-1] < 0.25


def test_ruled_lines_are_counted_and_an_underline_is_not() -> None:
    scan = clean_signature_scan()  # has an underline flourish
    g = grey(scan.astype(np.float32))
    assert paper.ruled_lines(g)[0] <= 1
    lined = grey(ruled(scan, 8 * PPM_300).astype(np.float32))
    assert paper.ruled_lines(lined)[0] >= 3


def test_lighting_spread_sees_a_shadow() -> None:
    scan = clean_signature_scan()
    even, _ = measure(scan, PPM_300)
    dark, _ = measure(shadow(scan), PPM_300)
    assert even.lighting < 8 and dark.lighting > 40


def test_skew_of_a_photographed_sheet() -> None:
    scan = clean_signature_scan()
    flat, _ = measure(on_table(scan, angle=0.0), None)
    tilted, _ = measure(on_table(scan, angle=15.0), None)
    assert flat.skew is not None and flat.skew < 2.0
    assert tilted.skew == pytest.approx(15.0, abs=2.0)
    cropped, _ = measure(scan, None)
    assert cropped.skew is None  # no sheet edge visible


def test_ink_mask_ignores_paper_noise() -> None:
    rng = np.random.default_rng(0)
    g = np.clip(1.0 + rng.normal(0, 0.02, (200, 300)), 0, 1).astype(np.float32)
    assert not ink_mask(g).any()
