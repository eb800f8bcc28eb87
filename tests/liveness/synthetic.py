"""Synthetic 68-point landmark sequences: a rigid 3-D face that turns, nods, blinks, opens its mouth.

The frontal shape is the median aligned landmark set of liveportrait-d18's first 50 frames
(interocular distance = 1); depths are rough anthropometric values (nose tip 0.45 IOD in front of
the eyes, jaw ends 1 IOD behind).  Coordinates: x to the image right, y down, z toward the camera.
Positive yaw = the subject turns to *their own left* (nose to image right); positive pitch = head
tips down.  Rotations pivot on the neck, behind and below the face, so a nod also moves the face down.
"""

from __future__ import annotations

import numpy as np

FRONTAL_2D = (
    (-1.144, 0.045),
    (-1.126, 0.370),
    (-1.079, 0.684),
    (-1.026, 0.992),
    (-0.930, 1.284),
    (-0.768, 1.539),
    (-0.553, 1.749),
    (-0.293, 1.901),
    (-0.002, 1.952),
    (0.286, 1.900),
    (0.518, 1.738),
    (0.718, 1.535),
    (0.875, 1.288),
    (0.958, 1.001),
    (1.002, 0.698),
    (1.044, 0.393),
    (1.058, 0.081),
    (-0.953, -0.154),
    (-0.789, -0.287),
    (-0.566, -0.311),
    (-0.345, -0.287),
    (-0.137, -0.214),
    (0.189, -0.205),
    (0.384, -0.275),
    (0.591, -0.301),
    (0.799, -0.286),
    (0.934, -0.155),
    (0.025, -0.015),
    (0.032, 0.194),
    (0.041, 0.399),
    (0.046, 0.613),
    (-0.178, 0.776),
    (-0.076, 0.811),
    (0.036, 0.838),
    (0.143, 0.814),
    (0.242, 0.781),
    (-0.691, -0.005),
    (-0.566, -0.072),
    (-0.423, -0.066),
    (-0.299, 0.037),
    (-0.440, 0.056),
    (-0.582, 0.051),
    (0.307, 0.037),
    (0.427, -0.066),
    (0.567, -0.072),
    (0.684, -0.006),
    (0.577, 0.052),
    (0.440, 0.056),
    (-0.416, 1.220),
    (-0.251, 1.144),
    (-0.091, 1.104),
    (0.022, 1.133),
    (0.123, 1.101),
    (0.267, 1.141),
    (0.403, 1.212),
    (0.268, 1.347),
    (0.131, 1.413),
    (0.016, 1.427),
    (-0.103, 1.419),
    (-0.260, 1.349),
    (-0.346, 1.224),
    (-0.094, 1.206),
    (0.021, 1.218),
    (0.124, 1.204),
    (0.341, 1.215),
    (0.126, 1.256),
    (0.017, 1.270),
    (-0.098, 1.259),
)


def _depths() -> np.ndarray:
    z = np.zeros(68)
    z[0:17] = -1.0 + 0.85 * (1 - np.abs(np.arange(17) - 8) / 8.0)  # jaw: ears -1.0, chin -0.15
    z[17:27] = 0.05  # brows
    z[27:31] = (0.1, 0.2, 0.32, 0.45)  # nose bridge to tip
    z[31:36] = (0.2, 0.28, 0.3, 0.28, 0.2)  # nostrils
    z[36:48] = 0.0
    z[[36, 45]] = -0.1  # outer eye corners
    z[48:68] = 0.2
    z[[48, 54, 60, 64]] = 0.1  # mouth corners
    return z


FACE_3D = np.column_stack([np.array(FRONTAL_2D), _depths()])
UPPER_LIDS = (37, 38, 43, 44)
LOWER_LIDS = (41, 40, 47, 46)
LOWER_LIP = (55, 56, 57, 58, 59, 65, 66, 67)
NECK_PIVOT = np.array([0.0, 2.5, -2.0])  # IOD units: below and behind the face


