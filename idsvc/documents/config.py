"""Seal template configuration (IDSVC_SEAL_* environment variables, with documented defaults).

No official CAS 印鉴式样 numbers were found (design 1.1), so shape, size and tolerance are
configuration.  Defaults follow design 1.2: a square 20×20 mm personal seal, red ink, ±1 mm
(WARN ±2 mm), name text optionally followed by 印 / 之印 / 章.

| variable                      | default     | meaning                                                 |
|-------------------------------|-------------|---------------------------------------------------------|
| IDSVC_SEAL_SHAPE              | square      | round, square (W≠H means a rectangle) or oval           |
| IDSVC_SEAL_SIZE_MM            | 20x20       | W[xH] in millimetres (round: the diameter)              |
| IDSVC_SEAL_TOLERANCE_MM       | 1.0         | PASS when |Δ| ≤ max(this, IDSVC_SEAL_TOLERANCE_PCT)     |
| IDSVC_SEAL_TOLERANCE_PCT      | 5           | … percent of the nominal size                           |
| IDSVC_SEAL_WARN_MM            | 2.0         | WARN when |Δ| ≤ max(this, IDSVC_SEAL_WARN_PCT)          |
| IDSVC_SEAL_WARN_PCT           | 10          |                                                         |
| IDSVC_SEAL_TEXT_SUFFIXES      | 印,之印,章  | accepted after the name                                 |
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from idsvc.core.errors import invalid_input

SHAPES = ("round", "square", "oval")


@dataclass(frozen=True)
class SealTemplate:
    shape: str = "square"
    width_mm: float = 20.0
    height_mm: float = 20.0
    tolerance_mm: float = 1.0
    tolerance_pct: float = 5.0
    warn_mm: float = 2.0
    warn_pct: float = 10.0
    text: str | None = None  # the member's name, when the text should be compared
    suffixes: tuple[str, ...] = ("印", "之印", "章")

    @property
    def family(self) -> str:
        """round | oval | rect (a square template with W≠H is a rectangle)."""
        return "rect" if self.shape == "square" else self.shape

    def dims(self) -> tuple[float, float]:
        """(long, short) nominal size in mm."""
        if self.shape == "round":
            return self.width_mm, self.width_mm
        return max(self.width_mm, self.height_mm), min(self.width_mm, self.height_mm)

    def describe(self) -> str:
        name = {"round": "圆形", "square": "方形" if self.width_mm == self.height_mm else "长方形", "oval": "椭圆形"}[
            self.shape
        ]
        return f"{name} {format_size(self)}"

    def with_overrides(
        self, shape: str | None = None, size_mm: str | None = None, text: str | None = None
    ) -> SealTemplate:
        t = self
        if shape:
            t = replace(t, shape=parse_shape(shape))
        if size_mm:
            w, h = parse_size(size_mm)
            t = replace(t, width_mm=w, height_mm=h if t.shape != "round" else w)
        if text:
            t = replace(t, text=text.strip())
        return t


def format_size(t: SealTemplate) -> str:
    if t.shape == "round":
        return f"Ø{t.width_mm:g} mm"
    return f"{t.width_mm:g}×{t.height_mm:g} mm"


def parse_shape(value: str) -> str:
    v = value.strip().lower()
    v = {"rect": "square", "rectangle": "square", "circle": "round", "ellipse": "oval"}.get(v, v)
    if v not in SHAPES:
        raise invalid_input("shape", "must be round, square or oval", "必须是 round、square 或 oval")
    return v


def parse_size(value: str) -> tuple[float, float]:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:[x×*]\s*(\d+(?:\.\d+)?))?\s*(?:mm)?\s*", value.lower())
    if not m:
        raise invalid_input("size_mm", "must look like 20 or 20x10", "格式应为 20 或 20x10")
    w = float(m.group(1))
    h = float(m.group(2)) if m.group(2) else w
    if not (3.0 <= w <= 100.0 and 3.0 <= h <= 100.0):
        raise invalid_input("size_mm", "must be between 3 and 100 mm", "应在 3–100 毫米之间")
    return w, h


def _float(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(key)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{key} must be a number, got {raw!r}") from None


def seal_template_from_env(environ: Mapping[str, str] | None = None) -> SealTemplate:
    env = os.environ if environ is None else environ
    t = SealTemplate()
    shape = parse_shape(env.get("IDSVC_SEAL_SHAPE", t.shape))
    w, h = parse_size(env.get("IDSVC_SEAL_SIZE_MM", f"{t.width_mm:g}x{t.height_mm:g}"))
    suffixes = tuple(
        s.strip() for s in env.get("IDSVC_SEAL_TEXT_SUFFIXES", ",".join(t.suffixes)).split(",") if s.strip()
    )
    return SealTemplate(
        shape=shape,
        width_mm=w,
        height_mm=w if shape == "round" else h,
        tolerance_mm=_float(env, "IDSVC_SEAL_TOLERANCE_MM", t.tolerance_mm),
        tolerance_pct=_float(env, "IDSVC_SEAL_TOLERANCE_PCT", t.tolerance_pct),
        warn_mm=_float(env, "IDSVC_SEAL_WARN_MM", t.warn_mm),
        warn_pct=_float(env, "IDSVC_SEAL_WARN_PCT", t.warn_pct),
        suffixes=suffixes,
    )
