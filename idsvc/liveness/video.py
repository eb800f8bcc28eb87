"""Video input: sniff, probe and decode a selfie clip into upright frames, cheaply and safely.

* **Sniff first.** Only MP4/MOV (ISO BMFF), WebM/Matroska and AVI are accepted, recognised by
  their magic bytes, and the demuxer is then *forced* to that format, so FFmpeg never probes an
  upload as a playlist or image sequence (HLS/concat files can make FFmpeg read other files).
* **Probe before decoding.** Duration, resolution and codec come from the container headers, so a
  30-s or 4K upload is turned away in milliseconds.  Headers can lie (Chrome's MediaRecorder
  writes WebM without a duration), so the decoder also stops at the duration cap.
* **Decode with PyAV, rotation applied.** PyAV hands us the decoded YUV frame: its Y plane *is*
  the grayscale image the landmark model needs, at no conversion cost, and only the few frames we
  encode are ever converted to RGB.  Phone rotation (the display matrix) is applied with
  ``np.rot90`` so frames come out upright, exactly as OpenCV 5's ``CAP_PROP_ORIENTATION_AUTO``
  shows them (tests/liveness/test_video.py checks both agree).  If PyAV cannot open a file that
  passed the sniff, OpenCV's FFmpeg backend is tried as a fallback.
* Non-square pixels (SAR, e.g. liveportrait-d9 at 15:16) are reported as ``display_scale`` so
  geometry can be measured in display space.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from idsvc.liveness.config import LivenessConfig

ALLOWED_CODECS = frozenset({"h264", "hevc", "vp8", "vp9", "av1", "mpeg4"})


class VideoRejected(Exception):
    """The clip cannot be analysed: ``reason`` is a Decision reason code."""

    def __init__(self, reason: str, problem: str, **details: Any) -> None:
        super().__init__(f"{reason}: {problem}")
        self.reason = reason
        self.problem = problem
        self.details = {"problem": problem, **details}


@dataclass(frozen=True)
class VideoInfo:
    container: str  # "mp4" | "webm" | "avi"
    codec: str
    width: int  # as stored (before rotation; frames report their own rotation)
    height: int
    fps: float | None
    duration_s: float | None  # from the headers; None when the container does not say
    sar: float = 1.0  # sample (pixel) aspect ratio
    decoder: str = "pyav"
    # Container tags (creation_time, encoder, major_brand, handler_name, ...), as the file states them.
    tags: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "container": self.container,
            "codec": self.codec,
            "width": self.width,
            "height": self.height,
            "sar": round(self.sar, 4),
            "fps": None if self.fps is None else round(self.fps, 3),
            "duration_s": None if self.duration_s is None else round(self.duration_s, 3),
            "decoder": self.decoder,
            "tags": dict(self.tags),
        }


@dataclass
class Frame:
    """One decoded, upright frame.  ``gray`` is always there; RGB is made on demand."""

    index: int
    t: float  # seconds from the first frame
    gray: np.ndarray  # (H, W) uint8, C-contiguous, upright
    _source: Any = field(repr=False, default=None)  # av.VideoFrame or BGR ndarray
    _rotation: int = 0
    display_scale: tuple[float, float] = (1.0, 1.0)  # (sx, sy): pixel -> display coordinates

    @property
    def rotation(self) -> int:
        return self._rotation

    def yuv_means(self, boxes: list[tuple[int, int, int, int]]) -> list[tuple[float, float, float]]:
        """Mean (Y, U, V) of each box ``(x0, y0, x1, y1)`` in upright stored pixels (U, V centred on 0).

        Reads the decoded chroma planes directly (quarter size for 4:2:0), so the light check costs
        microseconds a frame; other formats convert only the boxes.
        """
        import cv2

        src = self._source
        planes = None
        if not isinstance(src, np.ndarray) and src is not None and src.format.name in ("yuv420p", "yuvj420p"):
            planes = [
                np.rot90(np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width], self._rotation // 90)
                for p in src.planes[1:3]
            ]
        out = []
        h, w = self.gray.shape
        for x0, y0, x1, y1 in boxes:
            x0, x1 = max(0, min(w, x0)), max(0, min(w, x1))
            y0, y1 = max(0, min(h, y0)), max(0, min(h, y1))
            if x1 - x0 < 2 or y1 - y0 < 2:
                out.append((float("nan"),) * 3)
                continue
            y = float(self.gray[y0:y1, x0:x1].mean())
            if planes is not None:
                u = float(planes[0][y0 // 2 : (y1 + 1) // 2, x0 // 2 : (x1 + 1) // 2].mean()) - 128.0
                v = float(planes[1][y0 // 2 : (y1 + 1) // 2, x0 // 2 : (x1 + 1) // 2].mean()) - 128.0
            else:
                roi = self.rgb()[y0:y1, x0:x1] if not isinstance(src, np.ndarray) else src[y0:y1, x0:x1][:, :, ::-1]
                yuv = cv2.cvtColor(np.ascontiguousarray(roi), cv2.COLOR_RGB2YUV).reshape(-1, 3).mean(axis=0)
                u, v = float(yuv[1]) - 128.0, float(yuv[2]) - 128.0
            out.append((y, u, v))
        return out

    def rgb(self) -> np.ndarray:
        """(H, W, 3) uint8 RGB, upright, square pixels."""
        import cv2

        src = self._source
        if isinstance(src, np.ndarray):  # OpenCV fallback: BGR, already upright
            img = cv2.cvtColor(src, cv2.COLOR_BGR2RGB)
        else:
            img = np.rot90(src.to_ndarray(format="rgb24"), self._rotation // 90)
        sx, sy = self.display_scale
        if (sx, sy) != (1.0, 1.0):
            h, w = img.shape[:2]
            img = cv2.resize(img, (round(w * sx), round(h * sy)), interpolation=cv2.INTER_LINEAR)
        return np.ascontiguousarray(img)


def sniff(path: Path, cfg: LivenessConfig) -> str:
    """Container kind from magic bytes, or :class:`VideoRejected` (``video_invalid``)."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise VideoRejected("video_invalid", "unreadable", error=type(exc).__name__) from None
    if size == 0:
        raise VideoRejected("video_invalid", "empty_file")
    if size > cfg.max_file_bytes:
        raise VideoRejected("video_invalid", "file_too_large", bytes=size, limit=cfg.max_file_bytes)
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"):
        return "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    raise VideoRejected("video_invalid", "not_a_video", magic=head[:8].hex())


