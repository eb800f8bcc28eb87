"""Detect once, then track: 68 landmarks on every analysed frame for ~1 ms each.

The HOG detector runs on a downscaled copy of the frame every ``detect_interval_s`` (to count
faces and re-anchor the track); between detections the face box for the landmark model comes
from the previous frame's landmarks, mapped to the box shape the HOG detector produces (measured
on 183 detections in tests/data videos: the detector box is the landmark hull widened ~2 % each
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
    # (N, 6): mean Y, U, V of the face's skin (below the eyes, around the nose) then of the
    # background (the frame's top corners), for the light challenge; NaN where no face.
    colour: np.ndarray = field(default_factory=lambda: np.zeros((0, 6)))

    @property
    def tracked(self) -> np.ndarray:
        return np.asarray(~np.isnan(self.landmarks[:, 0, 0]))


def _box_from_landmarks(lm_px: np.ndarray, w: int, h: int) -> Box:
    """The HOG-style box for the next frame, from this frame's eyes only.

    Eyes do not move with expressions (unlike jaw and mouth), so the box stays put while the member
    talks or opens the mouth.  Measured on 271 HOG detections in tests/data videos: the box is a
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


@dataclass(frozen=True)
class _Shape:
    """One frame's landmarks as the frame-to-frame checks compare them, computed once per frame."""

    iod: float
    centre: np.ndarray
    aligned: np.ndarray

    @classmethod
    def of(cls, lm: np.ndarray) -> _Shape:
        return cls(geometry.interocular(lm), lm.mean(axis=0), geometry.align(lm))


def _steps(prev: _Shape, cur: _Shape) -> tuple[float, float, float]:
    """(relative IOD change, centre shift in IOD, mean aligned-shape change in IOD) between frames."""
    if prev.iod <= 0 or cur.iod <= 0:
        return np.inf, np.inf, np.inf
    shift = float(np.linalg.norm(cur.centre - prev.centre)) / prev.iod
    shape = float(np.abs(cur.aligned - prev.aligned).mean())
    return abs(cur.iod / prev.iod - 1.0), shift, shape


def _implausible(prev: _Shape, cur: _Shape) -> bool:
    scale, shift, shape = _steps(prev, cur)
    return scale > MAX_SCALE_STEP or shift > MAX_SHIFT_STEP or shape > MAX_SHAPE_STEP


def _jumped(prev: _Shape, cur: _Shape) -> bool:
    """A face that is somewhere else or another size from one frame to the next: a cut."""
    scale, shift, _ = _steps(prev, cur)
    return scale > MAX_SCALE_STEP or shift > MAX_SHIFT_STEP


EYE_PATCH = (32, 12)  # both eyes, resized to this (w, h) for the change trigger


