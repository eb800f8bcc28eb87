"""The seal template: the configured one (``Settings.seal``, i.e. ``IDSVC_SEAL_*``, parsed and validated
once at start-up in :mod:`idsvc.core.settings`) plus per-request overrides (shape, size, text).

No official CAS 印鉴式样 numbers were found (design 1.1), so shape, size and tolerance are
configuration.  Defaults follow design 1.2: a square 20×20 mm personal seal, red ink, ±1 mm
(WARN ±2 mm), name text optionally followed by 印 / 之印 / 章.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from idsvc.core.errors import invalid_input
from idsvc.core.settings import SEAL_SHAPES, SealSettings, parse_seal_size

SHAPES = SEAL_SHAPES
MAX_TEXT_CHARS = 12


@dataclass(frozen=True)
class SealTemplate:
    shape: str = "square"
    width_mm: float = 20.0
    height_mm: float = 20.0
    tolerance_mm: float = 1.0
    tolerance_pct: float = 5.0
    warn_mm: float = 2.0
    warn_pct: float = 10.0
    text: str | None = None  # the member's name (or the given text), when the text should be compared
    suffixes: tuple[str, ...] = ("印", "之印", "章")

    @classmethod
    def from_settings(cls, seal: SealSettings) -> SealTemplate:
        return cls(
            shape=seal.shape,
            width_mm=seal.width_mm,
            height_mm=seal.height_mm,
            tolerance_mm=seal.tolerance_mm,
            tolerance_pct=seal.tolerance_pct,
            warn_mm=seal.warn_mm,
            warn_pct=seal.warn_pct,
            suffixes=seal.text_suffixes,
        )

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
        elif t.shape == "round":
            t = replace(t, height_mm=t.width_mm)
        if text and text.strip():
            t = replace(t, text=parse_text(text))
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
    parsed = parse_seal_size(value)
    if parsed is None:
        raise invalid_input(
            "size_mm", "must look like 20 or 20x10, between 3 and 100 mm", "格式应为 20 或 20x10（3–100 毫米）"
        )
    return parsed


def parse_text(value: str) -> str:
    text = "".join(value.split())
    if not text or len(text) > MAX_TEXT_CHARS or not text.isprintable():
        raise invalid_input(
            "text", f"must be 1-{MAX_TEXT_CHARS} printable characters", f"应为 1–{MAX_TEXT_CHARS} 个可打印字符"
        )
    return text
