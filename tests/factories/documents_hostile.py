"""Hostile image files generated at test time (issue #9): decode bombs that are small on disk."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def _segments(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every SOS segment including its entropy-coded data."""
    out, pos = [], 2
    while pos < len(data):
        assert data[pos] == 0xFF
        marker = data[pos + 1]
        if marker == 0xD9:
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        end = pos + 2 + length
        if marker == 0xDA:
            i = end
            while not (data[i] == 0xFF and data[i + 1] not in (0x00, *range(0xD0, 0xD8))):
                i += 1
            end = i
            out.append((pos, end))
        pos = end
    return out


def progressive_scan_bomb(side: int = 7000, repeats: int = 600) -> bytes:
    """A progressive grey JPEG whose last (AC refinement) scan is repeated ``repeats`` times."""
    buf = io.BytesIO()
    Image.new("L", (side, side), 128).save(buf, format="JPEG", progressive=True, quality=90)
    data = buf.getvalue()
    start, end = _segments(data)[-1]
    return data[:end] + data[start:end] * repeats + data[end:]


def png_bomb(side: int = 8880, mode: str = "RGBA", depth: int = 8) -> bytes:
    """A valid PNG of side² flat pixels: a few hundred KB that inflate to hundreds of MB."""
    colour = {"RGBA": 6, "RGB": 2, "L": 0}[mode]
    channels = {"RGBA": 4, "RGB": 3, "L": 1}[mode]
    row = b"\x00" + b"\x7f" * (side * channels * depth // 8)
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", side, side, depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def jpeg_with_ascii_orientation(value: bytes = b"up") -> bytes:
    """A JPEG whose EXIF Orientation (274) is stored as ASCII instead of SHORT."""
    img = Image.fromarray(np.full((300, 400, 3), 235, np.uint8))
    buf = io.BytesIO()
    img.save(buf, format="JPEG")
    # Little-endian TIFF, one IFD entry: tag 274, type 2 (ASCII), count, value inline.
    val = value[:3] + b"\x00" * (4 - len(value[:3]))
    ifd = struct.pack("<H", 1) + struct.pack("<HHI", 274, 2, len(value) + 1) + val + struct.pack("<I", 0)
    tiff = b"II*\x00" + struct.pack("<I", 8) + ifd
    app1 = b"Exif\x00\x00" + tiff
    data = buf.getvalue()
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + data[2:]