def _eye_box(lm_px: np.ndarray, w: int, h: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) around both eyes with a margin of 0.3 IOD."""
    eyes = lm_px[36:48]
    iod = max(geometry.interocular(lm_px), 1.0)
    m = 0.3 * iod
    x0, y0 = eyes.min(axis=0) - m
    x1, y1 = eyes.max(axis=0) + m
    return (int(max(0, x0)), int(max(0, y0)), int(min(w, x1)), int(min(h, y1)))


def _eye_patch(gray: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray | None:
    import cv2

    x0, y0, x1, y1 = box
    if x1 - x0 < 8 or y1 - y0 < 4:
        return None
    p = cv2.resize(gray[y0:y1, x0:x1], EYE_PATCH, interpolation=cv2.INTER_AREA).astype(np.float32)
    return np.asarray(p - p.mean())


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
    return np.asarray(t - t.mean())  # an exposure change is not a cut


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

    def detect(self, gray: np.ndarray, thorough: bool = False) -> list[Box]:
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
        """Landmarks, quality and detection rounds of every analysed frame (up to ``landmark_rate_hz``)."""
        run = _Run(self)
        for frame in frames:
            run.feed(frame)
        return run.track()


_NAN_LM = np.full((68, 2), np.nan)
_NAN6 = (float("nan"),) * 6


def _colour_boxes(lm_px: np.ndarray, w: int, h: int) -> list[tuple[int, int, int, int]]:
    """Skin (outer eye corners across, nose bridge to nose base down) and two background corners."""
    x0, x1 = sorted((int(lm_px[36, 0]), int(lm_px[45, 0])))
    y0, y1 = sorted((int(lm_px[29, 1]), int(lm_px[33, 1])))
    c = max(8, min(w, h) // 8)
    return [(x0, y0, x1, max(y1, y0 + 2)), (0, 0, c, c), (w - c, 0, w, c)]


def _colour(frame: Frame, lm_px: np.ndarray) -> tuple[float, ...]:
    h, w = frame.gray.shape
    skin, bg1, bg2 = frame.yuv_means(_colour_boxes(lm_px, w, h))
    bg = tuple((a + b) / 2.0 for a, b in zip(bg1, bg2))
    return (*skin, *bg)


@dataclass
class _Series:
    """The per-analysed-frame series; a frame without a face keeps its place, as NaN."""

    t: list[float] = field(default_factory=list)
    landmarks: list[np.ndarray] = field(default_factory=list)
    luma: list[float] = field(default_factory=list)
    sharpness: list[float] = field(default_factory=list)
    colour: list[tuple[float, ...]] = field(default_factory=list)

    def add(self, t: float, lm: np.ndarray, luma: float, sharp: float, colour: tuple[float, ...] = _NAN6) -> None:
        self.t.append(t)
        self.landmarks.append(lm)
        self.luma.append(luma)
        self.sharpness.append(sharp)
        self.colour.append(colour)

    def add_missing(self, t: float) -> None:
        self.add(t, _NAN_LM, float("nan"), float("nan"))

    def __len__(self) -> int:
        return len(self.t)


@dataclass
class _Anchor:
    """The box the landmark model is fed, and the detection rounds that confirm or move it."""

    box: Box | None = None
    misses: int = 0  # consecutive rounds without a face agreeing with the track
    next_detect: float = 0.0

    def due(self, t: float) -> bool:
        return t + 1e-6 >= self.next_detect

    def choose(self, found: list[Box], tracking: bool) -> tuple[Box | None, bool, bool]:
        """(the detection that is our face or None, keep following the landmarks, a new face appeared)."""
        if not found:
            return None, False, False
        if self.box is None:
            return found[0], False, False
        best = max(found, key=self.box.iou)
        if self.box.iou(best) >= 0.3:
            # HOG boxes at this scale are quantised (~20 px steps at 720p); when the track agrees,
            # keep following the landmarks rather than jumping.
            return best, self.box.iou(best) >= 0.6, False
        if not tracking or self.misses >= 1:
            return found[0], False, True  # the face we tracked is gone and another is there
        return None, False, False

    def update(self, chosen: Box | None, keep: bool) -> None:
        self.misses = 0 if chosen is not None else self.misses + 1
        if chosen is not None and not keep:
            self.box = chosen
        elif self.misses >= 2:
            self.box = None  # two rounds without confirmation: the face has left


class _Run:
    """One pass of :class:`FaceTracker` over a clip: the state that used to live in ``run``'s locals."""

    def __init__(self, tracker: FaceTracker) -> None:
        self.tracker = tracker
        self.cfg = tracker.cfg
        self.series = _Series()
        self.rounds: list[DetectionRound] = []
        self.candidates: dict[int, Candidate] = {}
        self.cuts: list[float] = []
        self.anchor = _Anchor()
        self.prev: _Shape | None = None  # the last analysed frame's landmarks; None once the face is lost
        self.next_analyse = 0.0
        self.n_decoded = 0
        self.first_t: float | None = None
        self.last_t = 0.0
        self.frame_wh = (0, 0)
        self.rotation = 0
        self.ears: list[float] = []
        self.thumb_diffs: list[float] = []
        self.prev_thumb: np.ndarray | None = None
        self.next_scene = 0.0
        self.scene_t: list[float] = []
        self.keyframe_hz = min(self.cfg.landmark_keyframe_hz, self.cfg.landmark_rate_hz)
        self.sparse = self.keyframe_hz < self.cfg.landmark_rate_hz
        self.keyframe = True
        self.eye_box: tuple[int, int, int, int] | None = None
        self.eye_ref: np.ndarray | None = None

    # -- per frame ---------------------------------------------------------------------------
    def feed(self, frame: Frame) -> None:
        self.n_decoded += 1
        self.first_t = frame.t if self.first_t is None else self.first_t
        self.last_t = frame.t
        if frame.t + 1e-6 < self.next_scene:
            return
        self.next_scene = max(self.next_scene + 1.0 / self.cfg.landmark_rate_hz, frame.t)
        gray = frame.gray
        self._scene(gray, frame.t)
        keyframe = frame.t + 1e-6 >= self.next_analyse
        if not keyframe and not self._eyes_changed(gray):
            return
        if keyframe:
            self.next_analyse = max(self.next_analyse + 1.0 / self.keyframe_hz, frame.t)
        self.keyframe = keyframe
        h, w = gray.shape
        sx, sy = frame.display_scale
        self.frame_wh = (round(w * sx), round(h * sy))
        self.rotation = frame.rotation
        if self.anchor.due(frame.t):
            self._detection_round(gray, frame.t)
        if self.anchor.box is None:
            self._lost(frame.t)
            return
        fitted = self._fit(frame, self.anchor.box)
        if fitted is None:
            return
        lm_px, lm, shape = fitted
        self._record(frame, gray, lm, shape, _colour(frame, lm_px))
        self.anchor.box = _box_from_landmarks(lm_px, w, h)
        if self.sparse:
            self.eye_box = _eye_box(lm_px, w, h)
            self.eye_ref = _eye_patch(gray, self.eye_box)

    def _eyes_changed(self, gray: np.ndarray) -> bool:
        """Between key frames: did the eyes change (a blink, a move) since the last analysed frame?"""
        if self.eye_box is None or self.eye_ref is None or self.prev is None:
            return False
        patch = _eye_patch(gray, self.eye_box)
        if patch is None or patch.shape != self.eye_ref.shape:
            return True
        return float(np.abs(patch - self.eye_ref).mean()) > self.cfg.eye_change_trigger

    def _scene(self, gray: np.ndarray, t: float) -> None:
        self.scene_t.append(t)
        thumb = _thumb(gray)
        self.thumb_diffs.append(float(np.abs(thumb - self.prev_thumb).mean()) if self.prev_thumb is not None else 0.0)
        self.prev_thumb = thumb

    def _detection_round(self, gray: np.ndarray, t: float) -> None:
        anchor = self.anchor
        anchor.next_detect = t + self.cfg.detect_interval_s
        found = self.tracker.detect(gray, thorough=anchor.box is None)
        chosen, keep, new_face = anchor.choose(found, tracking=self.prev is not None)
        if new_face:
            self.cuts.append(t)
        anchor.update(chosen, keep)
        main_w = float(chosen.width) if chosen is not None else 0.0
        others = tuple(b.width / main_w for b in found if chosen is not None and b != chosen)
        self.rounds.append(DetectionRound(t, len(found), main_w, others))

    def _lost(self, t: float) -> None:
        self.series.add_missing(t)
        self.prev = None

    def _landmarks(self, frame: Frame, box: Box) -> tuple[np.ndarray, np.ndarray]:
        """(landmarks in stored pixels, the same in display coordinates)."""
        lm_px = self.tracker.engine.landmarks(frame.gray, box)
        sx, sy = frame.display_scale
        return lm_px, (lm_px * np.array([sx, sy]) if (sx, sy) != (1.0, 1.0) else lm_px)

    def _fit(self, frame: Frame, box: Box) -> tuple[np.ndarray, np.ndarray, _Shape] | None:
        """This frame's landmarks (stored pixels, display, shape), re-anchored on a fresh detection
        if they jumped; None when lost."""
        lm_px, lm = self._landmarks(frame, box)
        shape = _Shape.of(lm)
        prev = self.prev
        if prev is None or not _implausible(prev, shape):
            return lm_px, lm, shape
        # The landmark model slipped (a box from a bad previous fit, motion blur) or the face
        # changed: re-anchor on a fresh detection before trusting this frame.
        found = self.tracker.detect(frame.gray)
        if not found:
            self.anchor.box = None
            self._lost(frame.t)
            return None
        best = max(found, key=box.iou)
        lm_px, lm = self._landmarks(frame, best)
        self.anchor.box = best
        shape = _Shape.of(lm)
        if _jumped(prev, shape):
            self.cuts.append(frame.t)  # even a fresh detection jumped: another face, or a splice
        return lm_px, lm, shape

    def _record(self, frame: Frame, gray: np.ndarray, lm: np.ndarray, shape: _Shape, colour: tuple[float, ...]) -> None:
        box = self.anchor.box
        assert box is not None
        # Quality and candidates at 15 Hz (plenty for picking frames to encode and for the median
        # luma/sharpness): on key frames, or on every other frame when every frame is analysed.
        quality_frame = self.keyframe if self.sparse else len(self.series) % 2 == 0
        luma, sharp = _quality(gray, box) if quality_frame else (float("nan"), float("nan"))
        self.series.add(frame.t, lm, luma, sharp, colour)
        self.prev = shape
        if quality_frame:
            self._candidate(frame, box, lm, sharp)

    def _candidate(self, frame: Frame, box: Box, lm: np.ndarray, sharp: float) -> None:
        """Encoding candidates, one per bucket: sharp, frontal, eyes open, mouth shut.

        Frames with a turned head, closed eyes or a wide mouth drifted up to 0.6 from the same
        person's other frames on liveportrait-d3.
        """
        ear_r, ear_l, gap, yaw, _, _, _ = geometry.signals(lm)
        self.ears.append((ear_r + ear_l) / 2.0)
        eyes_open = min(1.0, self.ears[-1] / (0.9 * float(np.median(self.ears))))
        score = sharp * eyes_open * float(np.exp(-abs(yaw) / 0.15 - gap / 0.25))
        bucket = int(frame.t / BUCKET_S)
        held = self.candidates.get(bucket)
        if held is None or score > held.score:
            self.candidates[bucket] = Candidate(frame.t, score, frame, box)

    # -- the result --------------------------------------------------------------------------
    def track(self) -> Track:
        s, n = self.series, self.n_decoded
        t = np.array(s.t, dtype=np.float64)
        return Track(
            t=t,
            landmarks=np.array(s.landmarks, dtype=np.float64).reshape(-1, 68, 2),
            luma=np.array(s.luma, dtype=np.float64),
            sharpness=np.array(s.sharpness, dtype=np.float64),
            rounds=self.rounds,
            candidates=self.candidates,
            cuts=sorted(set(round(c, 3) for c in self.cuts)),
            scene_cuts=_scene_cuts(np.array(self.scene_t), np.array(self.thumb_diffs)),
            frame_wh=self.frame_wh,
            frames_decoded=n,
            # last timestamp plus one mean frame interval: 90 frames at 30 fps = 3.0 s
            duration_s=(self.last_t - (self.first_t or 0.0)) * n / (n - 1) if n > 1 else 0.0,
            rotation=self.rotation,
            colour=np.array(s.colour, dtype=np.float64).reshape(-1, 6),
        )
