"""Enrolment of an ID photo: one sharp, large-enough face -> a 128-d encoding; clear errors otherwise."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from idsvc.core.errors import IdsvcError
from idsvc.liveness.enrol import encode_reference_photo, load_photo_rgb
from idsvc.liveness.faces import face_distance

pytestmark = pytest.mark.model


def jpeg(rgb: np.ndarray, exif: bytes | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=92, **({"exif": exif} if exif else {}))
    return buf.getvalue()


def error_of(data: bytes) -> IdsvcError:
    with pytest.raises(IdsvcError) as exc:
        encode_reference_photo(data)
    return exc.value


def test_one_face_gives_a_128_float64_encoding(faces_dir: Path) -> None:
    enc = encode_reference_photo((faces_dir / "barack-obama_2.jpg").read_bytes())
    assert enc.shape == (128,) and enc.dtype == np.float64
    same = encode_reference_photo((faces_dir / "barack-obama_4.jpg").read_bytes())
    other = encode_reference_photo((faces_dir / "joe-biden_2.jpg").read_bytes())
    assert face_distance(enc, same) < 0.5 < face_distance(enc, other)


def test_rgba_png_is_accepted(faces_dir: Path) -> None:
    assert encode_reference_photo((faces_dir / "alex-lacamoire_1.png").read_bytes()).shape == (128,)


def test_exif_orientation_is_applied(faces_dir: Path) -> None:
    upright = load_photo_rgb((faces_dir / "barack-obama_2.jpg").read_bytes())
    sideways = np.ascontiguousarray(np.rot90(upright, 1))  # as a phone stores it
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    tagged = encode_reference_photo(jpeg(sideways, exif.tobytes()))
    assert face_distance(tagged, encode_reference_photo(jpeg(upright))) < 0.1
    # The same pixels without the tag: the frontal-face detector cannot see a sideways face.
    assert error_of(jpeg(sideways)).code == "no_face"


@pytest.mark.parametrize(
    ("photo", "code"),
    [
        ("noface/dogs.jpg", "no_face"),
        ("multi/two_people.jpg", "multiple_faces"),
        ("multi/couple.jpg", "multiple_faces"),
        ("barack-obama_5.jpg", "face_too_small"),
    ],
)
def test_face_problems_are_422(faces_dir: Path, photo: str, code: str) -> None:
    err = error_of((faces_dir / photo).read_bytes())
    assert (err.code, err.status) == (code, 422)
    assert err.message and err.message_en


def test_small_background_face_is_ignored(faces_dir: Path) -> None:
    # deepface-p06_3: the subject plus a 45 px bystander (data-measurements.md).
    assert encode_reference_photo((faces_dir / "deepface-p06_3.jpg").read_bytes()).shape == (128,)


def test_blurry_photo(faces_dir: Path) -> None:
    rgb = load_photo_rgb((faces_dir / "barack-obama_2.jpg").read_bytes())
    err = error_of(jpeg(cv2.GaussianBlur(rgb, (0, 0), 8)))  # sigma ~3 % of the 270 px face
    assert (err.code, err.status) == ("too_blurry", 422)


def _png_with_size(width: int, height: int) -> bytes:
    """A valid 1x1 PNG whose header claims another size (a decompression bomb's signature)."""
    buf = io.BytesIO()
    Image.new("L", (1, 1)).save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(data)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "empty"),
        (b"not an image at all", "undecodable"),
        (_png_with_size(8000, 6000), "too_many_pixels"),  # 48 MP: over our 40 MP budget
    ],
)
def test_not_an_image_is_400(data: bytes, problem: str) -> None:
    err = error_of(data)
    assert (err.code, err.status, err.details["problem"]) == ("image_invalid", 400, problem)


def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    """1.6 gigapixels: the shared decode budget refuses it before any decode (#9.8)."""
    err = error_of(_png_with_size(40000, 40000))
    assert (err.code, err.status) == ("image_too_complex", 422)


def test_truncated_jpeg_is_400(faces_dir: Path) -> None:
    data = (faces_dir / "barack-obama_2.jpg").read_bytes()
    err = error_of(data[: len(data) // 3])
    assert (err.code, err.status) == ("image_invalid", 400)


def _encoded(fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 150, 120)).save(buf, format=fmt, **kw)
    return buf.getvalue()


def _apng() -> bytes:
    buf = io.BytesIO()
    frames = [Image.new("RGB", (64, 64), c) for c in ((10, 20, 30), (200, 150, 120))]
    frames[0].save(buf, format="PNG", save_all=True, append_images=frames[1:], duration=100)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "TIFF", "BMP"])
def test_only_the_documented_formats_are_decoded(fmt: str) -> None:
    """Issue #9.8: enrolment takes JPEG and PNG only (a GIF used to be decoded)."""
    with pytest.raises(IdsvcError) as exc:
        load_photo_rgb(_encoded(fmt))
    err = exc.value
    assert (err.code, err.status, err.details["problem"]) == ("image_invalid", 400, "unsupported_format")


def test_animated_png_is_refused() -> None:
    with pytest.raises(IdsvcError) as exc:
        load_photo_rgb(_apng())
    assert (exc.value.code, exc.value.details["problem"]) == ("image_invalid", "unsupported_format")


def test_jpeg_and_png_still_decode() -> None:
    for fmt in ("JPEG", "PNG"):
        assert load_photo_rgb(_encoded(fmt)).shape == (64, 64, 3)
