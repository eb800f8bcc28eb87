"""Enrolment: an ID photo (bytes) -> the 128-d reference encoding we store (never the photo).

Checks, in order: a JPEG or PNG (the formats the API documents; a GIF, WebP, TIFF or animated PNG
is ``image_invalid`` with ``problem: unsupported_format``), decodable image within the pixel budget (decompression bombs are refused before
any pixel is decoded), EXIF orientation applied (phones store photos sideways), exactly one face
(faces narrower than ``OTHER_FACE_REL`` of the largest are background: deepface-p06_3 has a 43 px
bystander next to a ~350 px subject), a minimum face size and sharpness.
"""

from __future__ import annotations

import io
import warnings

import numpy as np

from idsvc.core.errors import IdsvcError
from idsvc.core.imagebudget import check_decode_budget
from idsvc.liveness import errors
from idsvc.liveness.faces import Box, engine

MAX_IMAGE_PIXELS = 40_000_000  # a 48 MP phone photo is 8000x6000; anything past 40 MP is refused
DETECT_LONG_SIDE = 1024  # detect on a copy this size (HOG upsampled once finds faces >= 40 px)
MIN_FACE_PX = 80  # face-box width in original pixels; the dlib johns crops (150 px) have ~90 px faces
OTHER_FACE_REL = 0.35  # a second face at least this wide relative to the largest -> multiple_faces
# Laplacian variance of the face resized to 128 px wide: labelled photos measure >= 13.1 (the soft
# 150 px dlib "johns" crops; other photos >= 60), a blur of sigma = 2 % of the face width gives 6-8.
MIN_SHARPNESS = 10.0
# What the API documents ("upload a JPG or PNG photo"): anything else (GIF, WebP, TIFF, BMP, an
# animated PNG, ...) is refused from the header, before a pixel is decoded.
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG"})


def load_photo_rgb(data: bytes) -> np.ndarray:
    """Decode to an upright (H, W, 3) uint8 RGB array or raise ``image_invalid`` (400)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise errors.IMAGE_INVALID({"problem": "empty"})
    # A progressive JPEG with hundreds of scans, or a PNG of gigapixels, costs seconds of CPU to
    # decode: refused from the headers (422 image_too_complex) before any decode.
    check_decode_budget(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=sorted(ACCEPTED_FORMATS))  # reads the header only
            if getattr(im, "is_animated", False):
                raise errors.IMAGE_INVALID({"problem": "unsupported_format", "format": "APNG"})
            w, h = im.size
            if w * h > MAX_IMAGE_PIXELS:
                raise errors.IMAGE_INVALID({"problem": "too_many_pixels", "width": w, "height": h})
            im.load()
            upright = ImageOps.exif_transpose(im)
            arr = np.asarray(upright.convert("RGB"), dtype=np.uint8)
    except IdsvcError:
        raise
    except UnidentifiedImageError:
        raise errors.IMAGE_INVALID({"problem": _unsupported_or_undecodable(data)}) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise errors.IMAGE_INVALID({"problem": "decompression_bomb"}) from None
    except Exception as exc:  # noqa: BLE001 - UnidentifiedImageError, OSError (truncated), ValueError, ...
        raise errors.IMAGE_INVALID({"problem": "undecodable", "error": type(exc).__name__}) from None
    if arr.ndim != 3 or min(arr.shape[:2]) < 16:
        raise errors.IMAGE_INVALID({"problem": "too_small"})
    return np.ascontiguousarray(arr)


_OTHER_IMAGE_MAGIC = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"\x00\x00\x00\x0cjP  ", "JPEG2000"),
    (b"\xff\x4f\xff\x51", "JPEG2000"),
)


def _unsupported_or_undecodable(data: bytes) -> str:
    """``unsupported_format`` for an image in a format we do not take, else ``undecodable``."""
    if any(data.startswith(magic) for magic, _ in _OTHER_IMAGE_MAGIC):
        return "unsupported_format"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "unsupported_format"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"avif", b"msf1"):
        return "unsupported_format"
    return "undecodable"


def face_sharpness(gray: np.ndarray, box: Box) -> float:
    """Laplacian variance of the face box resized to 128 px wide (the same measure as in videos)."""
    from idsvc.liveness.track import _quality

    return _quality(gray, box)[1]


def encode_reference_photo(data: bytes) -> np.ndarray:
    """The 128-d float64 encoding of the one face in an ID photo, or an ``IdsvcError``."""
    import cv2

    rgb = load_photo_rgb(data)
    h, w = rgb.shape[:2]
    scale = min(1.0, DETECT_LONG_SIDE / max(h, w))
    small = rgb if scale == 1.0 else cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    eng = engine()
    boxes = [b.scaled(1.0 / scale) for b in eng.detect(small, 1)]
    if not boxes:
        raise errors.NO_FACE()
    main = boxes[0]
    others = [b for b in boxes[1:] if b.width >= OTHER_FACE_REL * main.width]
    if others:
        raise errors.MULTIPLE_FACES({"faces": 1 + len(others)})
    if main.width < MIN_FACE_PX:
        raise errors.FACE_TOO_SMALL({"face_px": main.width, "min_face_px": MIN_FACE_PX})
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    sharp = face_sharpness(gray, main)
    if sharp < MIN_SHARPNESS:
        raise errors.TOO_BLURRY({"sharpness": round(sharp, 1), "min_sharpness": MIN_SHARPNESS})
    return eng.encode(rgb, main)