_DEMUXER = {"mp4": "mov", "webm": "matroska", "avi": "avi"}
#: Decoder threads per clip; 0 lets FFmpeg use every core.  Analysis workers set 1 (one process per core).
decoder_threads = 0


def probe(path: Path, cfg: LivenessConfig) -> VideoInfo:
    """Read headers only; raise :class:`VideoRejected` for anything we will not decode."""
    info, container = _open(path, cfg)
    if container is not None:
        container.close()
    return info


@contextmanager
def open_clip(path: Path, cfg: LivenessConfig) -> Iterator[tuple[VideoInfo, Iterator[Frame]]]:
    """:func:`probe` then :func:`iter_frames` on one open of the file (opening costs ~8 ms of a
    ~450-ms analysis: FFmpeg reads the stream info); the file is closed on leaving the block."""
    info, container = _open(path, cfg)
    if container is None:
        yield info, _iter_cv2(path, cfg)
        return
    with container:
        yield info, _decode(container, info, cfg)


def _open(path: Path, cfg: LivenessConfig) -> tuple[VideoInfo, Any]:
    """Sniff, open, check the headers: (info, the open PyAV container, or None for OpenCV's fallback)."""
    kind = sniff(path, cfg)
    import av

    try:
        container = av.open(str(path), format=_DEMUXER[kind], timeout=cfg.open_timeout_s)
    except Exception as exc:  # noqa: BLE001 - av.error.* for corrupt/unsupported input
        return _probe_cv2(path, kind, cfg, error=type(exc).__name__), None
    try:
        return _checked(_container_info(container, kind), cfg), container
    except VideoRejected:
        container.close()
        raise
    except Exception as exc:  # noqa: BLE001 - av.error.* for corrupt/unsupported input
        container.close()
        return _probe_cv2(path, kind, cfg, error=type(exc).__name__), None


def _container_info(container: Any, kind: str) -> VideoInfo:
    streams = container.streams.video
    if not streams:
        raise VideoRejected("video_invalid", "no_video_stream")
    stream = streams[0]
    cc = stream.codec_context
    codec = cc.name
    if codec not in ALLOWED_CODECS:
        raise VideoRejected("video_invalid", "unsupported_codec", codec=codec)
    width, height = int(cc.width or 0), int(cc.height or 0)
    fps = float(stream.average_rate) if stream.average_rate else None
    duration = None
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / 1_000_000.0
    sar = stream.sample_aspect_ratio or Fraction(1)
    tags = _tags(container.metadata, stream.metadata)
    return VideoInfo(kind, codec, width, height, fps, duration, float(sar), tags=tags)


_TAGS = ("creation_time", "encoder", "major_brand", "compatible_brands", "handler_name", "com.android.version")


def _tags(*metadata: Any) -> dict[str, str]:
    """The provenance tags we keep (first found wins: container, then stream), each at most 100 chars."""
    out: dict[str, str] = {}
    for md in metadata:
        for key in _TAGS:
            if key not in out and md and key in md:
                out[key] = str(md[key])[:100]
    return out


def _display_scale(sar: float, rotation: int) -> tuple[float, float]:
    if sar <= 0 or abs(sar - 1.0) < 1e-3:
        return (1.0, 1.0)
    return (1.0, sar) if rotation in (90, 270) else (sar, 1.0)