def pose(
    yaw_deg: float = 0.0,
    pitch_deg: float = 0.0,
    roll_deg: float = 0.0,
    eyes_closed: float = 0.0,
    mouth_open: float = 0.0,
    scale: float = 120.0,
    centre: tuple[float, float] = (360.0, 600.0),
    distance: float = 6.0,
) -> np.ndarray:
    """(68, 2) pixel landmarks of the face in one pose (perspective camera ``distance`` IOD away)."""
    p = FACE_3D.copy()
    for up, lo in zip(UPPER_LIDS, LOWER_LIDS):  # lids meet at their mid line
        mid = (p[up, 1] + p[lo, 1]) / 2.0
        p[up, 1] += (mid - p[up, 1]) * eyes_closed
        p[lo, 1] += (mid - p[lo, 1]) * eyes_closed
    p[list(LOWER_LIP), 1] += mouth_open
    p[4:13, 1] += mouth_open * (1 - np.abs(np.arange(4, 13) - 8) / 5.0)  # the chin follows the jaw
    a, b, c = np.radians([pitch_deg, yaw_deg, roll_deg])
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    # Pitch down (positive) must swing the nose (z > 0) toward +y: rotate with the sign that does.
    rx = rx.T
    p = (p - NECK_PIVOT) @ (rz @ ry @ rx).T + NECK_PIVOT
    k = distance / (distance - p[:, 2])
    return np.column_stack([centre[0] + scale * p[:, 0] * k, centre[1] + scale * p[:, 1] * k])


def bump(t: np.ndarray, t0: float, width: float) -> np.ndarray:
    """A smooth 0 -> 1 -> 0 pulse centred on t0, ``width`` seconds at half height."""
    return np.exp(-0.5 * ((t - t0) / (width / 2.355)) ** 2)


def sequence(
    seconds: float = 3.0,
    fps: float = 30.0,
    *,
    yaw=None,
    pitch=None,
    eyes=None,
    mouth=None,  # callables of t (s) -> value
    noise_px: float = 0.4,
    seed: int = 0,
    **kw,
) -> tuple[np.ndarray, np.ndarray]:
    """(t, (N, 68, 2) landmarks) with per-frame functions for the pose and expression, plus landmark noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, seconds, 1.0 / fps)
    frames = []
    for ti in t:
        lm = pose(
            yaw_deg=yaw(ti) if yaw else 0.0,
            pitch_deg=pitch(ti) if pitch else 0.0,
            eyes_closed=eyes(ti) if eyes else 0.0,
            mouth_open=mouth(ti) if mouth else 0.0,
            **kw,
        )
        frames.append(lm + rng.normal(0, noise_px, lm.shape))
    return t, np.array(frames)


def photo_sequence(
    seconds: float = 3.0, fps: float = 30.0, *, tilt_deg: float = 20.0, noise_px: float = 0.4, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A flat photo of the frontal face, tilted and turned about its own centre in front of the camera."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, seconds, 1.0 / fps)
    flat = np.column_stack([np.array(FRONTAL_2D), np.zeros(68)])  # a print has no depth
    frames = []
    for _i, ti in enumerate(t):
        a = np.radians(tilt_deg * np.sin(2 * np.pi * ti / seconds))
        b = np.radians(tilt_deg * np.cos(2 * np.pi * ti / seconds))
        rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
        ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
        p = flat @ (ry @ rx).T
        k = 6.0 / (6.0 - p[:, 2])
        shift = rng.normal(0, 3, 2) + np.array([20 * np.sin(ti * 3), 15 * ti])  # hand jitter and drift
        lm = np.column_stack([360 + shift[0] + 120 * p[:, 0] * k, 600 + shift[1] + 120 * p[:, 1] * k])
        frames.append(lm + rng.normal(0, noise_px, lm.shape))
    return t, np.array(frames)
