"""Media handling: cheap early rejection, rotation, containers.  Reason codes and speed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from idsvc.liveness.config import LivenessConfig
from idsvc.liveness.pipeline import analyse_video, inspect
from idsvc.liveness.video import VideoInfo, VideoRejected, iter_frames, open_clip, probe
from tests.factories import liveness_synth as synth

CFG = LivenessConfig()
FAST_S = 3.0  # "each answering within a few seconds"


def solid_frames(n: int, w: int, h: int) -> list[np.ndarray]:
    return [np.full((h, w, 3), 40 + (i * 7) % 150, np.uint8) for i in range(n)]


def timed_reason(path: Path, reference: np.ndarray) -> tuple[str | None, float]:
    t = time.perf_counter()
    d = analyse_video(path, "blink", reference)
    return d.reason, time.perf_counter() - t


@pytest.fixture(scope="module")
def ref() -> np.ndarray:
    return np.zeros(128)  # these clips never reach the face match


def test_zero_bytes(tmp_path: Path, ref: np.ndarray) -> None:
    p = tmp_path / "empty.mp4"
    p.write_bytes(b"")
    reason, took = timed_reason(p, ref)
    assert reason == "video_invalid" and took < FAST_S


def test_png_renamed_mp4(tmp_path: Path, faces_dir: Path, ref: np.ndarray) -> None:
    p = tmp_path / "photo.mp4"
    p.write_bytes((faces_dir / "lin-manuel-miranda_1.png").read_bytes())
    reason, took = timed_reason(p, ref)
    assert reason == "video_invalid" and took < FAST_S
    assert inspect(p).measurements["video_problem"]["problem"] == "not_a_video"


@pytest.mark.parametrize("keep", [64, 4096])
def test_corrupt_bytes_after_a_real_header(tmp_path: Path, d13_blink: Path, ref: np.ndarray, keep: int) -> None:
    data = d13_blink.read_bytes()
    noise = np.random.default_rng(keep).integers(0, 256, len(data) - keep, dtype=np.uint8).tobytes()
    p = tmp_path / "corrupt.mp4"
    p.write_bytes(data[:keep] + noise)
    reason, took = timed_reason(p, ref)
    assert reason == "video_invalid" and took < FAST_S


def test_truncated_upload(tmp_path: Path, d13_blink: Path, ref: np.ndarray) -> None:
    p = tmp_path / "truncated.mp4"
    p.write_bytes(d13_blink.read_bytes()[:3000])
    reason, took = timed_reason(p, ref)
    assert reason == "video_invalid" and took < FAST_S


def test_thirty_second_video_is_too_long_without_decoding(tmp_path: Path, ref: np.ndarray) -> None:
    p = synth.write_video(solid_frames(300, 160, 120), tmp_path / "long.mp4", 10.0)
    reason, took = timed_reason(p, ref)
    assert reason == "too_long" and took < 1.0
    assert inspect(p).measurements["video_problem"]["duration_s"] == pytest.approx(30.0, abs=0.2)


def test_four_k_video_is_rejected_before_decoding(tmp_path: Path, ref: np.ndarray) -> None:
    p = synth.write_video(solid_frames(4, 3840, 2160), tmp_path / "uhd.mp4", 2.0)  # 2 s of 4K
    reason, took = timed_reason(p, ref)
    assert reason == "video_invalid" and took < FAST_S
    assert inspect(p).measurements["video_problem"]["problem"] == "resolution_too_high"


def test_too_short(tmp_path: Path, videos: Path, ref: np.ndarray) -> None:
    p = synth.cut(videos / "liveportrait-d18.mp4", tmp_path / "short.mp4", 0.0, 1.0)
    assert timed_reason(p, ref)[0] == "too_short"


def test_decoder_stops_at_the_duration_cap_when_headers_say_nothing(d13_blink: Path) -> None:
    # Chrome's MediaRecorder writes WebM without a duration: the decoder must enforce the cap itself.
    info = probe(d13_blink, CFG)
    blind = VideoInfo(info.container, info.codec, info.width, info.height, info.fps, None, info.sar)
    short_cap = LivenessConfig(max_duration_s=1.0, duration_grace_s=0.0)
    with pytest.raises(VideoRejected) as exc:
        for _ in iter_frames(d13_blink, blind, short_cap):
            pass
    assert exc.value.reason == "too_long"


def test_open_clip_probes_and_decodes_on_one_open_and_always_closes_the_file(d13_blink: Path) -> None:
    """The analysis opens the upload once (FFmpeg's stream-info read is ~8 ms); the file is closed
    when the block ends, by exhaustion or by an exception, and what it reads equals probe + iter_frames."""

    def open_files() -> int:
        return len(os.listdir("/proc/self/fd"))

    before = open_files()
    with open_clip(d13_blink, CFG) as (info, frames):
        assert open_files() > before
        assert info == probe(d13_blink, CFG)
        mine = [(f.t, f.gray.sum()) for f in frames]
    assert open_files() == before
    theirs = [(f.t, f.gray.sum()) for f in iter_frames(d13_blink, info, CFG)]
    assert len(mine) == 90 and mine == theirs
    with pytest.raises(RuntimeError), open_clip(d13_blink, CFG) as (info, frames):
        next(iter(frames))
        raise RuntimeError("the tracker failed half way")
    assert open_files() == before
    with pytest.raises(VideoRejected) as exc, open_clip(d13_blink, LivenessConfig(max_duration_s=1.0)):
        pass  # the headers already say 3 s
    assert exc.value.reason == "too_long" and open_files() == before


def test_rotation_metadata_is_applied_like_opencv(tmp_path: Path, d13_blink: Path) -> None:
    """A phone stores portrait video as landscape frames plus a display matrix; we must see it upright."""
    import cv2

    upright, fps = synth.read_frames(d13_blink, 0.0, 0.5)
    stored = [np.ascontiguousarray(np.rot90(f, -1)) for f in upright]  # sensor-landscape pixels
    p = synth.write_video(stored, tmp_path / "phone.mov", fps, display_rotation=90)
    brief = LivenessConfig(min_duration_s=0.2)  # a 0.5 s clip is enough to look at frames
    frames = list(iter_frames(p, probe(p, brief), brief))
    assert frames[0].rotation == 90
    assert frames[0].gray.shape == (1280, 720)  # portrait again
    cap = cv2.VideoCapture(str(p))
    assert cap.get(cv2.CAP_PROP_ORIENTATION_AUTO) == 1.0  # OpenCV 5 default: applies the matrix
    ok, bgr = cap.read()
    cap.release()
    assert ok and bgr.shape[:2] == (1280, 720)
    ours = frames[0].rgb()
    assert np.abs(ours.astype(int) - cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(int)).mean() < 2.0
    src = upright[0]
    assert np.abs(ours.astype(int) - src.astype(int)).mean() < 6.0  # same picture, up to re-encoding


@pytest.mark.model
@pytest.mark.slow
def test_rotated_phone_video_is_analysed_upright(tmp_path: Path, d13_blink: Path, d13_reference: np.ndarray) -> None:
    upright, fps = synth.read_frames(d13_blink)
    stored = [np.ascontiguousarray(np.rot90(f, 1)) for f in upright]
    p = synth.write_video(stored, tmp_path / "phone-270.mp4", fps, display_rotation=270)
    d = analyse_video(p, "blink", d13_reference)
    assert d.measurements["video"]["rotation"] == 270
    assert d.passed, d.to_dict()


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".webm", ".mov"])
def test_webm_vp9_and_mov_decode_and_pass(tmp_path: Path, videos: Path, d13_reference: np.ndarray, suffix: str) -> None:
    import cv2

    small = lambda f: cv2.resize(f, (360, 640), interpolation=cv2.INTER_AREA)  # noqa: E731 (fast VP9)
    p = synth.cut(videos / "liveportrait-d13.mp4", tmp_path / f"d13{suffix}", 0.9, 3.0, transform=small)
    d = analyse_video(p, "blink", d13_reference)
    assert d.measurements["video"]["codec"] == ("vp9" if suffix == ".webm" else "h264")
    assert d.passed, d.to_dict()