def _checked(info: VideoInfo, cfg: LivenessConfig) -> VideoInfo:
    if info.width <= 0 or info.height <= 0:
        raise VideoRejected("video_invalid", "no_dimensions")
    if info.width * info.height > cfg.max_pixels:
        raise VideoRejected(
            "video_invalid", "resolution_too_high", width=info.width, height=info.height, max_pixels=cfg.max_pixels
        )
    if info.duration_s is not None:
        if info.duration_s > cfg.max_duration_s + cfg.duration_grace_s:
            raise VideoRejected("too_long", "duration", duration_s=round(info.duration_s, 2))
        if info.duration_s < cfg.min_duration_s - cfg.duration_grace_s:
            raise VideoRejected("too_short", "duration", duration_s=round(info.duration_s, 2))
    return info


def _probe_cv2(path: Path, kind: str, cfg: LivenessConfig, *, error: str) -> VideoInfo:
    """Fallback probe with OpenCV when PyAV cannot open a sniffed file."""
    import cv2

    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        if not cap.isOpened():
            raise VideoRejected("video_invalid", "cannot_open", error=error)
        w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = cap.get(cv2.CAP_PROP_FPS) or None
        n = cap.get(cv2.CAP_PROP_FRAME_COUNT)
        duration = n / fps if fps and n and n > 0 else None
    finally:
        cap.release()
    return _checked(VideoInfo(kind, "unknown", w, h, fps, duration, decoder="opencv"), cfg)


def iter_frames(path: Path, info: VideoInfo, cfg: LivenessConfig) -> Iterator[Frame]:
    """Upright frames in order; :class:`VideoRejected` for too_long or undecodable input.

    Every frame is decoded (inter-frame codecs need it); callers choose which to analyse.  The
    decode is capped at the duration limit, ``cfg.max_frames`` and ``cfg.decode_timeout_s``.
    """
    if info.decoder == "opencv":
        yield from _iter_cv2(path, cfg)
        return
    import av

    try:
        container = av.open(str(path), format=_DEMUXER[info.container], timeout=cfg.open_timeout_s)
    except Exception as exc:  # noqa: BLE001 - third-party decoders raise anything on hostile input
        raise VideoRejected("video_invalid", "decode_error", error=type(exc).__name__) from None
    with container:
        yield from _decode(container, info, cfg)


def _decode(container: Any, info: VideoInfo, cfg: LivenessConfig) -> Iterator[Frame]:
    """The frames of an open PyAV container (the caller closes it)."""
    deadline = time.monotonic() + cfg.decode_timeout_s
    try:
        stream = container.streams.video[0]
        if decoder_threads:
            stream.codec_context.thread_count = decoder_threads
        else:
            stream.thread_type = "AUTO"
        t0: float | None = None
        index = 0
        for frame in container.decode(stream):
            t_abs = frame.time if frame.time is not None else index / (info.fps or 30.0)
            if t0 is None:
                t0 = t_abs
            t = t_abs - t0
            _check_budget(t, index, deadline, cfg)
            rotation = int(round(float(frame.rotation or 0) / 90.0)) * 90 % 360
            y = _luma(frame)
            if rotation:
                y = np.rot90(y, rotation // 90)
            scale = _display_scale(info.sar, rotation)
            yield Frame(index, t, np.ascontiguousarray(y), frame, rotation, scale)
            index += 1
    except VideoRejected:
        raise
    except Exception as exc:  # noqa: BLE001 - third-party decoders raise anything on hostile input
        raise VideoRejected("video_invalid", "decode_error", error=type(exc).__name__) from None


def _check_budget(t: float, index: int, deadline: float, cfg: LivenessConfig) -> None:
    """Stop decoding a clip that turns out longer than its header said, or that takes too long."""
    if t > cfg.max_duration_s + cfg.duration_grace_s:
        raise VideoRejected("too_long", "decoded_duration", duration_s=round(t, 2))
    if index >= cfg.max_frames or time.monotonic() > deadline:
        raise VideoRejected("video_invalid", "decode_budget_exceeded", frames=index)


# 8-bit YUV layouts whose first plane is the luma image we need, byte for byte.
_Y8_FORMATS = frozenset({"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21"})


def _luma(frame: Any) -> np.ndarray:
    """The Y plane as an (H, W) uint8 view (no copy), or a converted gray image for other formats."""
    if frame.format.name in _Y8_FORMATS:
        plane = frame.planes[0]
        return np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width]
    return np.asarray(frame.to_ndarray(format="gray"))  # e.g. 10-bit HDR from iPhones: slower but correct


def _iter_cv2(path: Path, cfg: LivenessConfig) -> Iterator[Frame]:
    import cv2

    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)  # OpenCV 5 default; explicit because we rely on it
    deadline = time.monotonic() + cfg.decode_timeout_s
    try:
        index = 0
        t0: float | None = None
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            t_abs = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if t0 is None:
                t0 = t_abs
            t = t_abs - t0
            _check_budget(t, index, deadline, cfg)
            gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
            yield Frame(index, t, gray, bgr)
            index += 1
    finally:
        cap.release()
