"""Reading a seal's characters offline (issue #15) with the PP-OCRv4 recogniser that ships inside the
``rapidocr_onnxruntime`` wheel (ONNX, run by onnxruntime; nothing is downloaded).

Only the *recogniser* is used, never the detector: a seal's layout is known in advance, so we cut the
impression into character cells ourselves and hand the recogniser one line of cells in reading order.

1. Ink → text image: the seal's chroma (from :mod:`.seal`) becomes dark-on-white, 白文 (white
   characters on red) is inverted, and the impression is rotated upright by its measured angle.
2. The border is stripped (measured from the ink profile at each edge) and the inner square is cut
   into cells for each supported layout: 2×2 read right column top-to-bottom then left column (the
   usual 4-character personal seal), one tall right character + two on the left (3 characters), two
   tall columns right-to-left (2 characters), and a single row (left to right, and right to left).
   Each layout's cells are squared and laid side by side as one text line.
3. All lines go through the recogniser in one batch; a CTC greedy decode gives the text and a
   probability per character.

The verdict (``judge_text``) compares the reading with the expected text (the name, or the name
followed by a configured suffix) and is deliberately asymmetric: PASS needs an exact, confident
reading; FAIL needs a confident reading of *other* characters; anything else is WARN or UNABLE for
a reviewer.  The model is loaded once per process (lazily, under a lock).
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .seal import SealMeasure, SealPixels

LINE_H = 48  # the recogniser's input height
CELL = 48  # each character cell becomes CELL×CELL
# [measured: make eval-docs] per-character probability above which a character counts as read.
CHAR_CONFIDENT = 0.80
# A reading PASSes when it equals an expected text and every character is at least this probable.
PASS_MIN_CHAR = 0.50
# A reading FAILs (another name) only when at least half of the name's characters are read, this
# probable, as other characters, and no layout read most of an expected text.
FAIL_MIN_CHAR = 0.85

_LOCK = threading.Lock()
_RECOGNISER: Any = None

# Layouts: name → cells (x0, y0, x1, y1) in units of the inner square, in reading order.
LAYOUTS: dict[str, list[tuple[float, float, float, float]]] = {
    "grid_2x2": [(0.5, 0, 1, 0.5), (0.5, 0.5, 1, 1), (0, 0, 0.5, 0.5), (0, 0.5, 0.5, 1)],
    "cols_1+2": [(0.5, 0, 1, 1), (0, 0, 0.5, 0.5), (0, 0.5, 0.5, 1)],
    "cols_2+1": [(0.5, 0, 1, 0.5), (0.5, 0.5, 1, 1), (0, 0, 0.5, 1)],
    "cols_1+1": [(0.5, 0, 1, 1), (0, 0, 0.5, 1)],
}
ROW = "row"


def model_dir() -> Path:
    """Where the wheel keeps its ONNX models (inside site-packages)."""
    import rapidocr_onnxruntime

    return Path(rapidocr_onnxruntime.__file__).parent / "models"


def recogniser() -> Any:
    """The PP-OCRv4 text recogniser, loaded once per process."""
    global _RECOGNISER
    if _RECOGNISER is None:
        with _LOCK:
            if _RECOGNISER is None:
                from rapidocr_onnxruntime.ch_ppocr_rec.text_recognize import TextRecognizer

                path = model_dir() / "ch_PP-OCRv4_rec_infer.onnx"
                _RECOGNISER = TextRecognizer(
                    {
                        "model_path": str(path),
                        "rec_img_shape": [3, LINE_H, 320],
                        "rec_batch_num": 8,
                        "intra_op_num_threads": -1,
                        "inter_op_num_threads": -1,
                        "use_cuda": False,
                        "use_dml": False,
                    }
                )
    return _RECOGNISER


@dataclass(frozen=True)
class Reading:
    layout: str
    text: str
    probs: tuple[float, ...]  # one per character
    complete: bool = True  # every cell gave one character (row: as many as the line is wide)

    @property
    def confidence(self) -> float:
        return float(min(self.probs)) if self.probs else 0.0

    @property
    def mean(self) -> float:
        return float(np.mean(self.probs)) if self.probs else 0.0


@dataclass
class SealText:
    readings: list[Reading] = field(default_factory=list)
    inverted: bool = False  # 白文 (white characters on red)
    ink_fraction: float = 0.0  # of the inner square
    stroke_cv: float | None = None  # stroke-width variation (宋体 high, 黑体/篆书 low)
    reason: str = ""  # why nothing could be read (empty when readings exist)


def text_image(px: SealPixels, m: SealMeasure) -> tuple[np.ndarray | None, bool, str]:
    """The seal's inner square as dark-on-white grey (upright, border removed), or (None, _, reason)."""
    if px.hull is None or not m.found:
        return None, False, "no seal"
    if m.shape not in ("square", "rect", "round"):
        return None, False, f"shape {m.shape}"
    ink_c = px.chroma.astype(np.float32)
    ref = float(np.percentile(ink_c[px.ink], 90)) if px.ink.any() else 1.0
    strength = np.clip(ink_c / max(ref, 1e-3), 0, 1)
    hull = px.hull.reshape(-1, 2).astype(np.float32)
    cx, cy = hull.mean(axis=0)
    angle = m.angle_deg if m.shape != "round" else 0.0
    best = None
    for a in (angle, -angle) if angle else (0.0,):
        M = cv2.getRotationMatrix2D((float(cx), float(cy)), a, 1.0)
        pts = hull @ M[:, :2].T + M[:, 2]
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        area = (x1 - x0) * (y1 - y0)
        if best is None or area < best[0]:
            best = (area, M, (x0, y0, x1, y1))
    assert best is not None
    _, M, (x0, y0, x1, y1) = best
    h, w = strength.shape
    up = cv2.warpAffine(strength, M, (w, h), flags=cv2.INTER_LINEAR, borderValue=0.0)
    x0, y0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
    x1, y1 = min(w, int(np.ceil(x1)) + 1), min(h, int(np.ceil(y1)) + 1)
    crop = up[y0:y1, x0:x1]
    if min(crop.shape) < 16:
        return None, False, "impression too small to read"
    if m.shape == "round":
        # A personal round seal holds its name in the middle: the square inscribed in the rim.
        s = crop.shape[0]
        inset = int(round(s * (1 - 0.62) / 2))
        inner = crop[inset : s - inset, inset : crop.shape[1] - inset]
    else:
        inner = _strip_border(crop)
    if min(inner.shape) < 12:
        return None, False, "impression too small to read"
    fraction = float((inner > 0.5).mean())
    inverted = fraction > 0.55  # 白文: the characters are the paper inside a red field
    if inverted:
        inner = 1.0 - inner
    grey = (255 * (1 - inner)).astype(np.uint8)
    return grey, inverted, ""


