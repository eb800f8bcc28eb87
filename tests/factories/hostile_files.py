"""Hostile upload files generated at test time (issue #9, "Keep them closed").

Every generator returns bytes and is deterministic.  Images: decode bombs (re-exported from
``documents_hostile``), truncated files, polyglots, wrong magic, huge or lying EXIF, formats the
service does not document.  Videos (PyAV): truncated MP4, an MP4 without ``moov``, a 10-hour
duration header, 10,000 tracks, 4K frames, zero bytes, a JPEG posing as an MP4.

Nothing here is imported by ``idsvc``; the corpus is :func:`image_corpus` / :func:`video_corpus`.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image

from tests.factories.documents_hostile import jpeg_with_ascii_orientation, png_bomb, progressive_scan_bomb


@dataclass(frozen=True)
class Hostile:
    """One hostile file.  ``may_pass``: the bytes are a valid file of a documented format (a
    polyglot, say), so a 2xx is acceptable; otherwise the service must refuse it with a 4xx."""

    name: str
    data: bytes
    may_pass: bool = False


# -- images ----------------------------------------------------------------------------------------
def plain_jpeg(width: int = 400, height: int = 300, **save: object) -> bytes:
    rng = np.random.default_rng(3)
    pixels = np.full((height, width, 3), 235, np.uint8)
    pixels[height // 3 : height // 2, width // 5 : 4 * width // 5] = rng.integers(0, 60, (1, 1, 3), np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=90, **save)
    return buf.getvalue()


def plain_png(width: int = 400, height: int = 300) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((height, width, 3), 235, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def other_format(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((120, 160, 3), 200, np.uint8)).save(buf, format=fmt)
    return buf.getvalue()


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_lying_header(side: int = 100_000) -> bytes:
    """A PNG whose IHDR claims side² pixels (10 gigapixels) over a few bytes of data."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def jpeg_lying_header(width: int = 65_500, height: int = 65_500) -> bytes:
    """A JPEG whose SOF says 65500×65500 (4.3 gigapixels) with a few bytes of scan data."""
    data = bytearray(plain_jpeg(16, 16))
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        i = data.find(marker)
        if i > 0:
            data[i + 5 : i + 9] = struct.pack(">HH", height, width)
            break
    return bytes(data)


def png_many_chunks(count: int = 200_000) -> bytes:
    """A tiny valid PNG preceded by ``count`` empty ancillary chunks (parser work per byte)."""
    base = plain_png(32, 32)
    head, rest = base[:33], base[33:]  # signature + IHDR
    return head + _png_chunk(b"tEXt", b"k\x00v") * count + rest


def jpeg_many_scans_small(side: int = 256, repeats: int = 150) -> bytes:
    """A small progressive JPEG with more scans than any encoder writes: cheap to decode today, but
    over the documents decode budget's scan limit (so it must be ``image_too_complex`` everywhere)."""
    return progressive_scan_bomb(side, repeats)


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    return data[: max(1, int(len(data) * keep))]


def jpeg_zip_polyglot() -> bytes:
    """A valid JPEG followed by a valid ZIP archive (readable by both decoders)."""
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("payload.html", "<script>alert(1)</script>")
    return plain_jpeg() + buf.getvalue()


def jpeg_html_polyglot() -> bytes:
    """A valid JPEG whose COM segment holds HTML with a script (a sniffing browser may render it)."""
    html = b"<html><body><script>alert(document.domain)</script></body></html>"
    data = plain_jpeg()
    return data[:2] + b"\xff\xfe" + struct.pack(">H", len(html) + 2) + html + data[2:]


def html_with_image_name() -> bytes:
    return b"<!DOCTYPE html><html><script>alert(1)</script></html>" + b" " * 200


def wrong_magic_png_header_jpeg_body() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + plain_jpeg()[2:]


def wrong_magic_jpeg_header_png_body() -> bytes:
    return b"\xff\xd8\xff\xe0" + plain_png()[8:]


def jpeg_huge_exif(segments: int = 64) -> bytes:
    """A JPEG with ``segments`` maximal (64 KB) APP1 EXIF segments: 4 MB of metadata, 120 KP of pixels."""
    data = plain_jpeg()
    body = b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", 8) + b"\x00" * (65_533 - 14)
    app1 = b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
    return data[:2] + app1 * segments + data[2:]


def jpeg_lying_exif() -> bytes:
    """A JPEG whose EXIF IFD has 65,535 entries each claiming 4 GB of data at out-of-range offsets."""
    data = plain_jpeg()
    entry = struct.pack("<HHII", 0x010E, 2, 0xFFFFFFFF, 0x7FFFFFF0)
    ifd = struct.pack("<H", 0xFFFF) + entry * 4000  # the count lies too: 65535 announced, 4000 present
    tiff = b"II*\x00" + struct.pack("<I", 8) + ifd
    app1 = b"Exif\x00\x00" + tiff
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + data[2:]


