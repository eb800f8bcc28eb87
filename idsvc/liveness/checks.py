"""Pure decisions over per-frame signal series: challenges and the static-image check.

Inputs are 1-D arrays aligned with ``t`` (seconds); NaN marks frames without a tracked face and
is ignored.  Every function returns a frozen result that keeps the numbers behind the verdict.
Thresholds come from :class:`~idsvc.liveness.config.LivenessConfig`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from idsvc.liveness import geometry
from idsvc.liveness.config import LivenessConfig


@dataclass(frozen=True)
class ChallengeResult:
    challenge: str
    performed: bool
    signal: float  # the measured movement, in the unit of the challenge's threshold
    threshold: float
    peak_t: float | None  # when the movement peaked (used to pick an encoding frame)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "challenge": self.challenge,
            "performed": self.performed,
            "signal": self.signal,
            "threshold": self.threshold,
            "peak_t": self.peak_t,
            **self.details,
        }


@dataclass(frozen=True)
class Signals:
    t: np.ndarray
    ear_r: np.ndarray
    ear_l: np.ndarray
    mouth: np.ndarray
    yaw: np.ndarray
    pitch: np.ndarray
    drop: np.ndarray  # eye-midpoint height in the image, in (median) IOD units; rises as the head drops

    @classmethod
    def from_landmarks(cls, t: np.ndarray, landmarks: np.ndarray) -> Signals:
        """Signals of the tracked frames only (frames with NaN landmarks are dropped)."""
        keep = ~np.isnan(landmarks[:, 0, 0])
        rows = np.array([geometry.signals(lm) for lm in landmarks[keep]], dtype=np.float64).reshape(-1, 7)
        iod = float(np.median(rows[:, 6])) if len(rows) else 1.0
        ear_r, ear_l, mouth, yaw, pitch = rows[:, :5].T
        return cls(np.asarray(t, dtype=np.float64)[keep], ear_r, ear_l, mouth, yaw, pitch, rows[:, 5] / max(iod, 1e-6))


def neutral(t: np.ndarray, x: np.ndarray, cfg: LivenessConfig) -> float:
    """The subject's own resting value: median over the first ``neutral_s`` (at least 3 samples)."""
    if len(x) == 0:
        return float("nan")
    n = max(3, int(np.searchsorted(t, t[0] + cfg.neutral_s)))
    return float(np.median(x[:n]))


def sustained(t: np.ndarray, x: np.ndarray, hold_s: float) -> np.ndarray:
    """For each sample, the minimum of ``x`` over the samples in ``[t, t + hold_s]``.

    ``max(sustained(...))`` is the largest level the signal *held* for ``hold_s`` (at least two
    samples), so one noisy landmark frame cannot pass a challenge.
    """
    out = np.full(len(x), -np.inf)
    end = np.searchsorted(t, t + hold_s + 1e-6, side="right")
    for i in range(len(x)):
        if end[i] - 1 > i and t[end[i] - 1] - t[i] >= 0.5 * hold_s:
            out[i] = np.min(x[i : end[i]])
    return out


Window = tuple[float, float] | None  # only an action peaking inside [start, end] (s) counts


def _outside(t: np.ndarray, window: Window) -> np.ndarray:
    if window is None:
        return np.zeros(len(t), dtype=bool)
    return np.asarray((t < window[0]) | (t > window[1]))


def _onset(t: np.ndarray, dev: np.ndarray, peak: float | None, level: float) -> float | None:
    """When the movement began: the last sample before ``peak`` still below ``level``."""
    if peak is None:
        return None
    before = np.nonzero((t <= peak) & (dev < level))[0]
    return float(t[before[-1]]) if len(before) else float(t[0])


