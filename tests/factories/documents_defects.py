"""The defect generator of ``make eval-docs``: from a clean sample, make one defect at a time,
each owned by exactly one check.  Deterministic; pure numpy/OpenCV on RGB arrays.

Signature defects act on a clean 300-dpi synthetic scan (so mm rules apply) or on a compliant
real photo; seal defects on the compliant synthetic 20 mm seal.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from tests.factories import documents_synth as synth

PPM_300 = 300 / 25.4


def clean_signature_scan(pen_mm: float = 0.5, seed: int = 7) -> np.ndarray:
    """A 300-dpi scan of a black signature on white paper (110×45 mm)."""
    rng = np.random.default_rng(seed)
    img = synth.blank(110, 45, PPM_300, paper=(246, 246, 243))
    img = synth.draw_signature(img, 15 * PPM_300, 8 * PPM_300, 80 * PPM_300, pen_mm * PPM_300, seed=seed)
    img = cv2.GaussianBlur(img, (0, 0), 0.6)
    return np.clip(img + rng.normal(0, 1.5, img.shape), 0, 255).astype(np.uint8)


def _ink_alpha(rgb: np.ndarray) -> np.ndarray:
    g = rgb.astype(np.float32).mean(axis=2)
    paper = float(np.percentile(g, 90))
    core = float(np.percentile(g, 0.5))
    return np.clip((paper - g) / max(1.0, paper - core), 0, 1)


def recolour_ink(rgb: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """Repaint the ink in ``colour`` (keeps each pixel's ink amount and the paper)."""
    a = _ink_alpha(rgb)[..., None]
    paper = np.percentile(rgb.reshape(-1, 3), 90, axis=0).astype(np.float32)
    out = paper * (1 - a + a * np.array(colour, np.float32) / 255.0)
    out += np.random.default_rng(11).normal(0, 1.5, out.shape)  # sensor noise, per channel
    return np.clip(out, 0, 255).astype(np.uint8)


def tint_paper(rgb: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """Multiply by a paper colour: ink stays dark, white becomes ``colour``."""
    return np.clip(rgb.astype(np.float32) * np.array(colour, np.float32) / 255.0, 0, 255).astype(np.uint8)


def shadow(rgb: np.ndarray, depth: float = 0.55) -> np.ndarray:
    """A hard-edged diagonal shadow across the sheet (a hand or phone)."""
    h, w = rgb.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    edge = (xx / w + yy / h) - 0.9
    s = 1 - depth / (1 + np.exp(-edge * 25))
    return np.clip(rgb * s[..., None], 0, 255).astype(np.uint8)


def blur(rgb: np.ndarray, sigma_px: float) -> np.ndarray:
    return cv2.GaussianBlur(rgb, (0, 0), sigma_px)


def ruled(rgb: np.ndarray, pitch_px: float, colour=(150, 170, 200), width: int = 2) -> np.ndarray:
    out = rgb.copy()
    y = pitch_px * 0.6
    while y < rgb.shape[0]:
        cv2.line(out, (0, int(y)), (rgb.shape[1] - 1, int(y)), colour, width)
        y += pitch_px
    return np.minimum(out, rgb)


def low_resolution(rgb: np.ndarray, factor: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    return cv2.resize(rgb, (max(8, int(w * factor)), max(8, int(h * factor))), interpolation=cv2.INTER_AREA)


def on_table(rgb: np.ndarray, angle: float = 0.0, perspective: float = 0.0, margin: float = 0.35) -> np.ndarray:
    """The sheet photographed on a dark table: rotated by ``angle``° and/or keystoned."""
    h, w = rgb.shape[:2]
    pad = margin * max(w, h)  # the whole sheet stays in view, as when the member photographs it on a desk
    W, H = int(w + 2 * pad), int(h + 2 * pad)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    cx, cy = W / 2, H / 2
    dst = np.float32(
        [[-w / 2 + perspective * w, -h / 2], [w / 2 - perspective * w, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]]
    )
    r = np.radians(angle)
    R = np.array([[np.cos(r), -np.sin(r)], [np.sin(r), np.cos(r)]], np.float32)
    dst = dst @ R.T + np.float32([cx, cy])
    M = cv2.getPerspectiveTransform(src, dst)
    table = np.empty((H, W, 3), np.uint8)
    table[:] = (70, 55, 45)
    return cv2.warpPerspective(rgb, M, (W, H), dst=table, borderMode=cv2.BORDER_TRANSPARENT)


def clean_seal(
    size_mm: float = 20.0,
    kind: str = "square",
    angle: float = 0.0,
    ink=synth.SEAL_RED,
    density: float = 0.95,
    dropout: float = 0.0,
    canvas_mm: tuple[float, float] = (70, 50),
    offset_mm: tuple[float, float] = (0, 0),
    size2_mm: float | None = None,
) -> np.ndarray:
    img = synth.blank(*canvas_mm, PPM_300)
    cx = (canvas_mm[0] / 2 + offset_mm[0]) * PPM_300
    cy = (canvas_mm[1] / 2 + offset_mm[1]) * PPM_300
    img = synth.stamp(
        img,
        cx,
        cy,
        size_mm * PPM_300,
        (size2_mm or size_mm) * PPM_300,
        PPM_300,
        kind=kind,
        ink=ink,
        density=density,
        angle=angle,
        dropout=dropout,
    )
    rng = np.random.default_rng(5)
    return np.clip(img + rng.normal(0, 2, img.shape), 0, 255).astype(np.uint8)


def partial_seal() -> np.ndarray:
    """One side of the border did not print (stamped on an uneven surface)."""
    img = clean_seal()
    h, w = img.shape[:2]
    cx, cy, half = w / 2, h / 2, 10 * PPM_300
    x0 = int(cx - half - 3)
    y0, y1 = int(cy - 0.5 * half), int(cy + 0.6 * half)
    paper = np.array(synth.PAPER, np.uint8)
    img[y0:y1, x0 : int(cx - half + 1.6 * PPM_300)] = paper
    return img


def double_seal() -> np.ndarray:
    img = clean_seal(canvas_mm=(90, 50), offset_mm=(-20, 0))
    cover = synth.seal_cover(img.shape[:2], 65 * PPM_300, 25 * PPM_300, 20 * PPM_300, 20 * PPM_300, border_px=PPM_300)
    return synth.apply_ink(img, cover, synth.SEAL_RED, 0.95)


# name → (kind, builder, owning check id, whether the image is a 300-dpi scan)
Defect = tuple[str, Callable[[], np.ndarray], str, bool]


def signature_defects(clean_photo: np.ndarray) -> dict[str, Defect]:
    scan = clean_signature_scan()
    return {
        "sig_scan_clean": ("signature", lambda: scan, "", True),
        "sig_blue_ink": ("signature", lambda: recolour_ink(scan, (40, 60, 170)), "ink_black", True),
        "sig_green_ink": ("signature", lambda: recolour_ink(scan, (30, 130, 60)), "ink_black", True),
        "sig_pencil": ("signature", lambda: recolour_ink(scan, (135, 135, 135)), "ink_black", True),
        "sig_thin_pen": ("signature", lambda: clean_signature_scan(pen_mm=0.18), "stroke_width", True),
        "sig_grey_paper": ("signature", lambda: tint_paper(scan, (185, 185, 185)), "paper_white", True),
        "sig_yellow_paper": ("signature", lambda: tint_paper(scan, (250, 232, 170)), "paper_white", True),
        "sig_shadow": ("signature", lambda: shadow(scan), "lighting", True),
        "sig_blur": ("signature", lambda: blur(scan, 3.0), "sharpness", True),
        "sig_ruled": ("signature", lambda: ruled(scan, 8 * PPM_300), "ruled_lines", True),
        "photo_clean": ("signature", lambda: clean_photo, "", False),
        "photo_blue_ink": ("signature", lambda: recolour_ink(clean_photo, (40, 60, 170)), "ink_black", False),
        "photo_low_resolution": ("signature", lambda: low_resolution(clean_photo, 0.2), "stroke_width", False),
        "photo_skew": ("signature", lambda: on_table(clean_photo, angle=18.0), "skew", False),
        "photo_blur": ("signature", lambda: blur(clean_photo, 4.0), "sharpness", False),
        "photo_shadow": ("signature", lambda: shadow(clean_photo), "lighting", False),
    }


def seal_defects() -> dict[str, Defect]:
    return {
        "seal_clean": ("seal", lambda: clean_seal(), "", True),
        "seal_wrong_size_24mm": ("seal", lambda: clean_seal(24.0), "size", True),
        "seal_wrong_size_17mm": ("seal", lambda: clean_seal(17.0), "size", True),
        "seal_blue": ("seal", lambda: clean_seal(ink=(40, 70, 170)), "ink_red", True),
        "seal_black": ("seal", lambda: clean_seal(ink=(30, 30, 35)), "ink_red", True),
        "seal_faint": ("seal", lambda: clean_seal(density=0.28), "ink_red", True),
        "seal_broken": ("seal", lambda: clean_seal(dropout=0.15), "complete", True),
        "seal_partial": ("seal", partial_seal, "complete", True),
        "seal_rotated_25": ("seal", lambda: clean_seal(angle=25.0), "rotation", True),
        "seal_rotated_10": ("seal", lambda: clean_seal(angle=10.0), "rotation", True),
        "seal_cropped": ("seal", lambda: clean_seal(offset_mm=(30, 0)), "complete", True),
        "seal_double": ("seal", double_seal, "complete", True),
        "seal_round_vs_square": ("seal", lambda: clean_seal(18.0, kind="round"), "shape", True),
    }
