"""The whole analysis on real clips from tests/data and on attacks made from them."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

from idsvc.liveness import enrol
from idsvc.liveness.config import LivenessConfig
from idsvc.liveness.pipeline import analyse_video, decide, inspect
from tests.factories import liveness_synth as synth

pytestmark = [pytest.mark.model, pytest.mark.slow]


@pytest.fixture(scope="module")
def d13_inspection(d13_blink: Path):
    return inspect(d13_blink)


def test_genuine_window_passes_its_own_challenge(d13_blink: Path, d13_reference: np.ndarray) -> None:
    d = analyse_video(d13_blink, "blink", d13_reference)
    assert d.passed, d.to_dict()
    m = d.measurements
    assert m["challenge_result"]["blinks"] >= 1
    assert m["match"]["distance"] < 0.4 and len(m["match"]["distances"]) >= 3  # several frames, median
    # Landmarks on key frames at 15 Hz (plus frames whose eyes changed): at least half of the 90.
    assert m["video"]["frames_decoded"] == 90 and 45 <= m["frames_analysed"] <= 90
    assert m["face"]["tracked_fraction"] == 1.0
    assert set(m["timings_ms"]) >= {"probe", "decode_track", "encode", "total"}


@pytest.mark.parametrize("challenge", ["turn_left", "turn_right", "nod", "open_mouth"])
def test_genuine_window_fails_a_different_challenge(d13_inspection, d13_reference: np.ndarray, challenge: str) -> None:
    d = decide(d13_inspection, challenge, d13_reference)
    assert not d.passed and d.reason == "challenge_not_performed"
    assert d.measurements["challenge_result"]["signal"] < d.measurements["challenge_result"]["threshold"]


def test_wrong_person_is_a_face_mismatch(d13_inspection, other_reference: np.ndarray) -> None:
    d = decide(d13_inspection, "blink", other_reference)
    assert d.reason == "face_mismatch" and d.measurements["match"]["distance"] > 0.6


def test_no_id_record_answers_without_decoding(d13_blink: Path) -> None:
    d = analyse_video(d13_blink, "blink", None)
    assert d.reason == "id_record_not_found"
    assert "video" not in d.measurements and "身份证号变更申请" in d.message  # nothing was decoded


def test_caller_bugs_raise(d13_blink: Path, d13_reference: np.ndarray) -> None:
    with pytest.raises(ValueError):
        analyse_video(d13_blink, "smile", d13_reference)
    with pytest.raises(ValueError):
        analyse_video(d13_blink, "blink", np.zeros(64))


def test_photo_held_up_and_moved_is_a_static_image(tmp_path: Path, faces_dir: Path) -> None:
    data = (faces_dir / "angelina-jolie_2.jpg").read_bytes()
    rgb = enrol.load_photo_rgb(data)
    from idsvc.liveness.faces import engine

    box = engine().detect(cv2.resize(rgb, None, fx=0.5, fy=0.5), 1)[0].scaled(2.0)
    clip = synth.photo_attack(
        rgb,
        (box.top, box.right, box.bottom, box.left),
        tmp_path / "attack.mp4",
        seconds=2.5,
        size_wh=(540, 960),
        seed=3,
    )
    reference = enrol.encode_reference_photo((faces_dir / "angelina-jolie_3.jpg").read_bytes())
    ins = inspect(clip)
    for challenge in ("blink", "turn_left", "turn_right", "open_mouth", "nod"):
        d = decide(ins, challenge, reference)
        assert d.reason == "static_image", (challenge, d.to_dict())


def test_splice_of_two_people_is_identity_changed(tmp_path: Path, videos: Path, d13_reference: np.ndarray) -> None:
    # 1.5 s of d13 (the claimed member), then 1.5 s of d18 blinking at 3.1 s.
    clip = synth.splice(
        [(videos / "liveportrait-d13.mp4", 0.9, 1.5), (videos / "liveportrait-d18.mp4", 2.4, 1.5)],
        tmp_path / "splice.mp4",
    )
    d = analyse_video(clip, "blink", d13_reference)
    assert d.reason == "identity_changed", d.to_dict()
    assert d.measurements["face"]["scene_cuts_t"]


def _frames_clip(tmp_path: Path, name: str, frames: list[np.ndarray], fps: float) -> Path:
    return synth.write_video(frames, tmp_path / name, fps)


def test_dark_video(tmp_path: Path, d13_blink: Path, d13_reference: np.ndarray) -> None:
    frames, fps = synth.read_frames(d13_blink)
    dark = [(f.astype(np.float32) * 0.2).astype(np.uint8) for f in frames]
    assert analyse_video(_frames_clip(tmp_path, "dark.mp4", dark, fps), "blink", d13_reference).reason == "too_dark"


def test_blurry_video(tmp_path: Path, d13_blink: Path, d13_reference: np.ndarray) -> None:
    frames, fps = synth.read_frames(d13_blink)
    blurred = [cv2.GaussianBlur(f, (0, 0), 6) for f in frames]
    assert (
        analyse_video(_frames_clip(tmp_path, "blur.mp4", blurred, fps), "blink", d13_reference).reason == "too_blurry"
    )


def test_two_people_in_frame(tmp_path: Path, videos: Path, d13_reference: np.ndarray) -> None:
    a, fps = synth.read_frames(videos / "liveportrait-d13.mp4", 0.9, 2.0)
    b, _ = synth.read_frames(videos / "liveportrait-d18.mp4", 0.0, 2.0)
    # d13 (portrait) next to a portrait crop of d18: two faces of about the same size.
    side = [np.hstack([cv2.resize(x, (360, 640)), cv2.resize(y[:, 40:440], (360, 640))]) for x, y in zip(a, b)]
    d = analyse_video(_frames_clip(tmp_path, "two.mp4", side, fps), "blink", d13_reference)
    assert d.reason == "multiple_faces", d.to_dict()


def test_small_face(tmp_path: Path, d13_blink: Path, d13_reference: np.ndarray) -> None:
    frames, fps = synth.read_frames(d13_blink)
    canvas = []
    for f in frames:
        c = np.full((1280, 720, 3), 120, np.uint8)
        c[500 : 500 + 256, 300 : 300 + 144] = cv2.resize(f, (144, 256), interpolation=cv2.INTER_AREA)  # face ~75 px
        canvas.append(c)
    d = analyse_video(_frames_clip(tmp_path, "small.mp4", canvas, fps), "blink", d13_reference)
    assert d.reason == "face_too_small", d.to_dict()
    assert d.measurements["face"]["face_width_px"] < d.measurements["face"]["min_face_width_px"]


def test_no_face(tmp_path: Path, d13_reference: np.ndarray) -> None:
    wall = [np.full((640, 360, 3), 90 + i % 20, np.uint8) for i in range(60)]
    assert analyse_video(_frames_clip(tmp_path, "wall.mp4", wall, 30.0), "blink", d13_reference).reason == "no_face"


def test_batched_encodings_equal_one_by_one(d13_blink: Path) -> None:
    """The batch the pipeline sends through the encoder gives the one-by-one encodings (to float32
    rounding: BLAS blocks a batch differently, ~1e-7 apart, three orders below the 1e-4 reported)."""
    from idsvc.liveness.config import LivenessConfig
    from idsvc.liveness.faces import engine
    from idsvc.liveness.video import iter_frames, probe

    cfg = LivenessConfig()
    frames = [f for i, f in enumerate(iter_frames(d13_blink, probe(d13_blink, cfg), cfg)) if i in (3, 40, 80)]
    eng = engine()
    rgbs = [f.rgb() for f in frames]
    boxes = [eng.detect(rgb, 0)[0] for rgb in rgbs]
    one_by_one = [eng.encode(rgb, b) for rgb, b in zip(rgbs, boxes)]
    batched = eng.encode_many(rgbs, boxes)
    assert len(batched) == 3 and all(np.allclose(a, b, rtol=0, atol=1e-6) for a, b in zip(one_by_one, batched))
    assert all(np.linalg.norm(a - b) > 0.05 for a, b in itertools.pairwise(batched))  # three different frames
    assert eng.encode_many([], []) == []


def test_keyframe_landmarks_still_see_a_one_frame_blink(videos: Path, clip_dir: Path) -> None:
    """Landmarks on key frames at 15 Hz (the default, for the CPU budget) plus an eye-change
    trigger: a frame between key frames whose eyes changed is analysed anyway.  liveportrait-d14
    at 0.53-0.67 s closes its eyes; with key frames at 15 Hz the reopening at 0.70 s falls between
    key frames, and the blink is still seen."""
    clip = synth.cut(videos / "liveportrait-d14.mp4", clip_dir / "d14-0.mp4", 0.0, 3.0)
    full = inspect(clip, config=LivenessConfig(landmark_keyframe_hz=30.0))
    assert full.track is not None and len(full.track.t) == full.track.frames_decoded  # every frame
    sparse = inspect(clip)
    assert sparse.track is not None and sparse.cfg.landmark_keyframe_hz == 15.0
    assert decide(sparse, "blink", np.zeros(128)).reason == "face_mismatch"  # the blink was seen
    t = np.round(sparse.track.t, 2)
    n = len(t)
    assert full.track.frames_decoded // 2 < n < full.track.frames_decoded  # key frames + triggered ones
    keys = set(np.round(full.track.t[::2], 2))
    triggered = [x for x in t if x not in keys]
    assert any(0.6 <= x <= 0.8 for x in triggered), triggered  # the eyes reopening
    never = inspect(clip, config=LivenessConfig(landmark_keyframe_hz=15.0, eye_change_trigger=1e9))
    assert never.track is not None and len(never.track.t) == (full.track.frames_decoded + 1) // 2