def blink(s: Signals, cfg: LivenessConfig, window: Window = None) -> ChallengeResult:
    """A closure between two open-eye frames: both eyes' EAR drops below ``blink_closed_ratio`` of
    their median, and the gap from the last open frame (above ``blink_open_ratio``) before it to
    the first open frame after it is at most ``blink_max_s``.

    The hysteresis is what separates blinks from look-alikes: a wink keeps one eye open (we take
    the more open eye); a smile squint or a downward gaze dips as deep but stays below "open" for
    0.5 s or more (liveportrait-d19 at 2.8-3.3 s, d3 at 7-8 s), a blink reopens within ~0.3 s.
    """
    thr = cfg.blink_closed_ratio
    if len(s.t) < 3:
        return ChallengeResult("blink", False, 0.0, round(1.0 - thr, 4), None, {"blinks": 0})
    both = np.maximum(s.ear_r / np.median(s.ear_r), s.ear_l / np.median(s.ear_l))  # a wink is not a blink
    open_idx = np.nonzero(both > cfg.blink_open_ratio)[0]
    events: list[tuple[float, float, float, float]] = []  # (deepest closure, open-to-open span, depth, onset)
    for a, b in itertools.pairwise(open_idx):
        if b - a < 2:
            continue
        seg = both[a + 1 : b]
        span = float(s.t[b] - s.t[a])
        k = a + 1 + int(np.argmin(seg))
        if both[k] < thr and span <= cfg.blink_max_s and not _outside(s.t[k : k + 1], window)[0]:
            events.append((float(s.t[k]), span, float(both[k]), float(s.t[a])))
    deepest = min((e[2] for e in events), default=float(np.min(both)))
    first = min(events, key=lambda e: e[0]) if events else None
    peak = min(events, key=lambda e: e[2])[0] if events else None
    if window is not None and first is not None:
        peak = first[0]  # in a sequence the first blink after the prompt is the answer
    return ChallengeResult(
        "blink",
        bool(events),
        round(1.0 - deepest, 4),  # closure depth: 1 - EAR/median (deepest blink, or deepest dip if none)
        round(1.0 - thr, 4),
        peak,
        {
            "blinks": len(events),
            "blink_times": [round(e[0], 2) for e in events],
            "blink_spans_s": [round(e[1], 3) for e in events],
            "onset_t": None if first is None else round(first[3], 3),
        },
    )


def _held_peak(t: np.ndarray, dev: np.ndarray, hold_s: float) -> tuple[float, float | None]:
    held = sustained(t, dev, hold_s)
    if len(held) == 0 or not np.isfinite(held).any():
        return 0.0, None
    k = int(np.argmax(held))
    return float(held[k]), float(t[k])


def turn(s: Signals, direction: str, cfg: LivenessConfig, window: Window = None) -> ChallengeResult:
    """``turn_left``: yaw rises (nose to image right); ``turn_right``: yaw falls; held ``hold_s``."""
    name = f"turn_{direction}"
    if len(s.t) < 3:
        return ChallengeResult(name, False, 0.0, cfg.turn_min_delta, None)
    sign = 1.0 if direction == "left" else -1.0
    base = neutral(s.t, s.yaw, cfg)
    # Both conditions must hold on the same frames: moved far enough from neutral, and the nose
    # really on the asked side (so coming back from an opposite turn does not count).
    dev = np.minimum(sign * (s.yaw - base), sign * s.yaw - cfg.turn_min_abs + cfg.turn_min_delta)
    signal, peak = _held_peak(s.t, np.where(_outside(s.t, window), -np.inf, dev), cfg.hold_s)
    return ChallengeResult(
        name,
        signal >= cfg.turn_min_delta,
        round(signal, 4),
        cfg.turn_min_delta,
        peak,
        {
            "neutral_yaw": round(base, 4),
            "yaw_range": [round(float(s.yaw.min()), 4), round(float(s.yaw.max()), 4)],
            "onset_t": _onset(s.t, dev, peak, cfg.onset_fraction * cfg.turn_min_delta),
        },
    )


