"""Pure functions on synthetic landmark sequences (tests/liveness/synthetic.py): no models, no video."""

from __future__ import annotations

import numpy as np
import pytest

from idsvc.liveness import checks, geometry
from idsvc.liveness.config import LivenessConfig

from . import synthetic as S

CFG = LivenessConfig()
ALL = ("blink", "turn_left", "turn_right", "nod", "open_mouth")


def performed(t: np.ndarray, lms: np.ndarray) -> set[str]:
    s = checks.Signals.from_landmarks(t, lms)
    return {c for c in ALL if checks.challenge(c, s, CFG).performed}


# --- geometry ---------------------------------------------------------------------------------


def test_ear_of_hand_written_eye() -> None:
    eye = np.array([(0, 0), (1, -0.3), (2, -0.3), (3, 0), (2, 0.3), (1, 0.3)], dtype=float)
    assert geometry.eye_aspect_ratio(eye) == pytest.approx(0.2)
    shut = eye.copy()
    shut[:, 1] = 0
    assert geometry.eye_aspect_ratio(shut) == 0.0


def test_align_removes_translation_roll_and_scale() -> None:
    lm = S.pose()
    theta = np.radians(25)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    moved = (lm - 300) @ rot.T * 1.7 + np.array([50, -20])
    assert np.allclose(geometry.align(lm), geometry.align(moved), atol=1e-9)
    assert geometry.roll_degrees(moved) == pytest.approx(geometry.roll_degrees(lm) + 25, abs=1e-6)


@pytest.mark.parametrize("deg", [10, 20, 30])
def test_yaw_sign_is_the_members_own_left(deg: int) -> None:
    # turn_left = the member's own left = the nose moves to the image right (unmirrored frame).
    frontal = geometry.yaw(S.pose())
    assert geometry.yaw(S.pose(yaw_deg=deg)) > frontal + 0.1
    assert geometry.yaw(S.pose(yaw_deg=-deg)) < frontal - 0.1


def test_mirroring_swaps_turn_direction() -> None:
    lm = S.pose(yaw_deg=25)
    mirrored = lm.copy()
    mirrored[:, 0] = 720 - mirrored[:, 0]
    # iBUG numbering is anatomical, so a mirror also swaps which points are "left": the yaw of the
    # mirrored cloud, relabelled, must be the negative.
    relabel = (
        list(range(16, -1, -1))
        + list(range(26, 16, -1))
        + list(range(27, 31))
        + list(range(35, 30, -1))
        + [45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40]
        + list(range(54, 47, -1))
        + list(range(59, 54, -1))
        + list(range(64, 59, -1))
        + list(range(67, 64, -1))
    )
    assert geometry.yaw(mirrored[relabel]) == pytest.approx(-geometry.yaw(lm), abs=1e-9)


def test_pitch_rises_when_the_head_tips_down_but_not_when_a_photo_tilts() -> None:
    assert geometry.pitch(S.pose(pitch_deg=20)) > geometry.pitch(S.pose()) + 0.08
    assert geometry.pitch(S.pose(pitch_deg=-20)) < geometry.pitch(S.pose()) - 0.08
    flat = S.pose()
    squashed = flat.copy()
    squashed[:, 1] = 600 + (squashed[:, 1] - 600) * np.cos(np.radians(35))  # a print tilted 35 degrees
    assert geometry.pitch(squashed) == pytest.approx(geometry.pitch(flat), abs=1e-9)


def test_mouth_gap_in_interocular_units() -> None:
    assert geometry.mouth_open(S.pose()) < 0.1
    assert geometry.mouth_open(S.pose(mouth_open=0.5)) == pytest.approx(0.55, abs=0.05)


def test_planar_residual_is_zero_for_a_homography_and_not_for_a_turn() -> None:
    import cv2

    lm = S.pose()
    h = np.array([[1.05, 0.08, 10], [-0.03, 0.92, 5], [1e-4, -2e-4, 1]])
    warped = cv2.perspectiveTransform(lm.reshape(-1, 1, 2), h).reshape(-1, 2)
    assert geometry.planar_residual(lm, warped).max() < 1e-6
    assert np.percentile(geometry.planar_residual(lm, S.pose(yaw_deg=25)), 90) > 0.05


def test_landmarks_shape_is_validated() -> None:
    with pytest.raises(ValueError, match=r"\(68, 2\)"):
        geometry.align(np.zeros((5, 2)))


# --- challenges on sequences --------------------------------------------------------------------


def test_blink_trace_is_a_blink_and_nothing_else() -> None:
    t, lms = S.sequence(eyes=lambda t: S.bump(t, 1.5, 0.2))
    assert performed(t, lms) == {"blink"}
    result = checks.blink(checks.Signals.from_landmarks(t, lms), CFG)
    assert result.details["blinks"] == 1 and result.peak_t == pytest.approx(1.5, abs=0.05)


def test_two_blinks_are_counted() -> None:
    t, lms = S.sequence(eyes=lambda t: S.bump(t, 0.8, 0.2) + S.bump(t, 2.2, 0.15))
    assert checks.blink(checks.Signals.from_landmarks(t, lms), CFG).details["blinks"] == 2


