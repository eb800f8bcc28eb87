"""The light challenge (issue #11): does the light reflected on the face follow the screen's colours?

While recording, the phone screen (full-screen, the face close to it) shows a server-chosen
sequence of colours.  The tracker already measures, on every analysed frame, the mean Y/U/V of the
skin between the eyes and the nose base and of two background corners (``Track.colour``: read
straight from the decoded chroma planes, microseconds a frame).  Here, per colour segment (its
first ``settle_s`` skipped: screen and camera latency), the skin-minus-background chroma (U, V) is
averaged; those segment means, less their mean, are compared with the colours' own chroma
directions (BT.601).  A face lit by the screen follows them (correlation near 1); a replayed or
generated clip shows no such change, or changes that do not follow the asked colours.

Verdicts: ``passed`` (correlation >= ``min_corr`` with enough change), ``failed`` (the skin chroma
changed by more than ``min_change`` between segments but not the way the colours asked: a wrong
sequence), ``inconclusive`` (too little change to judge: bright daylight swamps a phone screen, a
dim screen, a face far from it, or simply a clip without the reflections - a replay; the
decision then rests on the movement sequence alone, with ``assurance: "sequence"``).

The thresholds were set on synthetic reflections rendered onto real clips (``make eval``), not on
phone recordings: see docs/liveness.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SETTLE_S = 0.12  # skip this much of each colour: the screen redraw and the camera's exposure lag
MIN_FRAMES = 3  # per segment
MIN_CHANGE = 2.0  # chroma levels (0-255 scale): std of the segment means needed to judge at all
MIN_CORR = 0.6


@dataclass(frozen=True)
class LightResult:
    verdict: str  # passed | failed | inconclusive
    correlation: float
    change: float  # std of the skin-minus-background chroma over the segments (levels)
    gain: float  # fitted reflection gain (observed chroma per unit of the colour's chroma)
    segments: int
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "correlation": round(self.correlation, 4),
            "change": round(self.change, 3),
            "gain": round(self.gain, 4),
            "segments": self.segments,
            **self.details,
        }


def chroma(rgb: Sequence[int]) -> np.ndarray:
    """(U, V) of an RGB colour, BT.601, in 0-255 levels centred on 0."""
    r, g, b = (float(v) for v in rgb)
    return np.array([-0.169 * r - 0.331 * g + 0.5 * b, 0.5 * r - 0.419 * g - 0.081 * b])


def check(t: np.ndarray, colour: np.ndarray, flashes: Sequence[Any]) -> LightResult:
    """``flashes``: objects with ``rgb``, ``start_s``, ``end_s`` (sequence.Flash)."""
    if len(colour) != len(t) or not len(flashes):
        return LightResult("inconclusive", 0.0, 0.0, 0.0, 0, {"why": "no_colours"})
    diff = colour[:, 1:3] - colour[:, 4:6]  # skin (U, V) minus background (U, V)
    ok = np.isfinite(diff).all(axis=1)
    observed, expected = [], []
    for f in flashes:
        sel = ok & (t >= f.start_s + SETTLE_S) & (t < f.end_s)
        if sel.sum() >= MIN_FRAMES:
            observed.append(diff[sel].mean(axis=0))
            expected.append(chroma(f.rgb))
    n = len(observed)
    if n < 2:
        return LightResult("inconclusive", 0.0, 0.0, 0.0, n, {"why": "too_few_segments"})
    o = np.array(observed) - np.mean(observed, axis=0)
    e = np.array(expected) - np.mean(expected, axis=0)
    change = float(np.sqrt((o**2).sum(axis=1).mean()))
    denom = float(np.sqrt((o**2).sum() * (e**2).sum()))
    corr = float((o * e).sum() / denom) if denom > 0 else 0.0
    gain = float((o * e).sum() / (e**2).sum()) if (e**2).sum() > 0 else 0.0
    if change < MIN_CHANGE:
        verdict = "inconclusive"
    elif corr >= MIN_CORR and gain > 0:
        verdict = "passed"
    else:
        verdict = "failed"
    return LightResult(verdict, corr, change, gain, n, {"min_change": MIN_CHANGE, "min_corr": MIN_CORR})