IMAGES: dict[str, tuple[Callable[[], bytes], bool]] = {
    # name: (generator, may_pass)
    "zero_bytes": (lambda: b"", False),
    "one_byte": (lambda: b"\xff", False),
    "random_bytes": (lambda: np.random.default_rng(1).integers(0, 256, 4096, np.uint8).tobytes(), False),
    "jpeg_scan_bomb": (lambda: progressive_scan_bomb(6000, 600), False),
    "jpeg_150_scans_small": (jpeg_many_scans_small, False),
    "png_bomb_8880_rgba": (lambda: png_bomb(8880, "RGBA"), False),
    "png_bomb_6000_rgba16": (lambda: png_bomb(6000, "RGBA", 16), False),
    "png_lying_header": (png_lying_header, False),
    "jpeg_lying_header": (jpeg_lying_header, False),
    "png_200k_chunks": (png_many_chunks, True),
    "jpeg_truncated": (lambda: truncated(plain_jpeg()), False),
    "jpeg_header_only": (lambda: plain_jpeg()[:200], False),
    "png_truncated": (lambda: truncated(plain_png()), False),
    "png_signature_only": (lambda: plain_png()[:8], False),
    "jpeg_zip_polyglot": (jpeg_zip_polyglot, True),
    "jpeg_html_polyglot": (jpeg_html_polyglot, True),
    "html": (html_with_image_name, False),
    "png_magic_jpeg_body": (wrong_magic_png_header_jpeg_body, False),
    "jpeg_magic_png_body": (wrong_magic_jpeg_header_png_body, False),
    "jpeg_huge_exif": (jpeg_huge_exif, True),
    "jpeg_lying_exif": (jpeg_lying_exif, True),
    "jpeg_ascii_orientation": (jpeg_with_ascii_orientation, True),
    "gif": (lambda: other_format("GIF"), False),
    "bmp": (lambda: other_format("BMP"), False),
    "tiff": (lambda: other_format("TIFF"), False),
    "webp": (lambda: other_format("WEBP"), False),
}


def image_corpus() -> dict[str, Hostile]:
    """Every hostile image, generated now (a few MB in all)."""
    return {name: Hostile(name, make(), may_pass) for name, (make, may_pass) in IMAGES.items()}


# -- videos ----------------------------------------------------------------------------------------
def mp4(width: int = 64, height: int = 48, frames: int = 15, fps: int = 15, codec: str = "mpeg4") -> bytes:
    """A small valid MP4 written with PyAV (a moving grey ramp)."""
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream(codec, rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            pixels = np.full((height, width, 3), (i * 8) % 256, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """(type, start, end) of the ISO-BMFF boxes between ``start`` and ``end``."""
    pos, end = start, len(data) if end is None else end
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        elif size == 0:
            size = end - pos
        yield kind, pos, pos + size
        pos += size


def _box(data: bytes, kind: bytes, start: int = 0, end: int | None = None) -> tuple[int, int]:
    for k, s, e in boxes(data, start, end):
        if k == kind:
            return s, e
    raise ValueError(f"no {kind!r} box")


def mp4_without_moov() -> bytes:
    data = mp4()
    s, e = _box(data, b"moov")
    return data[:s] + data[e:]


def mp4_ten_hour_header() -> bytes:
    """A valid MP4 whose mvhd, tkhd and mdhd durations all say 10 hours."""
    data = bytearray(mp4())
    ms, me = _box(bytes(data), b"moov")

    def patch(box_start: int, timescale_off: int | None, duration_off: int, timescale: int | None = None) -> None:
        scale = timescale or struct.unpack(">I", data[box_start + timescale_off : box_start + timescale_off + 4])[0]  # type: ignore[operator]
        data[box_start + duration_off : box_start + duration_off + 4] = struct.pack(
            ">I", min(scale * 36_000, 2**32 - 1)
        )

    vs, _ = _box(bytes(data), b"mvhd", ms + 8, me)
    movie_scale = struct.unpack(">I", data[vs + 20 : vs + 24])[0]
    patch(vs, 20, 24)  # version 0: size type ver/flags ctime mtime timescale duration
    ts, te = _box(bytes(data), b"trak", ms + 8, me)
    hs, _ = _box(bytes(data), b"tkhd", ts + 8, te)
    patch(hs, None, 28, movie_scale)  # version 0: ... ctime mtime track_id reserved duration
    ds, de = _box(bytes(data), b"mdia", ts + 8, te)
    mh, _ = _box(bytes(data), b"mdhd", ds + 8, de)
    patch(mh, 20, 24)
    return bytes(data)


def mp4_many_tracks(count: int = 10_000) -> bytes:
    """A valid MP4 whose moov repeats its one trak box ``count`` times (PyAV cannot mux that many)."""
    data = mp4(frames=3)
    ms, me = _box(data, b"moov")
    ts, te = _box(data, b"trak", ms + 8, me)
    trak = data[ts:te]
    body = data[ms + 8 : ts] + trak * count + data[te:me]
    moov = struct.pack(">I4s", len(body) + 8, b"moov") + body
    return data[:ms] + moov + data[me:]


_FTYP = struct.pack(">I4s4s", 16, b"ftyp", b"isom") + b"\x00" * 4

VIDEOS: dict[str, tuple[Callable[[], bytes], bool]] = {
    # name: (generator, may_pass).  4K frames are a valid video: analysed (in budget) or refused.
    "zero_bytes": (lambda: b"", False),
    "truncated_mp4": (lambda: truncated(mp4(), 0.6), False),
    "header_only_mp4": (lambda: mp4()[:64], False),
    "mp4_without_moov": (mp4_without_moov, False),
    "mp4_ten_hour_header": (mp4_ten_hour_header, True),  # decodes: 1 s of frames → too_short,
    "mp4_10000_tracks": (mp4_many_tracks, False),
    "mp4_4k": (lambda: mp4(3840, 2160, frames=6, fps=2), True),
    "jpeg_as_video": (plain_jpeg, False),
    "ftyp_then_jpeg": (lambda: _FTYP + plain_jpeg(), False),
    "webm_magic_garbage": (lambda: b"\x1a\x45\xdf\xa3" + b"\x00" * 4000, False),
    "avi_magic_garbage": (lambda: b"RIFF" + struct.pack("<I", 4000) + b"AVI " + b"\x00" * 4000, False),
    "html": (html_with_image_name, False),
}


def video_corpus() -> dict[str, Hostile]:
    """Every hostile video, generated now."""
    return {name: Hostile(name, make(), may_pass) for name, (make, may_pass) in VIDEOS.items()}