@pytest.mark.parametrize(
    ("what", "eyes"),
    [
        ("squint held 0.8 s", lambda t: 0.45 * ((t > 1.0) & (t < 1.8))),  # eyes half shut for 0.8 s
        ("eyes closed 1 s", lambda t: 1.0 * ((t > 1.0) & (t < 2.0))),
        ("shallow flutter", lambda t: 0.2 * S.bump(t, 1.5, 0.2)),
    ],
)
def test_not_a_blink(what: str, eyes) -> None:
    t, lms = S.sequence(eyes=eyes)
    assert "blink" not in performed(t, lms), what


def test_wink_is_not_a_blink() -> None:
    t, lms = S.sequence(eyes=lambda t: S.bump(t, 1.5, 0.25))
    # reopen the subject's left eye in every frame: only the right eye closed
    open_lms = S.sequence()[1]
    lms[:, 42:48] = open_lms[:, 42:48]
    assert "blink" not in performed(t, lms)


def test_turn_left_is_not_turn_right() -> None:
    t, lms = S.sequence(yaw=lambda t: 30 * S.bump(t, 1.6, 1.2))
    assert performed(t, lms) == {"turn_left"}
    t, lms = S.sequence(yaw=lambda t: -30 * S.bump(t, 1.6, 1.2))
    assert performed(t, lms) == {"turn_right"}


def test_small_turn_is_not_a_turn() -> None:
    t, lms = S.sequence(yaw=lambda t: 8 * np.sin(2 * np.pi * t / 1.5))  # a talker's head sway
    assert not performed(t, lms) & {"turn_left", "turn_right"}


def test_coming_back_from_a_right_turn_is_not_a_left_turn() -> None:
    # Starts turned right, returns to frontal: yaw rises by a lot but the nose never crosses left.
    t, lms = S.sequence(yaw=lambda t: -30 * (t < 1.5) - 30 * (1 - (t - 1.5) / 0.5) * ((t >= 1.5) & (t < 2.0)))
    assert "turn_left" not in performed(t, lms)


def test_nod_is_down_and_up() -> None:
    t, lms = S.sequence(pitch=lambda t: 20 * S.bump(t, 1.5, 1.0))
    assert performed(t, lms) == {"nod"}
    # head down and staying down: no return, no nod
    t, lms = S.sequence(pitch=lambda t: 20 * np.clip((t - 0.8) / 0.5, 0, 1))
    assert "nod" not in performed(t, lms)


def test_open_mouth_versus_talking() -> None:
    t, lms = S.sequence(mouth=lambda t: 0.6 * S.bump(t, 1.5, 0.8))
    assert performed(t, lms) == {"open_mouth"}
    t, lms = S.sequence(mouth=lambda t: 0.12 + 0.1 * np.sin(2 * np.pi * 4 * t))  # speech-like
    assert "open_mouth" not in performed(t, lms)


def test_noise_alone_performs_nothing() -> None:
    for seed in range(5):
        t, lms = S.sequence(noise_px=1.0, seed=seed)
        assert performed(t, lms) == set(), seed


def test_one_glitched_frame_does_not_pass_a_held_pose() -> None:
    t, lms = S.sequence()
    lms[45] = S.pose(yaw_deg=35)  # a single wild frame
    assert "turn_left" not in performed(t, lms)


def test_untracked_frames_are_ignored() -> None:
    t, lms = S.sequence(eyes=lambda t: S.bump(t, 1.5, 0.2))
    lms[:10] = np.nan
    s = checks.Signals.from_landmarks(t, lms)
    assert len(s.t) == len(t) - 10 and checks.blink(s, CFG).performed


# --- static-image check ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_photo_moved_by_hand_is_static(seed: int) -> None:
    t, lms = S.photo_sequence(seed=seed)
    assert checks.static_check(lms, CFG).static
    assert performed(t, lms) == set()


@pytest.mark.parametrize(
    "motion",
    [
        dict(eyes=lambda t: S.bump(t, 1.5, 0.2)),
        dict(yaw=lambda t: 30 * S.bump(t, 1.5, 1.2)),
        dict(pitch=lambda t: 20 * S.bump(t, 1.5, 1.0)),
        dict(mouth=lambda t: 0.6 * S.bump(t, 1.5, 0.8)),
    ],
)
def test_live_actions_are_not_static(motion: dict) -> None:
    _, lms = S.sequence(**motion)
    assert not checks.static_check(lms, CFG).static


def test_sustained_requires_the_level_to_be_held() -> None:
    t = np.arange(0, 1, 1 / 30)
    x = np.zeros_like(t)
    x[10] = 5.0  # one frame
    assert checks.sustained(t, x, 0.1).max() == 0.0
    x[10:15] = 5.0  # five frames
    assert checks.sustained(t, x, 0.1).max() == 5.0


def test_neutral_is_the_start_of_the_clip() -> None:
    t = np.arange(0, 3, 1 / 30)
    x = np.where(t < 0.5, 0.1, 0.4)
    assert checks.neutral(t, x, CFG) == pytest.approx(0.1)