def _strip_border(crop: np.ndarray) -> np.ndarray:
    """Cut the frame off: from each edge, skip the rows/columns that are mostly ink, then the gap."""
    h, w = crop.shape
    ink = crop > 0.5
    limit_y, limit_x = max(2, int(0.18 * h)), max(2, int(0.18 * w))

    def depth(profile: np.ndarray, limit: int) -> int:
        i = 0
        while i < limit and profile[i] > 0.45:  # the frame
            i += 1
        if i == 0:
            return int(0.04 * len(profile))  # no visible frame: a small margin
        return min(limit, i + 1)

    top = depth(ink.mean(axis=1), limit_y)
    bottom = depth(ink.mean(axis=1)[::-1], limit_y)
    left = depth(ink.mean(axis=0), limit_x)
    right = depth(ink.mean(axis=0)[::-1], limit_x)
    return crop[top : h - bottom, left : w - right]


def _line(inner: np.ndarray, cells: list[tuple[float, float, float, float]]) -> np.ndarray:
    h, w = inner.shape
    parts = []
    for x0, y0, x1, y1 in cells:
        c = inner[int(y0 * h) : max(int(y0 * h) + 1, int(y1 * h)), int(x0 * w) : max(int(x0 * w) + 1, int(x1 * w))]
        c = cv2.resize(c, (CELL - 8, CELL - 8), interpolation=cv2.INTER_AREA)
        parts.append(cv2.copyMakeBorder(c, 4, 4, 4, 4, cv2.BORDER_CONSTANT, value=255))
    line = np.hstack(parts)
    return cv2.copyMakeBorder(line, 0, 0, 8, 8, cv2.BORDER_CONSTANT, value=255)


