"""``analyse_video``: one selfie clip + the asked challenge + the ID-record face -> a Decision.

Order of checks (the first failure is the reason; later, costlier steps are skipped):

1. ``id_record_not_found`` - no reference: nothing is decoded.
2. media: ``video_invalid`` / ``too_long`` / ``too_short`` from sniffing and headers, then while decoding.
3. face: ``no_face``, ``multiple_faces``, ``face_too_small``, ``too_dark``, ``too_blurry`` from the track.
4. ``static_image`` - landmarks move like a plane (photo or screen held up).
5. ``challenge_not_performed`` - measured movement below threshold.
6. ``identity_changed`` - a scene cut (an edited clip), or the clip's own encodings disagree
   (a splice, another face).
7. ``face_mismatch`` - median distance of the encodings to the reference above threshold.

Encodings (~15 ms each with the box refinement) are made only when 1-5 passed, on ``n_encodings``
frames: the best early frame, the best late frame, the best frame next to the challenge's peak
(so the person performing the action is the person identified) and the best of the middle, plus
frames either side of any track jump.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from idsvc.liveness import checks, geometry, light, match, sequence
from idsvc.liveness.config import LivenessConfig
from idsvc.liveness.decision import Decision, passed, rejected
from idsvc.liveness.faces import Box, engine
from idsvc.liveness.track import Candidate, FaceTracker, Track
from idsvc.liveness.video import VideoRejected, open_clip

log = logging.getLogger(__name__)


class _Clock:
    def __init__(self) -> None:
        self.t0 = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round((now - self.last) * 1000.0, 1)
        self.laps["total"] = round((now - self.t0) * 1000.0, 1)
        self.last = now


def analyse_video(
    video: str | Path,
    challenge: str | Mapping[str, Any],
    reference: np.ndarray | None,
    *,
    config: LivenessConfig | None = None,
) -> Decision:
    """Analyse a clip for a challenge: a sequence dict from ``new_challenge`` or a legacy action
    name.  Never raises for bad media; raises ``ValueError`` for an unknown challenge or a
    malformed reference (caller bugs, not member input)."""
    sequence.parse(challenge)
    if reference is None:
        return rejected("id_record_not_found", {"challenge": challenge})
    return decide(inspect(video, config=config), challenge, reference)


@dataclass
class Inspection:
    """Everything about a clip that does not depend on the challenge or the reference.

    ``decide`` can be called on one inspection for several challenges/references (the evaluation
    does); encodings are computed once per frame and cached here.
    """

    cfg: LivenessConfig
    measurements: dict[str, Any]
    reason: str | None = None  # a media or face-quality rejection
    track: Track | None = None
    signals: checks.Signals | None = None
    static: checks.StaticResult | None = None
    clock: _Clock = field(default_factory=lambda: _Clock())
    _encodings: dict[float, np.ndarray] = field(default_factory=dict)

    def encode(self, chosen: list[Candidate]) -> list[np.ndarray]:
        eng = engine()
        todo = list({c.t: c for c in chosen if c.t not in self._encodings}.values())
        rgbs = [c.frame.rgb() for c in todo]
        boxes = [_refine_box(eng, rgb, c.box, c.frame.display_scale) for c, rgb in zip(todo, rgbs)]
        for c, enc in zip(todo, eng.encode_many(rgbs, boxes)):  # one batch: ~1/3 less CPU than one by one
            self._encodings[c.t] = enc
        return [self._encodings[c.t] for c in chosen]


def _refine_box(eng: Any, rgb: np.ndarray, box: Box, scale: tuple[float, float]) -> Box:
    """A HOG box around the tracked one, so encodings see the same box as the enrolment did.

    The tracker's landmark-derived box is good enough for landmarks but, fed to the 5-point
    aligner, left outliers (up to 0.65 from the same person on liveportrait-d12); a HOG box on a
    crop costs ~5 ms and brought them back under 0.35.
    """
    import cv2

    sx, sy = scale
    b = Box(round(box.top * sy), round(box.right * sx), round(box.bottom * sy), round(box.left * sx))
    m = int(0.4 * b.width)
    top, left = max(0, b.top - m), max(0, b.left - m)
    crop = rgb[top : b.bottom + m, left : b.right + m]
    # Detect with the face at ~160 px (HOG finds >= 80 px): ~2 ms instead of ~15 ms at 720p.
    k = min(1.0, 160.0 / max(b.width, 1))
    if k < 1.0:
        crop = cv2.resize(crop, (round(crop.shape[1] * k), round(crop.shape[0] * k)), interpolation=cv2.INTER_AREA)
    found = eng.detect(np.ascontiguousarray(crop), 0 if b.width * k >= 100 else 1)
    if not found:
        return b
    f = found[0].scaled(1.0 / k)
    return Box(f.top + top, f.right + left, f.bottom + top, f.left + left)


def inspect(video: str | Path, *, config: LivenessConfig | None = None) -> Inspection:
    """Decode, track and measure a clip (media/face checks included).  Never raises for bad media."""
    cfg = config or LivenessConfig()
    clock = _Clock()
    m: dict[str, Any] = {"timings_ms": clock.laps}
    ins = Inspection(cfg, m, clock=clock)
    path = Path(video)
    try:
        with open_clip(path, cfg) as (info, frames):
            m["video"] = info.to_dict()
            clock.lap("probe")
            track = FaceTracker(engine(), cfg).run(frames)
    except VideoRejected as exc:
        m["video_problem"] = exc.details
        clock.lap("decode")
        ins.reason = exc.reason
        return ins
    except Exception as exc:  # noqa: BLE001 - a decoder or model failure on hostile input is still bad media
        log.warning("liveness: analysis failed on %s: %s", path.name, type(exc).__name__)
        m["video_problem"] = {"problem": "analysis_error", "error": type(exc).__name__}
        ins.reason = "video_invalid"
        return ins
    clock.lap("decode_track")
    ins.track = track
    m["video"].update(
        rotation=track.rotation, frames_decoded=track.frames_decoded, duration_decoded_s=round(track.duration_s, 3)
    )
    m["frames_analysed"] = int(len(track.t))
    if track.duration_s < cfg.min_duration_s - cfg.duration_grace_s:
        ins.reason = "too_short"
        return ins
    fps = (track.frames_decoded - 1) / track.duration_s if track.duration_s > 0 else 0.0
    if fps < cfg.min_fps:
        m["video_problem"] = {"problem": "frame_rate_too_low", "fps": round(fps, 2)}
        ins.reason = "video_invalid"
        return ins
    ins.reason = _face_checks(track, cfg, m)
    if ins.reason:
        return ins
    ins.signals = checks.Signals.from_landmarks(track.t, track.landmarks)
    ins.static = checks.static_check(track.landmarks, cfg)
    m["static"] = ins.static.to_dict()
    clock.lap("static")
    return ins


def decide(ins: Inspection, challenge: str | Mapping[str, Any], reference: np.ndarray | None) -> Decision:
    """The decision for one challenge (sequence dict or legacy name) and reference on an inspected clip."""
    ch = sequence.parse(challenge)
    m: dict[str, Any] = {"challenge": challenge, **ins.measurements, "timings_ms": dict(ins.clock.laps)}
    m["assurance"] = None
    if reference is None:
        return rejected("id_record_not_found", m)
    ref = np.asarray(reference, dtype=np.float64)
    if ref.shape != (match.ENCODING_DIM,):
        raise ValueError(f"reference must be a ({match.ENCODING_DIM},) encoding, got {ref.shape}")
    if ins.reason in MEDIA_REASONS:
        return rejected(ins.reason, m)
    provenance = _provenance(ins, ch)
    if provenance:
        m["provenance"] = provenance
        if provenance.get("recorded_before_challenge"):
            return rejected("recorded_before_challenge", m)
    if ins.reason:
        return rejected(ins.reason, m)
    assert ins.track is not None and ins.signals is not None and ins.static is not None
    cfg = ins.cfg
    performed, peak_t = _actions(ins.signals, ch, cfg, m)
    if ins.static.static:
        return rejected("static_image", m)
    if not performed:
        return rejected("challenge_not_performed", m, sequence.instruction(challenge))
    assurance = "sequence" if ch.timed else "single_action"
    if ch.flashes:
        lr = light.check(ins.track.t, ins.track.colour, ch.flashes)
        m["light"] = lr.to_dict()
        if lr.verdict == "failed":
            return rejected("light_challenge_failed", m)
        if lr.verdict == "passed":
            assurance = "sequence+light"
    m["assurance"] = assurance
    if cfg.scene_cut_check and ins.track.scene_cuts:
        # A continuous phone recording has no cuts; an edited clip is how a splice is made.
        return rejected("identity_changed", m)
    chosen = _pick_frames(ins.track, peak_t, cfg)
    encodings = ins.encode(chosen)
    ins.clock.lap("encode")
    m["timings_ms"] = dict(ins.clock.laps)
    m["encoded_frames_t"] = [round(c.t, 3) for c in chosen]
    drift = match.max_pairwise_distance(encodings)
    m["identity_drift"] = {"max_pairwise": round(drift, 4), "threshold": cfg.identity_drift_max}
    mr = match.match(encodings, ref, cfg.match_threshold)
    m["match"] = {
        "distance": round(mr.distance, 4),
        "distances": [round(d, 4) for d in mr.distances],
        "threshold": mr.threshold,
    }
    if drift > cfg.identity_drift_max:
        return rejected("identity_changed", m)
    if not mr.matched:
        return rejected("face_mismatch", m)
    return passed(m)


MEDIA_REASONS = frozenset({"video_invalid", "too_short", "too_long"})


def _actions(
    s: checks.Signals, ch: sequence.Challenge, cfg: LivenessConfig, m: dict[str, Any]
) -> tuple[bool, float | None]:
    """Every asked action performed, in order, each starting after its prompt; (ok, last peak)."""
    if not ch.timed:  # the legacy one-action challenge: anywhere in the clip
        result = checks.challenge(ch.steps[0].action, s, cfg)
        m["challenge_result"] = result.to_dict()
        return result.performed, result.peak_t
    tol = cfg.prompt_tolerance_s
    results, ok = [], True
    prev_onset = prev_peak = -np.inf
    for i, step in enumerate(ch.steps):
        nxt = ch.steps[i + 1].prompt_s if i + 1 < len(ch.steps) else np.inf
        r = checks.challenge(step.action, s, cfg, (step.prompt_s - tol, nxt + cfg.action_max_s))
        onset = r.details.get("onset_t")
        in_time = (
            r.performed
            and onset is not None
            and step.prompt_s - tol <= onset < nxt + tol
            and onset >= prev_onset
            and (r.peak_t or 0.0) > prev_peak
        )
        results.append({**r.to_dict(), "prompt_s": step.prompt_s, "in_time": bool(in_time)})
        ok = ok and bool(in_time)
        if r.performed and onset is not None:
            prev_onset, prev_peak = onset, r.peak_t or prev_peak
    m["challenge_result"] = {"performed": ok, "steps": results}
    last = results[-1].get("peak_t")
    return ok, last


def _provenance(ins: Inspection, ch: sequence.Challenge) -> dict[str, Any]:
    """What the container says about the recording, and whether it predates the challenge."""
    tags = (ins.measurements.get("video") or {}).get("tags") or {}
    out: dict[str, Any] = {k: tags[k] for k in ("creation_time", "encoder", "major_brand", "handler_name") if k in tags}
    created = _parse_time(tags.get("creation_time"))
    if created is not None and ch.issued_at is not None:
        out["created_before_issue_s"] = round(ch.issued_at - created, 1)
        out["recorded_before_challenge"] = created < ch.issued_at - ins.cfg.metadata_clock_slack_s
    return out


def _parse_time(value: Any) -> float | None:
    """An ISO 8601 ``creation_time`` tag as epoch seconds; None when absent, zero (1904/1970) or bad."""
    from datetime import UTC, datetime

    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    if dt.year < 2000:  # an unset MP4 time (1904) or epoch zero says nothing
        return None
    return dt.timestamp()


def _face_checks(track: Track, cfg: LivenessConfig, m: dict[str, Any]) -> str | None:
    tracked = track.tracked
    frac = float(tracked.mean()) if len(tracked) else 0.0
    rounds = track.rounds
    second = sum(1 for r in rounds if any(o >= cfg.second_face_rel for o in r.other_rel))
    widths = np.array([geometry.face_width(lm) for lm in track.landmarks[tracked]])
    face_w = float(np.median(widths)) if len(widths) else 0.0
    min_w = max(cfg.min_face_px, cfg.min_face_rel * min(track.frame_wh))
    luma = float(np.nanmedian(track.luma)) if tracked.any() else float("nan")
    sharp = float(np.nanmedian(track.sharpness)) if tracked.any() else float("nan")
    m["face"] = {
        "tracked_fraction": round(frac, 3),
        "detection_rounds": len(rounds),
        "rounds_with_second_face": second,
        "face_width_px": round(face_w, 1),
        "min_face_width_px": round(min_w, 1),
        "luma": round(luma, 1) if np.isfinite(luma) else None,
        "sharpness": round(sharp, 1) if np.isfinite(sharp) else None,
        "face_jumps_t": track.cuts,
        "scene_cuts_t": track.scene_cuts,
    }
    if frac < cfg.min_face_fraction_tracked:
        return "no_face"
    if second >= cfg.second_face_rounds:
        return "multiple_faces"
    if face_w < min_w:
        return "face_too_small"
    if luma < cfg.dark_max_luma:
        return "too_dark"
    if sharp < cfg.blur_min_sharpness:
        return "too_blurry"
    return None


def _pick_frames(track: Track, peak_t: float | None, cfg: LivenessConfig) -> list[Candidate]:
    """``n_encodings`` distinct frames: early, late, next to the action (or middle), plus cut sides."""
    cands = sorted(track.candidates.values(), key=lambda c: c.t)
    if not cands:
        return []
    span = track.duration_s
    chosen: list[Candidate] = []

    def best(pred: Any) -> Candidate | None:
        pool = [c for c in cands if pred(c) and all(c is not x for x in chosen)]
        return max(pool, key=lambda c: c.score) if pool else None

    def add(*preds: Any) -> None:
        for pred in preds:  # first predicate with a free candidate wins
            c = best(pred)
            if c is not None:
                chosen.append(c)
                return

    middle = lambda c: span / 3 <= c.t < 2 * span / 3  # noqa: E731
    add(lambda c: c.t < span / 3, middle)
    add(lambda c: c.t >= 2 * span / 3, middle)
    if peak_t is not None:
        add(lambda c: abs(c.t - peak_t) <= 0.4, middle, lambda c: True)
    while len(chosen) < min(cfg.n_encodings, len(cands)):
        add(middle, lambda c: True)
    for cut in track.cuts[:2]:  # both sides of a jump: a splice shows up as two identities
        add(lambda c, cut=cut: cut - 0.5 <= c.t < cut)
        add(lambda c, cut=cut: cut <= c.t <= cut + 0.5)
    return sorted(chosen, key=lambda c: c.t)