def nod(s: Signals, cfg: LivenessConfig, window: Window = None) -> ChallengeResult:
    """Head down and back up: the pitch ratio rises by ``nod_min_delta`` *while* the face drops by
    ``nod_min_drop`` IOD in the image (the head pivots on the neck), held ``hold_s``, then both
    come back by ``nod_return`` of the way.

    Expressions move the pitch ratio (talking: up to 0.10) but not the face; a hand-held photo
    moves the face but not the ratio; a nod does both (liveportrait-d3: +0.07 and +0.55 IOD).
    """
    if len(s.t) < 3:
        return ChallengeResult("nod", False, 0.0, cfg.nod_min_delta, None)
    base_p = neutral(s.t, s.pitch, cfg)
    base_y = neutral(s.t, s.drop, cfg)
    dp = s.pitch - base_p
    dy = (s.drop - base_y) * (cfg.nod_min_delta / cfg.nod_min_drop)  # in pitch units
    both = np.minimum(dp, dy)
    signal, peak = _held_peak(s.t, np.where(_outside(s.t, window), -np.inf, both), cfg.hold_s)
    returned = False
    if peak is not None:
        after = np.maximum(dp, dy)[s.t > peak]
        returned = bool(len(after)) and float(after.min()) <= signal * (1.0 - cfg.nod_return)
    performed = signal >= cfg.nod_min_delta and returned
    return ChallengeResult(
        "nod",
        performed,
        round(signal, 4),
        cfg.nod_min_delta,
        peak,
        {
            "pitch_rise": round(float(dp.max()), 4),
            "face_drop_iod": round(float((s.drop - base_y).max()), 4),
            "returned": returned,
            "onset_t": _onset(s.t, both, peak, cfg.onset_fraction * cfg.nod_min_delta),
        },
    )


def open_mouth(s: Signals, cfg: LivenessConfig, window: Window = None) -> ChallengeResult:
    """Inner-lip gap held above ``mouth_min_gap`` IOD and ``mouth_min_delta`` above neutral."""
    if len(s.t) < 3:
        return ChallengeResult("open_mouth", False, 0.0, cfg.mouth_min_gap, None)
    base = neutral(s.t, s.mouth, cfg)
    dev = np.minimum(s.mouth, s.mouth - base - cfg.mouth_min_delta + cfg.mouth_min_gap)
    signal, peak = _held_peak(s.t, np.where(_outside(s.t, window), -np.inf, dev), cfg.hold_s)
    return ChallengeResult(
        "open_mouth",
        signal >= cfg.mouth_min_gap,
        round(signal, 4),
        cfg.mouth_min_gap,
        peak,
        {
            "neutral_gap": round(base, 4),
            # the gap rising from its neutral: the onset is where it was still within a quarter of the way
            "onset_t": _onset(s.t, s.mouth - base, peak, cfg.onset_fraction * cfg.mouth_min_delta),
        },
    )


def challenge(name: str, s: Signals, cfg: LivenessConfig, window: Window = None) -> ChallengeResult:
    """One action, anywhere in the clip or (``window``) peaking inside a time window."""
    if name == "blink":
        return blink(s, cfg, window)
    if name in ("turn_left", "turn_right"):
        return turn(s, name.removeprefix("turn_"), cfg, window)
    if name == "nod":
        return nod(s, cfg, window)
    if name == "open_mouth":
        return open_mouth(s, cfg, window)
    raise ValueError(f"unknown challenge {name!r}")


@dataclass(frozen=True)
class StaticResult:
    static: bool
    residual: float  # the static_rank-th largest per-frame residual, IOD units
    threshold: float
    frames: int

    def to_dict(self) -> dict[str, Any]:
        return {"static": self.static, "residual": self.residual, "threshold": self.threshold, "frames": self.frames}


def frame_residuals(landmarks: np.ndarray) -> np.ndarray:
    """Per tracked frame: 90th-percentile landmark error of the best homography from a reference frame.

    The reference is the frame closest to the clip's median (aligned) face shape.
    """
    lms = landmarks[~np.isnan(landmarks[:, 0, 0])]
    if len(lms) < 2:
        return np.zeros(0)
    aligned = np.array([geometry.align(lm) for lm in lms])
    med = np.median(aligned, axis=0)
    ref = lms[int(np.argmin(np.abs(aligned - med).sum(axis=(1, 2))))]
    return np.array([np.percentile(geometry.planar_residual(ref, lm), 90) for lm in lms])


def static_check(landmarks: np.ndarray, cfg: LivenessConfig) -> StaticResult:
    """A planar object moved by hand: a homography explains every frame's landmarks up to noise."""
    res = frame_residuals(landmarks)
    if len(res) < cfg.static_rank:
        return StaticResult(False, float("nan"), cfg.static_max_residual, len(res))
    score = float(np.sort(res)[-cfg.static_rank])
    return StaticResult(score < cfg.static_max_residual, round(score, 4), cfg.static_max_residual, len(res))