def _row(inner: np.ndarray) -> np.ndarray:
    """The whole inner area as one line, trimmed to its ink rows and scaled to the line height."""
    ink_rows = np.nonzero((inner < 128).mean(axis=1) > 0.01)[0]
    band = inner[ink_rows.min() : ink_rows.max() + 1] if len(ink_rows) else inner
    scale = (LINE_H - 8) / max(1, band.shape[0])
    band = cv2.resize(band, (max(8, int(band.shape[1] * scale)), LINE_H - 8), interpolation=cv2.INTER_AREA)
    return cv2.copyMakeBorder(band, 4, 4, 8, 8, cv2.BORDER_CONSTANT, value=255)


def _decode(probs: np.ndarray, charset: list[str]) -> tuple[list[str], list[float], list[int]]:
    """CTC greedy decode of one line: characters, their probabilities and time steps."""
    idx = probs.argmax(axis=1)
    best = probs.max(axis=1)
    text: list[str] = []
    ps: list[float] = []
    at: list[int] = []
    prev = -1
    for t, i in enumerate(idx):
        if i != prev and i != 0 and i < len(charset):
            text.append(charset[i])
            ps.append(float(best[t]))
            at.append(t)
        elif i == prev and i != 0 and ps:
            ps[-1] = max(ps[-1], float(best[t]))
        prev = int(i)
    return text, ps, at


def _covers(line: np.ndarray, xs: list[float]) -> bool:
    """Every inked column of a row lies near a read character (nothing was silently dropped)."""
    cols = np.nonzero((line < 128).mean(axis=0) > 0.02)[0]
    if not xs:
        return len(cols) == 0
    if len(cols) and (cols[-1] - cols[0]) < 0.7 * (line.shape[1] - 16):
        return False  # the ink covers only part of the seal's width (half-stamped)
    h = line.shape[0]
    spacing = (xs[-1] - xs[0]) / (len(xs) - 1) if len(xs) > 1 else float(h)
    tol = 0.75 * max(spacing, 0.6 * h)
    near = np.min(np.abs(cols[:, None] - np.array(xs)[None, :]), axis=1) <= tol
    return bool(near.all())


def _stroke_cv(inner: np.ndarray) -> float | None:
    """Coefficient of variation of stroke widths along the strokes' ridges (distance transform)."""
    ink = (inner < 128).astype(np.uint8)
    if ink.sum() < 50:
        return None
    dist = cv2.distanceTransform(ink, cv2.DIST_L2, 3)
    ridge = (dist >= cv2.dilate(dist, np.ones((3, 3), np.uint8))) & (dist >= 1.0)
    widths = dist[ridge]
    if len(widths) < 20:
        return None
    return float(np.std(widths)) / max(1e-6, float(np.mean(widths)))


def read(px: SealPixels, m: SealMeasure) -> SealText:
    """Read the seal in every supported layout (one recogniser batch)."""
    grey, inverted, reason = text_image(px, m)
    out = SealText(inverted=inverted, reason=reason)
    if grey is None:
        return out
    out.ink_fraction = float((grey < 128).mean())
    if out.ink_fraction < 0.03:
        out.reason = "no characters inside the border"
        return out
    out.stroke_cv = _stroke_cv(grey)
    names = [*LAYOUTS, ROW]
    lines = [_line(grey, cells) for cells in LAYOUTS.values()] + [_row(grey)]
    rec = recogniser()
    batch = np.concatenate(
        [rec.resize_norm_img(cv2.cvtColor(x, cv2.COLOR_GRAY2BGR), _max_ratio(lines))[None] for x in lines]
    ).astype(np.float32)
    preds = rec.session(batch)[0]
    charset = rec.postprocess_op.character
    steps = preds.shape[1]
    width = rec.resize_norm_img(cv2.cvtColor(lines[0], cv2.COLOR_GRAY2BGR), _max_ratio(lines)).shape[2]
    per_step = width / steps  # input columns per output time step
    han = np.array([_is_han(c) for c in charset] + [False] * max(0, preds.shape[2] - len(charset)))
    for name, line, p in zip(names, lines, preds, strict=True):
        if name == ROW:
            text, probs, steps_at = _decode(p, charset)
            keep = [(c, q, t) for c, q, t in zip(text, probs, steps_at, strict=True) if _is_han(c)]
            xs = [(t + 0.5) * per_step for _, _, t in keep]
            out.readings.append(
                Reading(name, "".join(c for c, _, _ in keep), tuple(q for _, q, _ in keep), _covers(line, xs))
            )
            continue
        chars, qs = [], []
        for i in range(len(LAYOUTS[name])):
            t0, t1 = int((8 + CELL * i) / per_step), int(np.ceil((8 + CELL * (i + 1)) / per_step))
            span = p[t0 : max(t0 + 1, t1), : len(charset)] * han[: len(charset)]
            t, c = np.unravel_index(int(span.argmax()), span.shape)
            chars.append(charset[c])
            qs.append(float(span[t, c]))
        out.readings.append(Reading(name, "".join(chars), tuple(qs), True))
    return out


