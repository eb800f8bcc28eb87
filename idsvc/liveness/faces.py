"""Thin adapter over ``face_recognition``/dlib: the only module that imports them.

The models (HOG detector, 68- and 5-point shape predictors, ResNet encoder) load lazily, once per
process, on the first call to :func:`engine`; importing this module costs nothing.  Everything
that leaves this module is our own type: boxes are ``Box`` (top/right/bottom/left ints, the
face_recognition "css" order), landmarks are ``(68, 2) float64`` arrays in pixel coordinates,
encodings are ``(128,) float64`` arrays.

Measured on the 2-vCPU build VM (see docs/liveness.md): HOG detection costs ~7 ms on a 270x480
frame without upsampling, the 68-point predictor ~1.5 ms per face, the encoder ~9 ms per face
whatever the frame size (it works on a 150x150 chip).  The encoder is dlib's own ResNet, weights
and all, run with numpy (:mod:`idsvc.liveness.resnet`): dlib's wheel has no BLAS and took ~85 ms.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import threadpoolctl

from idsvc.liveness import resnet
from idsvc.liveness.errors import FACE_MODELS_UNAVAILABLE


@dataclass(frozen=True)
class Box:
    """A face box in pixel coordinates, face_recognition's (top, right, bottom, left) order."""

    top: int
    right: int
    bottom: int
    left: int
    score: float = 0.0  # HOG detector confidence; 0 for boxes we derived ourselves

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def area(self) -> int:
        return max(0, self.width) * max(0, self.height)

    def scaled(self, factor: float) -> Box:
        return Box(
            round(self.top * factor),
            round(self.right * factor),
            round(self.bottom * factor),
            round(self.left * factor),
            self.score,
        )

    def iou(self, other: Box) -> float:
        inter_w = min(self.right, other.right) - max(self.left, other.left)
        inter_h = min(self.bottom, other.bottom) - max(self.top, other.top)
        if inter_w <= 0 or inter_h <= 0:
            return 0.0
        inter = inter_w * inter_h
        return inter / float(self.area + other.area - inter)


class FaceEngine:
    """The loaded dlib models.  Build through :func:`engine` so they load once per process."""

    def __init__(self) -> None:
        try:
            with warnings.catch_warnings():
                # face_recognition_models imports pkg_resources, which warns on every import.
                warnings.simplefilter("ignore")
                import dlib
                import face_recognition_models as frm
        except Exception as exc:  # pragma: no cover - depends on the environment
            raise FACE_MODELS_UNAVAILABLE({"error": type(exc).__name__}) from exc
        # Loading the models ourselves (the same files face_recognition's api.py loads) skips its
        # import-time CNN detector load and its quit() when the models package is missing.
        self._dlib = dlib
        self._detector = dlib.get_frontal_face_detector()
        self._pose68 = dlib.shape_predictor(frm.pose_predictor_model_location())
        self._pose5 = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
        self._net = resnet.FaceNet.load(frm.face_recognition_model_location())
        # One BLAS thread: a second only spins (measured: the same wall time for twice the CPU),
        # and analysis workers already run one analysis per core.  Process-wide, set once here.
        threadpoolctl.threadpool_limits(limits=1, user_api="blas")

    def _rect(self, box: Box) -> Any:
        return self._dlib.rectangle(int(box.left), int(box.top), int(box.right), int(box.bottom))

    def detect(self, image: np.ndarray, upsample: int = 0) -> list[Box]:
        """HOG face boxes on an (H, W) gray or (H, W, 3) RGB uint8 image, largest first."""
        _check_image(image)
        rects, scores, _ = self._detector.run(image, upsample, 0.0)
        h, w = image.shape[:2]
        boxes = [
            Box(max(r.top(), 0), min(r.right(), w), min(r.bottom(), h), max(r.left(), 0), float(s))
            for r, s in zip(rects, scores)
        ]
        return sorted(boxes, key=lambda b: b.area, reverse=True)

    def landmarks(self, image: np.ndarray, box: Box) -> np.ndarray:
        """The 68 iBUG landmarks of the face in ``box`` as a (68, 2) float64 array (x, y)."""
        shape = self._pose68(image, self._rect(box))
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)

    def encode(self, image_rgb: np.ndarray, box: Box) -> np.ndarray:
        """128-d embedding of the face in ``box``: dlib's 5-point alignment to a 150x150 chip (padding
        0.25) and its ResNet, no jitter, as face_recognition's default.

        References and video frames must be encoded the same way, so this is the only encoder.
        """
        return self.encode_many([image_rgb], [box])[0]

    def encode_many(self, images_rgb: list[np.ndarray], boxes: list[Box]) -> list[np.ndarray]:
        """``encode`` of several faces in one pass through the network (the same numbers, checked
        in tests/liveness/test_pipeline.py)."""
        if not images_rgb:
            return []
        chips = []
        for image, box in zip(images_rgb, boxes):
            _check_image(image, rgb=True)
            shape = self._pose5(image, self._rect(box))
            chips.append(self._dlib.get_face_chip(image, shape, size=resnet.CHIP_SIZE, padding=0.25))
        return list(self._net(np.stack(chips)))


_ENGINE: FaceEngine | None = None
_LOCK = threading.Lock()


def engine() -> FaceEngine:
    """The process-wide engine, loaded on first use (thread-safe)."""
    global _ENGINE
    if _ENGINE is None:
        with _LOCK:
            if _ENGINE is None:
                _ENGINE = FaceEngine()
    return _ENGINE


def face_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two 128-d encodings (face_recognition's ``face_distance``)."""
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))


def _check_image(image: np.ndarray, *, rgb: bool = False) -> None:
    ok = image.dtype == np.uint8 and ((image.ndim == 3 and image.shape[2] == 3) or (image.ndim == 2 and not rgb))
    if not ok:
        expected = "(H, W, 3) uint8 RGB" if rgb else "(H, W) or (H, W, 3) uint8"
        raise ValueError(f"expected {expected}, got {image.shape} {image.dtype}")


def naive_frame_analysis(image_rgb: np.ndarray) -> int:
    """The benchmark baseline only: face_recognition's own ``face_locations`` (HOG, upsample 1) +
    ``face_landmarks`` + ``face_encodings`` on one full-resolution frame; returns the face count.

    Kept here so this module stays the only importer of ``face_recognition``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import face_recognition
        from PIL import ImageFile

        # face_recognition turns on Pillow's LOAD_TRUNCATED_IMAGES for the whole process at import;
        # we refuse truncated uploads, so turn it off again.
        ImageFile.LOAD_TRUNCATED_IMAGES = False

    locations = face_recognition.face_locations(image_rgb)
    face_recognition.face_landmarks(image_rgb, locations)
    face_recognition.face_encodings(image_rgb, locations)
    return len(locations)
