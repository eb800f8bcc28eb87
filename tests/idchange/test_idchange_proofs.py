"""Proof documents: type from the bytes, full decode, size limit (pure, on real files)."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from idchange_support import pdf_proof, png_bytes
from PIL import Image

from idsvc.core.errors import IdsvcError
from idsvc.idchange.proofs import MAX_PROOF_BYTES, MAX_PROOF_PIXELS, inspect, sniff


def test_real_documents_are_accepted(proof_files: dict[str, bytes]) -> None:
    pdf = inspect(proof_files["pdf"])
    assert (pdf.mime, pdf.size, pdf.extension) == ("application/pdf", len(proof_files["pdf"]), "pdf")
    jpeg = inspect(proof_files["jpeg"])
    assert jpeg.mime == "image/jpeg" and jpeg.width and jpeg.height
    png = inspect(proof_files["png"])
    assert png.mime == "image/png" and png.extension == "png"


def _error(data: bytes) -> IdsvcError:
    with pytest.raises(IdsvcError) as info:
        inspect(data)
    return info.value


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100,  # a Windows executable
        "公安证明：身份证号码已变更".encode(),  # plain text
        b"PK\x03\x04" + b"\x00" * 100,  # zip / docx
        b" %PDF-1.7\n",  # the magic must be at the start
    ],
)
def test_other_types_are_refused_with_415(data: bytes) -> None:
    err = _error(data)
    assert (err.status, err.code) == (415, "unsupported_proof_type")


def test_empty_file() -> None:
    assert _error(b"").code == "empty_proof"


def test_truncated_jpeg_is_corrupt(proof_files: dict[str, bytes]) -> None:
    err = _error(proof_files["jpeg"][: len(proof_files["jpeg"]) // 2])
    assert (err.status, err.code) == (400, "corrupt_proof")


def test_png_with_damaged_pixels_is_corrupt(proof_files: dict[str, bytes]) -> None:
    data = bytearray(proof_files["png"])
    at = data.index(b"IDAT") + 40
    data[at] ^= 0xFF  # breaks the chunk CRC and the deflate stream
    assert _error(bytes(data)).code == "corrupt_proof"


def test_truncated_png_is_corrupt(proof_files: dict[str, bytes]) -> None:
    assert _error(proof_files["png"][:-200]).code == "corrupt_proof"


@pytest.mark.parametrize(
    "cut", [lambda d: d[: len(d) // 2], lambda d: d.replace(b"%%EOF", b"%%EOX"), lambda d: b"%PDF-x" + d[6:]]
)
def test_damaged_pdf_is_corrupt(cut: object) -> None:
    err = _error(cut(pdf_proof()))  # type: ignore[operator]
    assert (err.status, err.code) == (400, "corrupt_proof")


def test_pdf_magic_in_front_of_an_image_is_corrupt(proof_files: dict[str, bytes]) -> None:
    assert _error(b"%PDF-1.4\n" + proof_files["jpeg"]).code == "corrupt_proof"


def test_decompression_bomb_is_refused_before_decoding() -> None:
    # 9000 × 9000 one-bit pixels: a few kB on disk, 81 MP, past the limit.
    side = 9000
    assert side * side > MAX_PROOF_PIXELS
    buf = io.BytesIO()
    Image.new("1", (side, side)).save(buf, format="PNG")
    assert len(buf.getvalue()) < 100_000
    assert _error(buf.getvalue()).code == "corrupt_proof"


def test_forged_png_header_dimensions_are_refused() -> None:
    data = bytearray(png_bytes(8, 8))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", 100_000, 100_000)
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr : ihdr + 17])))
    # Refused from the header by the shared decode budget, before any decode.
    assert _error(bytes(data)).code == "image_too_complex"


def test_size_limit_is_exact() -> None:
    # Stored (compress_level=0) random-pixel PNGs: size ≈ h × (3w + 1), so both sides of 10 MB are real images.
    under = png_bytes(1825, 1825, compress_level=0)
    over = png_bytes(1875, 1875, compress_level=0)
    assert len(under) <= MAX_PROOF_BYTES < len(over)
    assert inspect(under).size == len(under)
    err = _error(over)
    assert (err.status, err.code) == (413, "payload_too_large")


def test_sniff_ignores_declared_names() -> None:
    assert sniff(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert sniff(b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert sniff(b"%PDF-1.7") == "application/pdf"
    assert sniff(b"<html>") is None
