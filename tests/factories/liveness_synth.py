"""Derived clips for tests, ``make eval`` and ``make bench`` (never used when serving requests).

Everything is written with PyAV (H.264/libx264 in MP4 or MOV, VP9 in WebM) so no ffmpeg binary
is needed.  ``photo_attack`` is the presentation attack of the evaluation: a still photo turned
into a hand-held video by projecting it as a plane in 3-D with smooth random tilt, jitter and
distance changes, a lighting drift and sensor noise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

Transform = Callable[[np.ndarray], np.ndarray]  # RGB frame -> RGB frame


def read_frames(src: str | Path, t0: float = 0.0, duration: float | None = None) -> tuple[list[np.ndarray], float]:
    """Upright RGB frames with t0 <= t < t0 + duration, and the stream's frame rate."""
    import av

    out: list[np.ndarray] = []
    with av.open(str(src)) as c:
        s = c.streams.video[0]
        fps = float(s.average_rate or 30)
        start: float | None = None
        for i, fr in enumerate(c.decode(s)):
            t_abs = fr.time if fr.time is not None else i / fps
            start = t_abs if start is None else start
            t = t_abs - start
            if t < t0 - 1e-6:
                continue
            if duration is not None and t >= t0 + duration - 1e-6:
                break
            img = fr.to_ndarray(format="rgb24")
            rot = int(round(float(fr.rotation or 0) / 90.0)) * 90 % 360
            out.append(np.ascontiguousarray(np.rot90(img, rot // 90)) if rot else img)
    return out, fps


def write_video(
    frames: Iterable[np.ndarray],
    dst: str | Path,
    fps: float,
    *,
    codec: str | None = None,
    display_rotation: int | None = None,
    crf: int = 20,
) -> Path:
    """Encode RGB frames.  Codec from the extension (.mp4/.mov: H.264, .webm: VP9) unless given.

    ``display_rotation`` tags the stream with a display matrix (degrees counter-clockwise, as
    PyAV's ``frame.rotation`` reports it), the way phones store portrait video.
    """
    from fractions import Fraction

    import av

    dst = Path(dst)
    codec = codec or ("libvpx-vp9" if dst.suffix == ".webm" else "libx264")
    rate = Fraction(fps).limit_denominator(1001)
    it: Iterator[np.ndarray] = iter(frames)
    first = next(it)
    h, w = first.shape[:2]
    with av.open(str(dst), "w") as out:
        st = out.add_stream(codec, rate=rate)
        st.width, st.height = w - w % 2, h - h % 2
        st.pix_fmt = "yuv420p"
        st.options = (
            {"crf": str(crf), "preset": "veryfast"}
            if codec == "libx264"
            else {"crf": "32", "b:v": "0", "deadline": "realtime", "cpu-used": "8"}
        )
        if display_rotation is not None:
            st.set_display_rotation(display_rotation)
        for img in [first, *it]:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img[: st.height, : st.width]), format="rgb24")
            for pkt in st.encode(frame):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)
    return dst


def cut(
    src: str | Path,
    dst: str | Path,
    t0: float,
    duration: float,
    *,
    transform: Transform | None = None,
    display_rotation: int | None = None,
    fps: float | None = None,
) -> Path:
    """A re-encoded window of ``src`` (frame-exact, unlike a stream copy), optionally transformed."""
    frames, src_fps = read_frames(src, t0, duration)
    if not frames:
        raise ValueError(f"no frames in {src} at {t0}+{duration}s")
    if transform is not None:
        frames = [transform(f) for f in frames]
    return write_video(frames, dst, fps or src_fps, display_rotation=display_rotation)


def hflip(img: np.ndarray) -> np.ndarray:
    """Mirror: turns a real turn_left into a real-looking turn_right."""
    return np.ascontiguousarray(img[:, ::-1])


def splice(
    parts: list[tuple[str | Path, float, float]], dst: str | Path, size_wh: tuple[int, int] | None = None
) -> Path:
    """Concatenate windows ``(src, t0, duration)`` of different clips, resized to one frame size."""
    import cv2

    frames: list[np.ndarray] = []
    fps = 30.0
    for i, (src, t0, dur) in enumerate(parts):
        part, f = read_frames(src, t0, dur)
        if i == 0:
            fps = f
            size_wh = size_wh or (part[0].shape[1], part[0].shape[0])
        # Resample to the first clip's rate so the splice plays at a constant speed.
        idx = np.round(np.arange(0, len(part) / f, 1.0 / fps) * f).astype(int)
        frames += [
            cv2.resize(_crop_to_aspect(part[min(k, len(part) - 1)], size_wh), size_wh, interpolation=cv2.INTER_AREA)
            for k in idx
        ]
    return write_video(frames, dst, fps)


