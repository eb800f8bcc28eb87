"""Detect once, then track: 68 landmarks on every analysed frame for ~1 ms each.

The HOG detector runs on a downscaled copy of the frame every ``detect_interval_s`` (to count
faces and re-anchor the track); between detections the face box for the landmark model comes
from the previous frame's landmarks, mapped to the box shape the HOG detector produces (measured
on 183 detections in shared/data videos: the detector box is the landmark hull widened ~2 % each
side, raised 10 % at the top and trimmed 5 % at the bottom).

Per analysed frame we keep landmarks (display coordinates), face luma and sharpness.  For later
encoding we keep only the best-quality frame of each 0.25 s bucket, so memory stays bounded
(<= 34 frames) whatever the clip length.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from idsvc.liveness import geometry
from idsvc.liveness.config import LivenessConfig
from idsvc.liveness.faces import Box, FaceEngine
from idsvc.liveness.video import Frame

BUCKET_S = 0.25
SHARPNESS_SIDE = 128  # faces are resized to this width before measuring sharpness


@dataclass(frozen=True)
class DetectionRound:
    t: float
    n_faces: int
    main_width: float  # width of the face we track (0 when none), stored pixels
    other_rel: tuple[float, ...]  # widths of the other faces relative to the tracked one


@dataclass
class Candidate:
    t: float
    score: float
    frame: Frame
    box: Box


@dataclass
class Track:
    t: np.ndarray  # (N,) analysed frame times
    landmarks: np.ndarray  # (N, 68, 2) display coordinates, NaN where no face
    luma: np.ndarray  # (N,) mean face luma, NaN where no face
    sharpness: np.ndarray  # (N,)
    rounds: list[DetectionRound]
    candidates: dict[int, Candidate]
    cuts: list[float]  # times where the face jumped (a splice or a new face)
    scene_cuts: list[float]  # times where the whole picture changed at once (an edit)
    frame_wh: tuple[int, int]  # display size
    frames_decoded: int
    duration_s: float
    rotation: int
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def tracked(self) -> np.ndarray:
        return ~np.isnan(self.landmarks[:, 0, 0])


def _box_from_landmarks(lm_px: np.ndarray, w: int, h: int) -> Box:
    """The HOG-style box for the next frame, from this frame's eyes only.

    Eyes do not move with expressions (unlike jaw and mouth), so the box stays put while the member
    talks or opens the mouth.  Measured on 271 HOG detections in shared/data videos: the box is a
    square of 2.32 IOD centred 0.46 IOD below the eye midpoint (std 0.19 and 0.11 IOD, mostly HOG's
    own quantisation).  The landmark model drifts if fed a box offset by a few percent, so this
    matters: a hull-based box fed back frame after frame slipped onto the chin on a photo attack.
    """
    right, left = geometry.eye_centres(lm_px)
    axis = left - right
    iod = float(np.linalg.norm(axis))
    if iod <= 0:
        return Box(0, w, h, 0)
    down = np.array([-axis[1], axis[0]]) / iod  # perpendicular to the eye line, toward the mouth
    cx, cy = (right + left) / 2.0 + 0.46 * iod * down
    half = 1.16 * iod
    return Box(int(max(0, cy - half)), int(min(w, cx + half)), int(min(h, cy + half)), int(max(0, cx - half)))


# Between consecutive analysed frames (<= 1/30 s apart at 30 fps, 1/25 at 25) a real face moves
# far less than this; a blink moves the mean aligned landmark by ~0.01 IOD, a fast head turn ~0.03.
MAX_SHAPE_STEP = 0.08  # mean change of the aligned landmark shape, IOD units
MAX_SCALE_STEP = 0.2  # relative change of the interocular distance
MAX_SHIFT_STEP = 0.5  # landmark-centre shift, IOD units


def _steps(prev_lm: np.ndarray, lm: np.ndarray) -> tuple[float, float, float]:
    """(relative IOD change, centre shift in IOD, mean aligned-shape change in IOD) between frames."""
    iod0, iod1 = geometry.interocular(prev_lm), geometry.interocular(lm)
    if iod0 <= 0 or iod1 <= 0:
        return np.inf, np.inf, np.inf
    shift = float(np.linalg.norm(lm.mean(axis=0) - prev_lm.mean(axis=0))) / iod0
    shape = float(np.abs(geometry.align(lm) - geometry.align(prev_lm)).mean())
    return abs(iod1 / iod0 - 1.0), shift, shape


def _implausible(prev_lm: np.ndarray, lm: np.ndarray) -> bool:
    scale, shift, shape = _steps(prev_lm, lm)
    return scale > MAX_SCALE_STEP or shift > MAX_SHIFT_STEP or shape > MAX_SHAPE_STEP


def _jumped(prev_lm: np.ndarray, lm: np.ndarray) -> bool:
    """A face that is somewhere else or another size from one frame to the next: a cut."""
    scale, shift, _ = _steps(prev_lm, lm)
    return scale > MAX_SCALE_STEP or shift > MAX_SHIFT_STEP


THUMB = 32
# A scene cut: the whole (mean-removed) 32x32 thumbnail changes at once, far more than between
# any two neighbouring frames of a continuous recording.  Measured per-frame changes on the 23
# genuine windows: median 1-3 grey levels, max 14 (fast head movement, liveportrait-d12); the
# splices of two clips jump by 25-60.
SCENE_CUT_MIN = 20.0
SCENE_CUT_RATIO = 6.0


def _thumb(gray: np.ndarray) -> np.ndarray:
    import cv2

    step = max(1, min(gray.shape) // (2 * THUMB))  # decimate first: INTER_AREA on 720x1280 costs ~1 ms
    t = cv2.resize(gray[::step, ::step], (THUMB, THUMB), interpolation=cv2.INTER_AREA).astype(np.float32)
    return t - t.mean()  # an exposure change is not a cut


def _scene_cuts(t: np.ndarray, diffs: np.ndarray) -> list[float]:
    if len(diffs) < 3:
        return []
    typical = float(np.median(diffs[1:]))
    hits = np.nonzero((diffs > SCENE_CUT_MIN) & (diffs > SCENE_CUT_RATIO * max(typical, 0.5)))[0]
    return [round(float(t[i]), 3) for i in hits]


def _quality(gray: np.ndarray, box: Box) -> tuple[float, float]:
    """(mean luma, Laplacian variance at SHARPNESS_SIDE px) of the face box."""
    import cv2

    roi = gray[max(box.top, 0) : box.bottom, max(box.left, 0) : box.right]
    if roi.size < 64:
        return float("nan"), 0.0
    scale = SHARPNESS_SIDE / roi.shape[1]
    small = cv2.resize(roi, (SHARPNESS_SIDE, max(8, round(roi.shape[0] * scale))), interpolation=cv2.INTER_AREA)
    return float(roi.mean()), float(cv2.Laplacian(small, cv2.CV_64F).var())


class FaceTracker:
    def __init__(self, engine: FaceEngine, cfg: LivenessConfig) -> None:
        self.engine = engine
        self.cfg = cfg

    def _detect(self, gray: np.ndarray, thorough: bool = False) -> list[Box]:
        """HOG boxes in stored-pixel coordinates, largest first.

        The fast pass works at ``detect_long_side`` without upsampling (finds faces >= 20 % of the
        long side, i.e. any selfie).  With no face tracked, a thorough pass at up to 960 px with
        one upsampling (faces >= ~5 %) follows, so a small or distant face is found and reported
        as ``face_too_small`` rather than ``no_face``.
        """
        import cv2

        h, w = gray.shape
        passes = [(self.cfg.detect_long_side, 0)] + ([(960, 1)] if thorough else [])
        for long_side, upsample in passes:
            scale = min(1.0, long_side / max(h, w))
            small = (
                gray
                if scale == 1.0
                else cv2.resize(gray, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
            )
            boxes = self.engine.detect(small, upsample)
            if boxes:
                return [b.scaled(1.0 / scale) for b in boxes] if scale != 1.0 else boxes
        return []

    def run(self, frames: Iterable[Frame]) -> Track:
        cfg = self.cfg
        ts: list[float] = []
        lms: list[np.ndarray] = []
        lumas: list[float] = []
        sharps: list[float] = []
        rounds: list[DetectionRound] = []
        cands: dict[int, Candidate] = {}
        cuts: list[float] = []
        box: Box | None = None
        prev_lm: np.ndarray | None = None
        next_analyse = 0.0
        next_detect = 0.0
        misses = 0
        n_decoded = 0
        first_t: float | None = None
        last_t = 0.0
        frame_wh = (0, 0)
        rotation = 0
        nan_lm = np.full((68, 2), np.nan)

        def no_face(t: float) -> None:
            # A frame analysed without a face keeps its place in every series, as NaN.
            ts.append(t)
            lms.append(nan_lm)
            lumas.append(float("nan"))
            sharps.append(float("nan"))

        ears: list[float] = []
        thumbs_diff: list[float] = []
        prev_thumb: np.ndarray | None = None
        for frame in frames:
            n_decoded += 1
            first_t = frame.t if first_t is None else first_t
            last_t = frame.t
            if frame.t + 1e-6 < next_analyse:
                continue
            next_analyse = max(next_analyse + 1.0 / cfg.landmark_rate_hz, frame.t)
            gray = frame.gray
            h, w = gray.shape
            thumb = _thumb(gray)
            thumbs_diff.append(float(np.abs(thumb - prev_thumb).mean()) if prev_thumb is not None else 0.0)
            prev_thumb = thumb
            sx, sy = frame.display_scale
            frame_wh = (round(w * sx), round(h * sy))
            rotation = frame.rotation
            if frame.t + 1e-6 >= next_detect:
                next_detect = frame.t + cfg.detect_interval_s
                found = self._detect(gray, thorough=box is None)
                chosen: Box | None = None
                box_keep = False
                if found:
                    if box is None:
                        chosen = found[0]
                    else:
                        best = max(found, key=box.iou)
                        if box.iou(best) >= 0.3:
                            chosen = best
                            # HOG boxes at this scale are quantised (~20 px steps at 720p); when the
                            # track agrees, keep following the landmarks rather than jumping.
                            box_keep = box.iou(best) >= 0.6
                        elif prev_lm is None or misses >= 1:
                            chosen = found[0]
                            cuts.append(frame.t)  # the face we tracked is gone and another is there
                misses = 0 if chosen is not None else misses + 1
                if chosen is not None and not box_keep:
                    box = chosen
                elif misses >= 2:
                    box = None  # two rounds without confirmation: the face has left
                main_w = float(chosen.width) if chosen is not None else 0.0
                others = tuple(b.width / main_w for b in found if chosen is not None and b != chosen)
                rounds.append(DetectionRound(frame.t, len(found), main_w, others))
            if box is None:
                no_face(frame.t)
                prev_lm = None
                continue
            lm_px = self.engine.landmarks(gray, box)
            lm = lm_px * np.array([sx, sy]) if (sx, sy) != (1.0, 1.0) else lm_px
            if prev_lm is not None and _implausible(prev_lm, lm):
                # The landmark model slipped (a box from a bad previous fit, motion blur) or the
                # face changed: re-anchor on a fresh detection before trusting this frame.
                found = self._detect(gray)
                best = max(found, key=box.iou) if found else None
                if best is None:
                    box = None
                    no_face(frame.t)
                    prev_lm = None
                    continue
                lm_px = self.engine.landmarks(gray, best)
                lm = lm_px * np.array([sx, sy]) if (sx, sy) != (1.0, 1.0) else lm_px
                box = best
                if _jumped(prev_lm, lm):
                    cuts.append(frame.t)  # even a fresh detection jumped: another face, or a splice
            # Quality and candidates on every other analysed frame (15 Hz is plenty for picking
            # frames to encode and for the median luma/sharpness); landmarks stay on every frame.
            quality_frame = len(ts) % 2 == 0
            luma, sharp = _quality(gray, box) if quality_frame else (float("nan"), float("nan"))
            ts.append(frame.t)
            lms.append(lm)
            lumas.append(luma)
            sharps.append(sharp)
            prev_lm = lm
            if quality_frame:
                # Encoding candidates, one per bucket: sharp, frontal, eyes open, mouth shut.
                # Frames with a turned head, closed eyes or a wide mouth drifted up to 0.6 from
                # the same person's other frames on liveportrait-d3.
                ear_r, ear_l, gap, yaw, _, _, _ = geometry.signals(lm)
                ears.append((ear_r + ear_l) / 2.0)
                eyes_open = min(1.0, ears[-1] / (0.9 * float(np.median(ears))))
                score = sharp * eyes_open * float(np.exp(-abs(yaw) / 0.15 - gap / 0.25))
                bucket = int(frame.t / BUCKET_S)
                held = cands.get(bucket)
                if held is None or score > held.score:
                    cands[bucket] = Candidate(frame.t, score, frame, box)
            box = _box_from_landmarks(lm_px, w, h)
        return Track(
            t=np.array(ts, dtype=np.float64),
            landmarks=np.array(lms, dtype=np.float64).reshape(-1, 68, 2),
            luma=np.array(lumas, dtype=np.float64),
            sharpness=np.array(sharps, dtype=np.float64),
            rounds=rounds,
            candidates=cands,
            cuts=sorted(set(round(c, 3) for c in cuts)),
            scene_cuts=_scene_cuts(np.array(ts, dtype=np.float64), np.array(thumbs_diff)),
            frame_wh=frame_wh,
            frames_decoded=n_decoded,
            # last timestamp plus one mean frame interval: 90 frames at 30 fps = 3.0 s
            duration_s=(last_t - (first_t or 0.0)) * n_decoded / (n_decoded - 1) if n_decoded > 1 else 0.0,
            rotation=rotation,
        )
