"""The `file` check: format, byte size, pixel count, colour, JPEG quality (design F1–F6).

Anything that makes the image unusable was already refused with a 4xx by ``decode``; what reaches
here is decodable, and this check only grades it.
"""

from __future__ import annotations

import numpy as np

from . import thresholds as T
from .decode import ImageInfo
from .result import Check, Verdict, mk


def looks_grey(rgb: np.ndarray) -> bool:
    """An RGB file whose channels are identical everywhere is a greyscale image saved as RGB.

    Deliberately strict: black ink on white paper is *nearly* neutral in a genuine colour scan
    too, but a real sensor always leaves some channel difference somewhere."""
    s = rgb[:: max(1, rgb.shape[0] // 400), :: max(1, rgb.shape[1] // 400)].astype(np.int16)
    spread = np.abs(s[..., 0] - s[..., 1]) + np.abs(s[..., 1] - s[..., 2])
    return bool(np.percentile(spread, 99.9) <= 1)


def file_check(info: ImageInfo, kind: str, grey: bool) -> Check:
    rng = "JPEG/PNG, colour, 20 KB–2 MB, ≤ 40 MP, JPEG quality ≥ 75"
    kb = info.n_bytes / 1024
    d = {"format": info.format.lower(), "megapixels": round(info.megapixels, 2), "jpeg_quality": info.jpeg_quality}
    if grey:
        v = Verdict.FAIL if kind == "seal" else Verdict.WARN
        return mk(
            "file",
            v,
            round(kb, 1),
            "KB",
            rng,
            "图片是黑白/灰度的，无法核对颜色，请上传彩色照片或彩色扫描件",
            "The image is greyscale, so colours cannot be checked; upload a colour photo or colour scan",
            **d,
        )
    if info.jpeg_quality is not None and info.jpeg_quality < T.JPEG_QUALITY_WARN:
        return mk(
            "file",
            Verdict.WARN,
            round(kb, 1),
            "KB",
            rng,
            f"图片压缩过度（质量约 {info.jpeg_quality}），请上传原图",
            f"The image is heavily compressed (quality ≈ {info.jpeg_quality}); upload the original",
            **d,
        )
    lo, hi = T.FILE_BYTES_PASS
    if info.n_bytes > hi:
        return mk(
            "file",
            Verdict.WARN,
            round(kb, 1),
            "KB",
            rng,
            "文件较大（超过 2 MB），存档前会保留原图，可适当压缩后上传",
            "The file is large (over 2 MB); it is accepted, but a smaller upload is enough",
            **d,
        )
    if info.n_bytes < lo:
        return mk(
            "file",
            Verdict.WARN,
            round(kb, 1),
            "KB",
            rng,
            "文件很小（不足 20 KB），可能被过度压缩或分辨率太低",
            "The file is very small (under 20 KB); it may be over-compressed or low resolution",
            **d,
        )
    if info.jpeg_quality is not None and info.jpeg_quality < T.JPEG_QUALITY_PASS:
        return mk(
            "file",
            Verdict.WARN,
            round(kb, 1),
            "KB",
            rng,
            f"图片压缩偏多（质量约 {info.jpeg_quality}）",
            f"The image is rather compressed (quality ≈ {info.jpeg_quality})",
            **d,
        )
    return mk("file", Verdict.PASS, round(kb, 1), "KB", rng, "文件格式与大小合格", "File format and size are fine", **d)