def _crop_to_aspect(img: np.ndarray, size_wh: tuple[int, int]) -> np.ndarray:
    """Centre crop to the aspect ratio of ``size_wh`` (no stretching when splicing 1:1 into 9:16)."""
    h, w = img.shape[:2]
    target = size_wh[0] / size_wh[1]
    if w / h > target:
        nw = round(h * target)
        return img[:, (w - nw) // 2 : (w - nw) // 2 + nw]
    nh = round(w / target)
    return img[(h - nh) // 2 : (h - nh) // 2 + nh]


def _smooth_noise(rng: np.random.Generator, n: int, scale: float, smooth: int = 9) -> np.ndarray:
    """A hand-tremor-like random walk: white noise smoothed by a moving average."""
    x = rng.normal(0, 1, n + smooth)
    k = np.ones(smooth) / smooth
    y = np.convolve(x, k, mode="valid")[:n]
    return scale * y / (np.abs(y).max() + 1e-9)


def photo_attack(
    photo_rgb: np.ndarray,
    face_box_trbl: tuple[int, int, int, int],
    dst: str | Path,
    *,
    seconds: float = 3.0,
    fps: float = 30.0,
    size_wh: tuple[int, int] = (720, 1280),
    seed: int = 0,
    max_tilt_deg: float = 18.0,
) -> Path:
    """A still photo held up to the camera: a plane tilting, jittering and moving under changing light.

    The photo is cropped around the face (``face_box_trbl``, top/right/bottom/left), scaled so the
    face spans ~40 % of the frame width, and projected each frame through a pinhole camera after a
    smooth random rotation (tilt up to ``max_tilt_deg`` about both in-plane axes, roll up to 6
    degrees), translation jitter (hand tremor) and a push toward/away from the camera; then a
    lighting drift (gain 0.75-1.2 plus a moving gradient), mild blur and sensor noise.
    """
    import cv2

    rng = np.random.default_rng(seed)
    top, right, bottom, left = face_box_trbl
    fw, fh = right - left, bottom - top
    h0, w0 = photo_rgb.shape[:2]
    # Crop: the face plus a head-and-shoulders margin, as an ID-style print would show.
    x0, x1 = max(0, int(left - 0.9 * fw)), min(w0, int(right + 0.9 * fw))
    y0, y1 = max(0, int(top - 0.9 * fh)), min(h0, int(bottom + 1.2 * fh))
    crop = photo_rgb[y0:y1, x0:x1]
    W, H = size_wh
    s = 0.40 * W / fw
    ch, cw = crop.shape[0] * s, crop.shape[1] * s
    n = int(round(seconds * fps))
    rx = _smooth_noise(rng, n, np.radians(max_tilt_deg), 25) + np.radians(max_tilt_deg) * 0.6 * np.sin(
        np.linspace(0, 2 * np.pi, n) + rng.uniform(0, 6)
    )
    ry = _smooth_noise(rng, n, np.radians(max_tilt_deg), 25) + np.radians(max_tilt_deg) * 0.6 * np.sin(
        np.linspace(0, 3 * np.pi, n) + rng.uniform(0, 6)
    )
    rz = _smooth_noise(rng, n, np.radians(6), 15)
    tx = _smooth_noise(rng, n, 0.04 * W, 7)
    ty = _smooth_noise(rng, n, 0.04 * H, 7)
    dz = 1.0 + _smooth_noise(rng, n, 0.12, 31)
    gain = 0.97 + _smooth_noise(rng, n, 0.22, 45)
    f = 1.1 * max(W, H)  # focal length in pixels (~55 degree field of view, a phone front camera)
    corners = np.array([[-cw / 2, -ch / 2, 0], [cw / 2, -ch / 2, 0], [cw / 2, ch / 2, 0], [-cw / 2, ch / 2, 0]])
    src = np.array([[0, 0], [crop.shape[1], 0], [crop.shape[1], crop.shape[0]], [0, crop.shape[0]]], dtype=np.float32)
    # Background: a blurred random wall, fixed (the camera is still; only the photo moves).
    bg = cv2.GaussianBlur(rng.integers(60, 200, (H // 8, W // 8, 3), dtype=np.uint8), (0, 0), 3)
    bg = cv2.resize(bg, (W, H), interpolation=cv2.INTER_CUBIC)
    yy = np.linspace(0, 1, H)[:, None, None]
    frames = []
    for i in range(n):
        a, b, c = rx[i], ry[i], rz[i]
        Rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
        Ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
        Rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
        pts = corners @ (Rz @ Ry @ Rx).T + np.array([tx[i], ty[i] - 0.05 * H, f * dz[i]])
        dst_pts = np.stack([f * pts[:, 0] / pts[:, 2] + W / 2, f * pts[:, 1] / pts[:, 2] + H / 2], axis=1).astype(
            np.float32
        )
        M = cv2.getPerspectiveTransform(src, dst_pts)
        frame = cv2.warpPerspective(
            crop, M, (W, H), dst=bg.copy(), borderMode=cv2.BORDER_TRANSPARENT, flags=cv2.INTER_LINEAR
        )
        light = gain[i] * (1.0 + 0.15 * np.sin(2 * np.pi * (yy + i / n)))  # a soft band of light drifting down
        frame = frame.astype(np.float32) * light + rng.normal(0, 2.0, frame.shape)
        frame = cv2.GaussianBlur(np.clip(frame, 0, 255).astype(np.uint8), (0, 0), 0.6)
        frames.append(frame)
    return write_video(frames, dst, fps)
