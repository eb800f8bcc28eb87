"""Enrolment: an ID photo (bytes) -> the 128-d reference encoding we store (never the photo).

Checks, in order: decodable image within the pixel budget (decompression bombs are refused before
any pixel is decoded), EXIF orientation applied (phones store photos sideways), exactly one face
(faces narrower than ``OTHER_FACE_REL`` of the largest are background: deepface-p06_3 has a 43 px
bystander next to a ~350 px subject), a minimum face size and sharpness.
"""

from __future__ import annotations

import io
import warnings

import numpy as np

from idsvc.core.errors import IdsvcError
from idsvc.liveness.faces import Box, engine

MAX_IMAGE_PIXELS = 40_000_000  # a 48 MP phone photo is 8000x6000; anything past 40 MP is refused
DETECT_LONG_SIDE = 1024  # detect on a copy this size (HOG upsampled once finds faces >= 40 px)
MIN_FACE_PX = 80  # face-box width in original pixels; the dlib johns crops (150 px) have ~90 px faces
OTHER_FACE_REL = 0.35  # a second face at least this wide relative to the largest -> multiple_faces
# Laplacian variance of the face resized to 128 px wide: labelled photos measure >= 13.1 (the soft
# 150 px dlib "johns" crops; other photos >= 60), a blur of sigma = 2 % of the face width gives 6-8.
MIN_SHARPNESS = 10.0

_MESSAGES = {
    "image_invalid": (
        "无法读取图片，请上传 JPG 或 PNG 照片",
        "The image could not be read; upload a JPG or PNG photo.",
    ),
    "no_face": ("照片中未检测到人脸", "No face was found in the photo."),
    "multiple_faces": (
        "照片中有多张人脸，请上传只有本人的照片",
        "The photo shows more than one face; upload a photo of one person.",
    ),
    "face_too_small": (
        "照片中的人脸太小，请上传更清晰的正面照",
        "The face in the photo is too small; upload a larger frontal photo.",
    ),
    "too_blurry": ("照片模糊，请上传清晰的照片", "The photo is blurry; upload a sharp photo."),
}


def _error(code: str, status: int = 422, **details: object) -> IdsvcError:
    zh, en = _MESSAGES[code]
    return IdsvcError(code, zh, en, status=status, details=dict(details))


def load_photo_rgb(data: bytes) -> np.ndarray:
    """Decode to an upright (H, W, 3) uint8 RGB array or raise ``image_invalid`` (400)."""
    from PIL import Image, ImageOps

    if not data:
        raise _error("image_invalid", 400, problem="empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))  # reads the header only
            w, h = im.size
            if w * h > MAX_IMAGE_PIXELS:
                raise _error("image_invalid", 400, problem="too_many_pixels", width=w, height=h)
            im.load()
            im = ImageOps.exif_transpose(im)
            arr = np.asarray(im.convert("RGB"), dtype=np.uint8)
    except IdsvcError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _error("image_invalid", 400, problem="decompression_bomb") from None
    except Exception as exc:  # noqa: BLE001 - UnidentifiedImageError, OSError (truncated), ValueError, ...
        raise _error("image_invalid", 400, problem="undecodable", error=type(exc).__name__) from None
    if arr.ndim != 3 or min(arr.shape[:2]) < 16:
        raise _error("image_invalid", 400, problem="too_small")
    return np.ascontiguousarray(arr)


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
        raise _error("no_face")
    main = boxes[0]
    others = [b for b in boxes[1:] if b.width >= OTHER_FACE_REL * main.width]
    if others:
        raise _error("multiple_faces", faces=1 + len(others))
    if main.width < MIN_FACE_PX:
        raise _error("face_too_small", face_px=main.width, min_face_px=MIN_FACE_PX)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    sharp = face_sharpness(gray, main)
    if sharp < MIN_SHARPNESS:
        raise _error("too_blurry", sharpness=round(sharp, 1), min_sharpness=MIN_SHARPNESS)
    return eng.encode(rgb, main)
