"""Synthetic test material with known truth: signatures of a known pen width, seals of a known
size, the calibration sheet rendered and "photographed", and the defect generator used by
``make eval-docs``.  Deterministic (seeded); used by tests, the eval and the benchmark only.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image

PAPER = (250, 250, 247)
BLACK_INK = (25, 25, 30)
SEAL_RED = (200, 35, 45)


def blank(w_mm: float, h_mm: float, ppm: float, paper=PAPER) -> np.ndarray:
    img = np.empty((int(round(h_mm * ppm)), int(round(w_mm * ppm)), 3), np.uint8)
    img[:] = paper
    return img


def _ink_layer(shape: tuple[int, int], draw, ss: int = 4) -> np.ndarray:
    """Coverage 0..1 drawn at ``ss``× supersampling then area-averaged (true anti-aliasing)."""
    h, w = shape
    big = np.zeros((h * ss, w * ss), np.uint8)
    draw(big, ss)
    return cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def apply_ink(img: np.ndarray, cover: np.ndarray, ink=BLACK_INK, density: float = 1.0) -> np.ndarray:
    """Multiplicative ink over paper (what ink on paper does)."""
    out = img.astype(np.float32)
    tint = np.array(ink, np.float32) / 255.0
    a = np.clip(cover * density, 0, 1)[..., None]
    out = out * (1 - a + a * tint)
    return np.clip(out, 0, 255).astype(np.uint8)


def signature_path(seed: int = 7) -> list[np.ndarray]:
    """A cursive-looking set of strokes in a unit box (x 0..1, y 0..0.35)."""
    rng = np.random.default_rng(seed)
    strokes = []
    t = np.linspace(0, 1, 400)
    x = 0.02 + 0.55 * t
    y = 0.18 + 0.08 * np.sin(t * 2 * np.pi * 5 + rng.uniform(0, 1)) + 0.03 * np.sin(t * 2 * np.pi * 13)
    strokes.append(np.column_stack([x, y]))
    t2 = np.linspace(0, 1, 300)
    strokes.append(np.column_stack([0.62 + 0.33 * t2, 0.2 + 0.07 * np.sin(t2 * 2 * np.pi * 3.5) - 0.05 * t2]))
    strokes.append(np.column_stack([0.05 + 0.85 * t2, 0.30 + 0.015 * np.sin(t2 * 6)]))  # underline flourish
    loop = np.linspace(0, 2 * np.pi, 120)
    strokes.append(np.column_stack([0.12 + 0.05 * np.cos(loop), 0.12 + 0.09 * np.sin(loop)]))
    return strokes


def draw_signature(
    img: np.ndarray,
    x_px: float,
    y_px: float,
    width_px: float,
    pen_px: float,
    ink=BLACK_INK,
    density: float = 1.0,
    seed: int = 7,
) -> np.ndarray:
    strokes = signature_path(seed)

    def draw(big: np.ndarray, ss: int) -> None:
        th = max(1, int(round(pen_px * ss)))
        for s in strokes:
            pts = np.round((np.column_stack([x_px + s[:, 0] * width_px, y_px + s[:, 1] * width_px])) * ss).astype(
                np.int32
            )
            cv2.polylines(big, [pts], False, 255, th, lineType=cv2.LINE_8)

    return apply_ink(img, _ink_layer(img.shape[:2], draw), ink, density)


def seal_cover(
    shape: tuple[int, int],
    cx: float,
    cy: float,
    w_px: float,
    h_px: float,
    kind: str = "square",
    border_px: float = 12.0,
    angle: float = 0.0,
    seed: int = 3,
    dropout: float = 0.0,
) -> np.ndarray:
    """Coverage of a seal impression: outline border plus four blocky 'characters' inside."""
    rng = np.random.default_rng(seed)

    def draw(big: np.ndarray, ss: int) -> None:
        c = (cx * ss, cy * ss)
        bw = max(1, int(round(border_px * ss)))
        if kind == "round":
            cv2.circle(big, (int(c[0]), int(c[1])), int((w_px / 2 - border_px / 2) * ss), 255, bw)
        elif kind == "oval":
            cv2.ellipse(big, ((c[0], c[1]), ((w_px - border_px) * ss, (h_px - border_px) * ss), angle), 255, bw)
        else:
            box = cv2.boxPoints(((c[0], c[1]), ((w_px - border_px) * ss, (h_px - border_px) * ss), angle))
            cv2.polylines(big, [np.round(box).astype(np.int32)], True, 255, bw)
        # "characters": strokes inside the inner 60 %
        rot = cv2.getRotationMatrix2D((0, 0), -angle, 1.0)[:, :2]
        for _ in range(14):
            p0 = rng.uniform(-0.28, 0.12, 2) * (w_px, h_px)
            p1 = p0 + rng.choice([[1, 0], [0, 1]]) * rng.uniform(0.08, 0.16) * min(w_px, h_px)
            a = (rot @ p0 + (cx, cy)) * ss
            b = (rot @ p1 + (cx, cy)) * ss
            cv2.line(big, tuple(int(v) for v in a), tuple(int(v) for v in b), 255, int(0.6 * border_px * ss))

    cover = _ink_layer(shape, draw)
    if dropout > 0:
        holes = rng.random(shape) < dropout
        holes = cv2.dilate(holes.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        cover = np.where(holes, cover * 0.1, cover)
    return cv2.GaussianBlur(cover, (0, 0), 0.6)


def stamp(
    img: np.ndarray,
    cx: float,
    cy: float,
    w_px: float,
    h_px: float,
    ppm: float,
    kind: str = "square",
    ink=SEAL_RED,
    density: float = 0.95,
    angle: float = 0.0,
    dropout: float = 0.0,
    seed: int = 3,
) -> np.ndarray:
    cover = seal_cover(
        img.shape[:2], cx, cy, w_px, h_px, kind, border_px=1.0 * ppm, angle=angle, dropout=dropout, seed=seed
    )
    return apply_ink(img, cover, ink, density)


def render_sheet(ppm: float) -> np.ndarray:
    """The calibration sheet PDF rendered to RGB at ``ppm`` pixels per mm (needs pypdfium2)."""
    import pypdfium2 as pdfium

    from idsvc.documents.sheet import render_pdf

    pdf = pdfium.PdfDocument(render_pdf())
    try:
        pil = pdf[0].render(scale=ppm * 25.4 / 72.0).to_pil().convert("RGB")
    finally:
        pdf.close()
    return np.asarray(pil).copy()


def photograph(
    page: np.ndarray,
    out_size: tuple[int, int] = (4000, 3000),
    tilt: float = 0.12,
    rotate_deg: float = 4.0,
    gradient: float = 0.30,
    noise: float = 3.0,
    quality: int = 88,
    seed: int = 1,
    blur: float = 0.8,
    fill: float = 0.85,
) -> bytes:
    """Fake a phone photo: perspective warp onto a table, lighting gradient, blur, noise, JPEG."""
    rng = np.random.default_rng(seed)
    W, H = out_size
    ph, pw = page.shape[:2]
    s = fill * min(W / pw, H / ph)
    cw, ch = pw * s, ph * s
    x0, y0 = (W - cw) / 2, (H - ch) / 2
    dst = np.array([[x0, y0], [x0 + cw, y0], [x0 + cw, y0 + ch], [x0, y0 + ch]], np.float64)
    dst[0, 0] += tilt * cw * 0.5
    dst[1, 0] -= tilt * cw * 0.5  # top edge shorter: the phone leans back
    c = dst.mean(axis=0)
    r = np.radians(rotate_deg)
    R = np.array([[np.cos(r), -np.sin(r)], [np.sin(r), np.cos(r)]])
    dst = (dst - c) @ R.T + c + rng.uniform(-20, 20, (4, 2))
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float64)
    M = cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32))
    table = np.empty((H, W, 3), np.uint8)
    table[:] = (96, 78, 60)
    photo = cv2.warpPerspective(page, M, (W, H), dst=table, borderMode=cv2.BORDER_TRANSPARENT, flags=cv2.INTER_AREA)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    light = 1.0 - gradient * (0.6 * xx / W + 0.4 * yy / H)
    photo = photo.astype(np.float32) * light[..., None] * np.array([1.0, 0.97, 0.90], np.float32)  # warm light
    if blur:
        photo = cv2.GaussianBlur(photo, (0, 0), blur)
    photo += rng.normal(0, noise, photo.shape).astype(np.float32)
    return to_jpeg(np.clip(photo, 0, 255).astype(np.uint8), quality)


def to_jpeg(rgb: np.ndarray, quality: int = 90, dpi: int | None = None) -> bytes:
    buf = io.BytesIO()
    kw = {"dpi": (dpi, dpi)} if dpi else {}
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality, **kw)
    return buf.getvalue()


def to_png(rgb: np.ndarray, dpi: int | None = 300) -> bytes:
    buf = io.BytesIO()
    kw = {"dpi": (dpi, dpi)} if dpi else {}
    Image.fromarray(rgb).save(buf, format="PNG", **kw)
    return buf.getvalue()


def filled_sheet(
    ppm: float = 12.0,
    seal_mm: tuple[float, float] = (20.0, 20.0),
    seal_kind: str = "square",
    pen_mm: float = 0.5,
    seal_angle: float = 0.0,
) -> np.ndarray:
    """The sheet with a black signature in the signature box and a red seal in the seal box."""
    from idsvc.documents.sheet import SEAL_BOX, SIGNATURE_BOX

    page = render_sheet(ppm)
    b = SIGNATURE_BOX
    page = draw_signature(page, (b.x + 25) * ppm, (b.y + 10) * ppm, 70 * ppm, pen_mm * ppm)
    s = SEAL_BOX
    page = stamp(
        page,
        (s.x + s.w / 2) * ppm,
        (s.y + s.h / 2) * ppm,
        seal_mm[0] * ppm,
        seal_mm[1] * ppm,
        ppm,
        kind=seal_kind,
        angle=seal_angle,
    )
    return page
