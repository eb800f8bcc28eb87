"""Bad inputs get a clear 4xx IdsvcError, never an unexpected exception; DPI parsing."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from idsvc.core.errors import IdsvcError
from idsvc.documents import check_seal, check_signature
from idsvc.documents.decode import decode
from idsvc.documents.scale import from_declaration


def _png(w: int = 300, h: int = 200, dpi: float | None = 300) -> bytes:
    buf = io.BytesIO()
    kw = {"dpi": (dpi, dpi)} if dpi else {}
    Image.fromarray(np.full((h, w, 3), 240, np.uint8)).save(buf, format="PNG", **kw)
    return buf.getvalue()


def _jpeg(w: int = 300, h: int = 200, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((h, w, 3), 240, np.uint8)).save(buf, format="JPEG", **kw)
    return buf.getvalue()


def _huge_png_header(w: int, h: int) -> bytes:
    """A valid PNG signature + IHDR claiming w×h, with a tiny (truncated) IDAT: a decompression bomb shape."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + chunk(b"IEND", b"")
    )


def _gif_animation() -> bytes:
    frames = [Image.new("RGB", (100, 100), c) for c in ((255, 0, 0), (0, 255, 0))]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buf.getvalue()


def _apng() -> bytes:
    frames = [Image.new("RGB", (100, 100), c) for c in ((255, 0, 0), (0, 255, 0))]
    buf = io.BytesIO()
    frames[0].save(buf, format="PNG", save_all=True, append_images=frames[1:])
    return buf.getvalue()


BAD = {
    "empty": (b"", 400, "empty_file"),
    "truncated_jpeg": (_jpeg(800, 600)[:3000], 400, "image_unreadable"),
    "pdf": (b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n", 415, "unsupported_format"),
    "png_20000x20000": (_huge_png_header(20000, 20000), 422, "image_too_large"),
    "gif_animation": (_gif_animation(), 415, "unsupported_format"),
    "apng_animation": (_apng(), 415, "unsupported_format"),
    "text_named_png": (b"hello, this is not an image\n" * 10, 415, "unsupported_format"),
    "oversize_upload": (b"\xff\xd8\xff" + b"\x00" * (11 * 1024 * 1024), 413, "payload_too_large"),
    "tiny_image": (_png(20, 20), 422, "image_too_small"),
    "heic": (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 100, 415, "unsupported_format"),
}


@pytest.mark.parametrize("name", sorted(BAD))
@pytest.mark.parametrize("check", [check_signature, check_seal], ids=["signature", "seal"])
def test_bad_input_is_a_clear_4xx(name: str, check) -> None:
    data, status, code = BAD[name]
    with pytest.raises(IdsvcError) as info:
        check(data)
    assert info.value.status == status and info.value.code == code
    assert info.value.message and info.value.message_en


def test_bomb_is_refused_without_relying_on_pillow_globals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # someone disabled Pillow's own guard
    with pytest.raises(IdsvcError) as info:
        decode(_huge_png_header(9000, 9000))
    assert info.value.code == "image_too_large"


def test_png_phys_round_trips_300_dpi() -> None:
    _, info, _ = decode(_png(dpi=300))
    assert info.declared_dpi == 300  # pHYs gives 299.9994; rounded


def test_jpeg_jfif_dpi_and_quality() -> None:
    _, info, _ = decode(_jpeg(dpi=(300, 300), quality=85))
    assert info.declared_dpi == 300
    assert info.jpeg_quality == pytest.approx(85, abs=3)


def test_jfif_unit_zero_is_no_dpi() -> None:
    _, info, _ = decode(_jpeg())  # Pillow writes JFIF unit 0, density 1:1
    assert info.declared_dpi is None


@pytest.mark.parametrize(
    ("declared", "camera", "trusted"),
    [
        (72, False, False),
        (96, False, False),
        (300, False, True),
        (600, False, True),
        (300, True, False),
        (None, False, False),
    ],
)
def test_dpi_trust(declared, camera, trusted) -> None:
    assert (from_declaration(declared, camera).dpi is not None) == trusted


def test_exif_orientation_is_applied() -> None:
    img = Image.fromarray(np.zeros((100, 300, 3), np.uint8) + 200)
    exif = Image.Exif()
    exif[274] = 6  # rotate 90° CW on display
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    rgb, info, _ = decode(buf.getvalue())
    assert rgb.shape[:2] == (300, 100) and (info.width, info.height) == (100, 300)


def test_greyscale_png_is_accepted_but_flagged() -> None:
    buf = io.BytesIO()
    Image.fromarray(np.full((200, 300), 240, np.uint8), "L").save(buf, format="PNG")
    r = check_signature(buf.getvalue())
    assert r.check("file").verdict.value == "warn"
    assert check_seal(buf.getvalue()).check("file").verdict.value == "fail"


@pytest.mark.parametrize("fill", ["black", "white", "noise", "red"])
def test_degenerate_images_are_results_not_crashes(fill: str) -> None:
    rng = np.random.default_rng(1)
    img = {
        "black": np.zeros((200, 300, 3), np.uint8),
        "white": np.full((200, 300, 3), 250, np.uint8),
        "noise": rng.integers(0, 255, (200, 300, 3), dtype=np.uint8),
        "red": np.tile(np.array([200, 30, 40], np.uint8), (200, 300, 1)),
    }[fill]
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG", dpi=(300, 300))
    sig, seal = check_signature(buf.getvalue()), check_seal(buf.getvalue())
    assert sig.verdict.value == "fail" and seal.verdict.value == "fail"