def _max_ratio(lines: list[np.ndarray]) -> float:
    return float(max(x.shape[1] / x.shape[0] for x in lines))


def _is_han(c: str) -> bool:
    return len(c) == 1 and unicodedata.name(c, "").startswith("CJK")


def expected_texts(name: str, suffixes: tuple[str, ...]) -> list[str]:
    name = "".join(name.split())
    return [name] + [name + s for s in suffixes if s and not name.endswith(s)]


@dataclass(frozen=True)
class TextJudgement:
    verdict: str  # pass | fail | warn | unable
    reading: Reading | None
    matched: str | None  # the expected text that was read
    font_hint: str


def judge_text(st: SealText, name: str, suffixes: tuple[str, ...]) -> TextJudgement:
    """PASS only on an exact confident reading; FAIL only on a confident reading of other characters."""
    expected = expected_texts(name, suffixes)
    hint = font_hint(st)
    exact = [
        (r, e)
        for r in st.readings
        for e in expected
        if r.complete and _same(r.text, e, r.layout) and r.probs and min(r.probs) >= PASS_MIN_CHAR
    ]
    if exact:
        r, e = max(exact, key=lambda x: (x[0].confidence, len(x[1])))
        return TextJudgement("pass", r, e, hint)
    if not st.readings:
        return TextJudgement("unable", None, None, hint)
    other = _another_name(st.readings, name, expected)
    if other is not None and not _partial(st.readings, expected):
        return TextJudgement("fail", other, None, hint)
    best = max(st.readings, key=lambda r: (r.confidence if r.text else -1.0, len(r.text)))
    if best.text and best.confidence >= 0.3:
        return TextJudgement("warn", best, None, hint)
    return TextJudgement("unable", best if best.text else None, None, hint)


def _another_name(readings: list[Reading], name: str, expected: list[str]) -> Reading | None:
    """A complete reading, aligned with an expected text of its length, in which at least half of the
    name's characters are *confidently* other characters."""
    name = "".join(name.split())
    need = max(1, (len(name) + 1) // 2)
    found = None
    for r in readings:
        if not r.complete or not r.text:
            continue
        for e in expected:
            for text, probs in (
                ((r.text, r.probs), (r.text[::-1], r.probs[::-1])) if r.layout == ROW else ((r.text, r.probs),)
            ):
                if len(text) != len(e):
                    continue
                wrong = sum(1 for i in range(len(name)) if text[i] != e[i] and probs[i] >= FAIL_MIN_CHAR)
                if wrong >= need and (found is None or r.mean > found.mean):
                    found = r
    return found


def _same(read: str, expected: str, layout: str) -> bool:
    if read == expected:
        return True
    return layout == ROW and read[::-1] == expected  # a single row may run right to left


def _partial(readings: list[Reading], expected: list[str]) -> bool:
    """Some layout read most of an expected text (a misread, not another name)."""
    for r in readings:
        for e in expected:
            if len(e) >= 2 and sum(1 for c in set(e) if c in r.text) >= max(2, len(set(e)) - 1):
                return True
    return False


def font_hint(st: SealText) -> str:
    """Information only: print-like (宋体 / 黑体) when the recogniser reads it confidently, else seal-script-like."""
    if not st.readings:
        return "unknown"
    conf = max((r.mean for r in st.readings if r.text), default=0.0)
    cv = st.stroke_cv
    if conf >= CHAR_CONFIDENT:
        if cv is not None and cv >= 0.45:
            return "print_serif"  # 宋体-like: thick verticals, thin horizontals
        return "print_sans"  # 黑体-like: even strokes
    if conf < 0.5:
        return "seal_script_or_worn"  # 篆书-like (or too worn to read)
    return "unknown"
