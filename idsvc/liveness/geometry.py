"""Pure per-frame measurements on 68-point landmarks (iBUG/dlib numbering).

Every function takes ``landmarks_xy``: a (68, 2) float array of (x, y) pixel coordinates in an
unmirrored, upright frame (image x grows to the right, y downwards).  Subject-relative names:
the subject's *right* eye is points 36-41, which appears on the *image left*.

Everything is measured in a face frame (``align``): origin between the eyes, eye line along +x,
unit = interocular distance (IOD), so translation, roll and distance to the camera drop out.
``yaw`` is a ratio of distances along the eye line, so a flat photo turned about its vertical
axis (which shrinks all of them alike) cannot fake it; the photo attack is caught anyway by
``planar_residual``, which is what ``checks.static_check`` uses.
"""

from __future__ import annotations

import numpy as np

RIGHT_EYE = slice(36, 42)  # subject's right eye (image left)
LEFT_EYE = slice(42, 48)  # subject's left eye (image right)
NOSE_TIP = 30
NOSE_ROOT = 27
UPPER_LIP = 51  # top of the upper lip, outer contour
JAW_RIGHT = 0  # jaw end at the subject's right ear (image left)
JAW_LEFT = 16
INNER_UPPER = (61, 62, 63)
INNER_LOWER = (67, 66, 65)  # paired with INNER_UPPER, left to right


def check_landmarks(landmarks_xy: np.ndarray) -> np.ndarray:
    arr = np.asarray(landmarks_xy, dtype=np.float64)
    if arr.shape != (68, 2):
        raise ValueError(f"expected (68, 2) landmarks_xy, got {arr.shape}")
    return arr


def eye_aspect_ratio(eye_xy: np.ndarray) -> float:
    """Soukupova & Cech EAR of one eye's six points: mean lid gap over eye width (~0.3 open, <0.2 shut)."""
    p = np.asarray(eye_xy, dtype=np.float64)
    vertical = np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])
    horizontal = np.linalg.norm(p[0] - p[3])
    return float(vertical / (2.0 * horizontal)) if horizontal > 0 else 0.0


