"""Find the calibration sheet's ArUco markers in a photo and cut out a box at a known px/mm."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .sheet import ARUCO_DICT, BOXES, marker_corners_mm

DETECT_LONG_SIDE = 1200  # markers are ≥ 16 mm: at 1200 px across an A4 photo they are ≥ 60 px
BOX_INSET_MM = 2.5  # stay clear of the printed box line (rectification error is ≪ 1 mm)
MIN_MARKERS = 3


@dataclass(frozen=True)
class SheetFit:
    homography: np.ndarray  # page mm → image px (of the image given to ``find_sheet``)
    marker_ids: tuple[int, ...]
    reprojection_px: float
    px_per_mm: float  # photo resolution around the box
    tilt_deg: float  # how far the camera was from square-on (informational)


def _detector() -> cv2.aruco.ArucoDetector:
    params = cv2.aruco.DetectorParameters()
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    return cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(ARUCO_DICT), params)


def detect_markers(rgb: np.ndarray) -> dict[int, np.ndarray]:
    """id → 4×2 corners in ``rgb`` pixel coordinates (detection runs on a downscaled copy)."""
    h, w = rgb.shape[:2]
    f = min(1.0, DETECT_LONG_SIDE / max(h, w))
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, (int(w * f), int(h * f)), interpolation=cv2.INTER_AREA) if f < 1 else grey
    corners, ids, _ = _detector().detectMarkers(small)
    known = marker_corners_mm()
    out: dict[int, np.ndarray] = {}
    if ids is None:
        return out
    for c, i in zip(corners, ids.ravel()):
        if int(i) in known and int(i) not in out:
            out[int(i)] = c.reshape(4, 2).astype(np.float64) / f
    return out


def fit(markers: dict[int, np.ndarray], box_name: str) -> SheetFit | None:
    """Homography from the box's own markers (robust to paper curl); all markers as a fallback."""
    box = BOXES[box_name]
    known = marker_corners_mm()
    ids = [i for i in box.marker_ids if i in markers]
    if len(ids) < MIN_MARKERS:
        ids = sorted(markers)
        if len(ids) < 4:
            return None
    src = np.concatenate([known[i] for i in ids])
    dst = np.concatenate([markers[i] for i in ids])
    H, _ = cv2.findHomography(src, dst, 0)
    if H is None:
        return None
    proj = cv2.perspectiveTransform(src.reshape(-1, 1, 2), H).reshape(-1, 2)
    err = float(np.sqrt(((proj - dst) ** 2).sum(axis=1).mean()))
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    pts = cv2.perspectiveTransform(np.array([[[cx, cy], [cx + 1, cy], [cx, cy + 1]]], np.float64), H)[0]
    u, v = pts[1] - pts[0], pts[2] - pts[0]
    ppm = float(np.sqrt(abs(u[0] * v[1] - u[1] * v[0])))  # area of the image of a 1 mm² square
    # Tilt: how unequal the two 1-mm steps are (1.0 = square-on).
    a, b = np.linalg.norm(pts[1] - pts[0]), np.linalg.norm(pts[2] - pts[0])
    tilt = float(np.degrees(np.arccos(min(1.0, float(min(a, b)) / float(max(a, b))))))
    return SheetFit(H, tuple(ids), err, ppm, tilt)


def warp_box(rgb: np.ndarray, sheet: SheetFit, box_name: str, px_per_mm: float, image_scale: float = 1.0) -> np.ndarray:
    """The box interior (inset by BOX_INSET_MM), rectified to ``px_per_mm``.

    ``image_scale`` maps the coordinates the fit was made in to ``rgb``'s pixels (e.g. 2.0 when the
    fit came from a half-size decode and ``rgb`` is full size)."""
    box = BOXES[box_name]
    x0, y0 = box.x + BOX_INSET_MM, box.y + BOX_INSET_MM
    wmm, hmm = box.w - 2 * BOX_INSET_MM, box.h - 2 * BOX_INSET_MM
    out_w, out_h = int(round(wmm * px_per_mm)), int(round(hmm * px_per_mm))
    S = np.array([[1 / px_per_mm, 0, x0], [0, 1 / px_per_mm, y0], [0, 0, 1]], dtype=np.float64)
    K = np.diag([image_scale, image_scale, 1.0])
    M = K @ sheet.homography @ S  # output px → image px
    return cv2.warpPerspective(
        rgb, M, (out_w, out_h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE
    )
