"""Synthetic seals with real characters, rendered at test time with a CJK font from Debian's packages
(fonts-wqy-zenhei, fonts-noto-cjk; ``scripts/ensure_services.sh`` installs them).

Layouts follow how personal seals are engraved: ``grid`` (2×2, read right column top-to-bottom, then
the left column), ``cols3`` (three characters: the right column holds one tall character, the left
column two), ``row`` (one line, left to right).  Red ink with paper texture, uneven pressure, slight
rotation; defects: blur, half-stamped.  Deterministic for a seed.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from . import documents_synth as synth

PPM_300 = 300 / 25.4
FONTS = {
    "hei": Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),  # 黑体-like (sans)
    "song": Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"),  # 宋体-like (serif)
    "song_bold": Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"),
}
# Common surnames and given-name characters (simplified), for generated names.
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰志红建国文辉力永健世广海波宁云飞鹏"
COMPOUND = ("欧阳", "司马", "上官", "诸葛")


def font_path(name: str = "hei") -> Path:
    path = FONTS[name]
    if not path.exists():
        raise RuntimeError(f"{path} is missing: apt-get install fonts-wqy-zenhei fonts-noto-cjk")
    return path


def generated_names(n: int, seed: int = 11) -> list[str]:
    """``n`` distinct 2-, 3- and 4-character names (4 = a compound surname)."""
    rng = np.random.default_rng(seed)
    out: list[str] = []
    while len(out) < n:
        k = int(rng.choice([2, 3, 3, 4], 1)[0])
        if k == 4:
            name = str(rng.choice(COMPOUND)) + "".join(rng.choice(list(GIVEN), 2))
        else:
            name = str(rng.choice(list(SURNAMES))) + "".join(rng.choice(list(GIVEN), k - 1))
        if name not in out:
            out.append(name)
    return out


def seal_text(name: str, layout: str) -> str:
    """The characters engraved: the name plus a suffix that fills the layout."""
    if layout == "grid":
        return {2: name + "之印", 3: name + "印"}.get(len(name), name)
    if layout == "cols3":
        return name + "印" if len(name) == 2 else name
    return name


def _glyph(ch: str, font: ImageFont.FreeTypeFont, w: int, h: int) -> np.ndarray:
    """One character stretched to fill a w×h cell (seal engravers fill the cell), as coverage 0..1."""
    left, top, right, bottom = font.getbbox(ch)
    gw, gh = max(1, right - left), max(1, bottom - top)
    im = Image.new("L", (gw + 4, gh + 4), 0)
    ImageDraw.Draw(im).text((2 - left, 2 - top), ch, fill=255, font=font)
    return np.asarray(im.resize((w, h), Image.Resampling.LANCZOS), np.float32) / 255.0


def _cells(layout: str, n: int) -> list[tuple[float, float, float, float]]:
    """Cells (x0, y0, x1, y1) in units of the inner square, in reading order."""
    if layout == "grid":
        return [(0.5, 0, 1, 0.5), (0.5, 0.5, 1, 1), (0, 0, 0.5, 0.5), (0, 0.5, 0.5, 1)][:n]
    if layout == "cols3":
        return [(0.5, 0, 1, 1), (0, 0, 0.5, 0.5), (0, 0.5, 0.5, 1)]
    if layout == "cols2":
        return [(0.5, 0, 1, 1), (0, 0, 0.5, 1)]
    step = 1.0 / n
    return [(i * step, 0.25, (i + 1) * step, 0.75) for i in range(n)]


def seal_cover_text(
    text: str, layout: str, size_px: int, font: str = "hei", border: float = 0.06, gap: float = 0.03
) -> np.ndarray:
    """Coverage (0..1, size_px²) of a square seal: border plus the characters in ``layout``."""
    cover = np.zeros((size_px, size_px), np.float32)
    b = max(2, int(round(border * size_px)))
    cover[:b], cover[-b:], cover[:, :b], cover[:, -b:] = 1, 1, 1, 1
    inner0 = b + int(round(gap * size_px))
    inner = size_px - 2 * inner0
    pad = max(1, int(0.02 * size_px))
    f = ImageFont.truetype(str(font_path(font)), max(16, inner // 2))
    for ch, (x0, y0, x1, y1) in zip(text, _cells(layout, len(text)), strict=True):
        cx0, cy0 = inner0 + int(x0 * inner) + pad, inner0 + int(y0 * inner) + pad
        cw, chh = int((x1 - x0) * inner) - 2 * pad, int((y1 - y0) * inner) - 2 * pad
        cover[cy0 : cy0 + chh, cx0 : cx0 + cw] = np.maximum(
            cover[cy0 : cy0 + chh, cx0 : cx0 + cw], _glyph(ch, f, cw, chh)
        )
    return cover


def text_seal(
    name: str,
    layout: str = "grid",
    *,
    size_mm: float = 20.0,
    ppm: float = PPM_300,
    angle: float = 0.0,
    font: str = "hei",
    seed: int = 3,
    blur_px: float = 0.0,
    half: bool = False,
    texture: float = 0.25,
    canvas_mm: tuple[float, float] = (40.0, 34.0),
) -> np.ndarray:
    """An RGB scan of a red square seal engraved with ``seal_text(name, layout)`` at ``ppm`` px/mm."""
    rng = np.random.default_rng(seed)
    size_px = int(round(size_mm * ppm))
    cover = seal_cover_text(seal_text(name, layout), layout, size_px, font)
    # Ink texture: paper grain and uneven pressure (a smooth field) lower the coverage here and there.
    grain = rng.random(cover.shape).astype(np.float32)
    field = cv2.GaussianBlur(rng.random(cover.shape).astype(np.float32), (0, 0), size_px / 12)
    field = (field - field.min()) / max(1e-6, float(np.ptp(field)))
    cover = cover * (1 - texture * grain) * (0.75 + 0.25 * field)
    if half:
        cover[:, : size_px // 2] *= 0.0  # the left half did not print
    img = synth.blank(*canvas_mm, ppm)
    h, w = img.shape[:2]
    layer = np.zeros((h, w), np.float32)
    y0, x0 = (h - size_px) // 2, (w - size_px) // 2
    layer[y0 : y0 + size_px, x0 : x0 + size_px] = cover
    if angle:
        M = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        layer = cv2.warpAffine(layer, M, (w, h), flags=cv2.INTER_LINEAR)
    layer = cv2.GaussianBlur(layer, (0, 0), 0.5 + blur_px)
    out = synth.apply_ink(img, layer, synth.SEAL_RED, 0.95)
    return np.clip(out + rng.normal(0, 2, out.shape), 0, 255).astype(np.uint8)