def eye_centres(landmarks_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(subject-right eye centre, subject-left eye centre)."""
    return landmarks_xy[RIGHT_EYE].mean(axis=0), landmarks_xy[LEFT_EYE].mean(axis=0)


def interocular(landmarks_xy: np.ndarray) -> float:
    right, left = eye_centres(landmarks_xy)
    return float(np.linalg.norm(left - right))


def align(landmarks_xy: np.ndarray) -> np.ndarray:
    """Landmarks in a face frame: origin between the eyes, eye line along +x, unit = interocular distance.

    Removes translation, in-plane roll and scale, so the remaining numbers are about pose and expression.
    """
    lm = check_landmarks(landmarks_xy)
    right, left = eye_centres(lm)
    axis = left - right
    iod = float(np.linalg.norm(axis))
    if iod <= 0:
        return np.zeros_like(lm)
    c, s = axis / iod
    rot = np.array([[c, s], [-s, c]])  # rotates the eye axis onto +x
    return np.asarray((lm - (right + left) / 2.0) @ rot.T / iod)


def roll_degrees(landmarks_xy: np.ndarray) -> float:
    right, left = eye_centres(check_landmarks(landmarks_xy))
    dx, dy = left - right
    return float(np.degrees(np.arctan2(dy, dx)))


def yaw(landmarks_xy: np.ndarray) -> float:
    """Head-yaw proxy: nose-tip offset from the eye midpoint along the eye line, in IOD.

    0 is frontal; about 0.5*tan(angle) (the nose tip stands ~0.5 IOD in front of the eyes).
    Positive means the nose moved toward the image right, i.e. in an unmirrored frame the subject
    turned to *their own left* (``turn_left``).  Eyes and nose only: cheeks and jaw (puffed cheeks,
    talking) do not move it, unlike jaw-contour ratios, which swung +-0.3 on talking clips.
    """
    return float(align(landmarks_xy)[NOSE_TIP, 0])


def pitch(landmarks_xy: np.ndarray) -> float:
    """Head-pitch proxy: nose length (root 27 to tip 30) over the eye-line-to-upper-lip (51) height.

    Rises when the head tips down (the protruding tip swings down faster than the face plane
    foreshortens), falls when it tips up.  A ratio of two vertical distances, so a photo tilted
    toward the camera (which shrinks both alike) cannot fake it: on 24 photo attacks it moved at
    most 0.024, against 0.125 for nose length over IOD.  Eye centres are not used because smiling
    lifts the lower lids; the chin is not used because it drops with an open mouth.
    """
    a = align(landmarks_xy)
    lip = a[UPPER_LIP, 1]
    return float((a[NOSE_TIP, 1] - a[NOSE_ROOT, 1]) / lip) if lip > 0 else 0.0


def mean_ear(landmarks_xy: np.ndarray) -> float:
    lm = check_landmarks(landmarks_xy)
    return (eye_aspect_ratio(lm[RIGHT_EYE]) + eye_aspect_ratio(lm[LEFT_EYE])) / 2.0


def mouth_open(landmarks_xy: np.ndarray) -> float:
    """Inner-lip gap (mean of three vertical gaps) in IOD: ~0 closed, 0.1-0.35 talking, 0.45+ wide open.

    Normalised by the interocular distance, which an open jaw does not change.
    """
    a = align(landmarks_xy)
    return max(float(np.mean([a[lo, 1] - a[up, 1] for up, lo in zip(INNER_UPPER, INNER_LOWER)])), 0.0)


def signals(landmarks_xy: np.ndarray) -> tuple[float, ...]:
    """(EAR right, EAR left, mouth gap, yaw, pitch, eye-midpoint y in pixels, IOD in pixels).

    One alignment for all of them; NaNs for a NaN frame.
    """
    lm = np.asarray(landmarks_xy, dtype=np.float64)
    if np.isnan(lm).any():
        return (np.nan,) * 7
    a = align(lm)
    er, el = eye_aspect_ratio(lm[RIGHT_EYE]), eye_aspect_ratio(lm[LEFT_EYE])
    gap = max(float(np.mean([a[lo, 1] - a[up, 1] for up, lo in zip(INNER_UPPER, INNER_LOWER)])), 0.0)
    lip = a[UPPER_LIP, 1]
    pit = float((a[NOSE_TIP, 1] - a[NOSE_ROOT, 1]) / lip) if lip > 0 else 0.0
    right, left = eye_centres(lm)
    return (
        er,
        el,
        gap,
        float(a[NOSE_TIP, 0]),
        pit,
        float((right[1] + left[1]) / 2.0),
        float(np.linalg.norm(left - right)),
    )


def face_width(landmarks_xy: np.ndarray) -> float:
    """Jaw span (point 0 to 16) in pixels: the face width used for the minimum-size check."""
    lm = np.asarray(landmarks_xy, dtype=np.float64)
    return float(np.linalg.norm(lm[JAW_LEFT] - lm[JAW_RIGHT]))


def planar_residual(ref_xy: np.ndarray, cur_xy: np.ndarray) -> np.ndarray:
    """Per-point error (in interocular units) of the best homography mapping ``ref`` onto ``cur``.

    A photo moved in front of the camera is a plane, so one homography explains all 68 points up
    to landmark noise; a live face that blinks, talks or turns (the nose is out of the plane of
    the eyes) leaves points the homography cannot place.
    """
    import cv2  # local: keeps this module importable for pure-maths tests without OpenCV

    src = np.asarray(ref_xy, dtype=np.float64).reshape(-1, 1, 2)
    dst = np.asarray(cur_xy, dtype=np.float64).reshape(-1, 1, 2)
    h, _ = cv2.findHomography(src, dst, 0)
    if h is None:
        return np.full(len(src), np.inf)
    mapped = cv2.perspectiveTransform(src, h).reshape(-1, 2)
    iod = interocular(np.asarray(cur_xy, dtype=np.float64))
    err = np.linalg.norm(mapped - dst.reshape(-1, 2), axis=1)
    return err / iod if iod > 0 else np.full(len(src), np.inf)
