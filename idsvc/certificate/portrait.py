"""The certificate portrait (头像) check: is this photo usable on the certificate, and is it the member?

Plain Python (no Flask).  One face is found with ``face_recognition`` (HOG, upsampled once, on a
copy at most :data:`DETECT_LONG_SIDE` px long) and its 68 landmarks give the pose:

- ``roll``: the angle of the line through the eye centres (degrees, 0 = level);
- ``yaw`` and ``pitch``: ``cv2.solvePnP`` of six landmarks (nose tip, chin, outer eye corners,
  mouth corners) against a generic 3-D face, focal length = image width.  A generic model is
  biased by a few degrees per face (measured on the sample photos: frontal portraits read
  |pitch| ≤ 15°), which the limits allow for.

Every check reports its raw value, unit, the range it was judged against and zh/en advice, in the
result shape of the signature and seal checks (:class:`idsvc.documents.Result`).  The face match
uses the liveness package's public encoder and the same threshold (0.50, Euclidean distance of
the 128-d encodings) as face verification.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np

from idsvc.core.errors import IdsvcError
from idsvc.documents import Check, Result, Verdict

DETECT_LONG_SIDE = 1024
OTHER_FACE_REL = 0.35  # a second face at least this wide (relative to the largest) is a second person
MATCH_THRESHOLD = 0.50  # the liveness matcher's threshold

# Limits: (PASS up to, WARN up to); beyond the second, FAIL.
YAW_DEG = (15.0, 25.0)
PITCH_DEG = (15.0, 25.0)
ROLL_DEG = (8.0, 15.0)
# Face-box width / image width (the HOG box spans brows to chin, cheek to cheek).
FACE_SIZE_PASS = (0.25, 0.80)
FACE_SIZE_WARN = (0.15, 0.90)
MIN_FACE_PX = 100  # below this the printed 35 × 49 mm portrait is visibly soft
CROP_OUTSIDE_PCT = (2.0, 12.0)  # share of the certificate crop that falls outside the photo
EXPOSURE_PASS = (90.0, 210.0)  # mean luma of the face (0-255)
EXPOSURE_WARN = (60.0, 230.0)
EVEN_LIGHT = (0.15, 0.30)  # |left - right| / brighter half of the face
BACKGROUND_LIGHT = (150.0, 110.0)  # mean luma of the background band: PASS at least, WARN at least
BACKGROUND_PLAIN = (25.0, 45.0)  # its standard deviation
SHARPNESS = (30.0, 10.0)  # Laplacian variance of the face at 128 px wide: PASS at least, WARN at least
SHARPNESS_SIDE = 128

# The certificate's portrait is 35 × 49 mm (5:7, the 二寸 photo); the face box is half the width,
# its centre at 47 % of the height (room for the hair above, the collar below).
PORTRAIT_MM = (35.0, 49.0)
CROP_FACE_WIDTH = 0.50
CROP_FACE_CENTRE_Y = 0.47
CLEANED_PX = (500, 700)

# Generic 3-D face (mm-ish units) for solvePnP: nose tip, chin, left eye outer corner, right eye
# outer corner, left mouth corner, right mouth corner.
_MODEL_3D = np.array(
    [
        (0.0, 0.0, 0.0),
        (0.0, -330.0, -65.0),
        (-225.0, 170.0, -135.0),
        (225.0, 170.0, -135.0),
        (-150.0, -150.0, -125.0),
        (150.0, -150.0, -125.0),
    ]
)

_MESSAGES: dict[tuple[str, str], tuple[str, str]] = {
    ("single_face", "ok"): ("照片中有且仅有一张人脸", "Exactly one face"),
    ("single_face", "none"): (
        "照片中未检测到人脸，请上传本人正面照",
        "No face was found; upload a frontal photo of yourself",
    ),
    ("single_face", "many"): (
        "照片中有多张人脸，请上传只有本人的照片",
        "More than one face; upload a photo of yourself alone",
    ),
    ("yaw", "ok"): ("正脸朝向镜头", "Facing the camera"),
    ("yaw", "bad"): ("请正对镜头，不要侧脸", "Face the camera; do not turn your head sideways"),
    ("pitch", "ok"): ("头部未抬起或低下", "Head neither raised nor lowered"),
    ("pitch", "bad"): ("请平视镜头，不要抬头或低头", "Look straight at the camera; do not raise or lower your head"),
    ("roll", "ok"): ("头部端正", "Head upright"),
    ("roll", "bad"): ("头部歪斜，请端正头部或摆正照片", "The head is tilted; hold it upright or straighten the photo"),
    ("face_size", "ok"): ("人脸大小合适", "Face size is right"),
    ("face_size", "small"): ("人脸太小，请靠近镜头或裁剪照片", "The face is too small; move closer or crop the photo"),
    ("face_size", "large"): (
        "人脸太大，请离镜头远一些，露出头顶和肩部",
        "The face is too large; step back so the top of the head and shoulders show",
    ),
    ("face_position", "ok"): ("人脸位置合适，可裁剪为证书照片", "The face is placed so the certificate crop fits"),
    ("face_position", "bad"): (
        "人脸太靠近照片边缘，请让头部位于画面中央并留出头顶空间",
        "The face is too close to the edge; centre the head and leave room above it",
    ),
    ("exposure", "ok"): ("面部亮度合适", "The face is well exposed"),
    ("exposure", "dark"): ("面部太暗，请在光线充足处拍摄", "The face is too dark; take the photo in good light"),
    ("exposure", "bright"): ("面部过曝，请避免强光直射", "The face is overexposed; avoid direct strong light"),
    ("even_light", "ok"): ("面部光线均匀", "The face is evenly lit"),
    ("even_light", "bad"): (
        "面部光线不均（阴阳脸），请面向光源拍摄",
        "The face is unevenly lit; face the light source",
    ),
    ("background_light", "ok"): ("背景为浅色", "Light background"),
    ("background_light", "bad"): (
        "背景太暗，请使用白色或浅色背景",
        "The background is too dark; use a white or light background",
    ),
    ("background_plain", "ok"): ("背景纯净", "Plain background"),
    ("background_plain", "bad"): ("背景杂乱，请使用纯色背景", "The background is busy; use a plain background"),
    ("sharpness", "ok"): ("照片清晰", "The photo is sharp"),
    ("sharpness", "bad"): ("照片模糊，请对焦后重新拍摄", "The photo is blurry; focus and take it again"),
    ("face_match", "ok"): ("与身份证照片为同一人", "Matches the ID-record face"),
    ("face_match", "bad"): (
        "与身份证照片不是同一人，请上传本人照片",
        "Does not match the ID-record face; upload a photo of yourself",
    ),
    ("face_match", "no_record"): ("尚无身份证人脸记录，无法比对", "No ID-record face is on file to compare with"),
    ("face_match", "unable"): ("无法提取人脸特征进行比对", "The face could not be encoded for comparison"),
    ("unable", "unable"): ("未检测到唯一人脸，无法评估", "Not assessed: no single face"),
}


@dataclass(frozen=True)
class PortraitOutcome:
    result: Result
    cleaned_jpeg: bytes | None  # the certificate crop (5:7), None when there is no single face
    image_format: str


def _mk(check_id: str, verdict: Verdict, value: Any, unit: str, rng: str, msg: str, **details: Any) -> Check:
    zh, en = _MESSAGES[(check_id, msg)] if (check_id, msg) in _MESSAGES else _MESSAGES[("unable", "unable")]
    return Check(check_id, verdict, value, unit, rng, zh, en, details)


def _band(value: float, limits: tuple[float, float]) -> Verdict:
    """|value| within limits[0] → PASS, within limits[1] → WARN, else FAIL."""
    v = abs(value)
    return Verdict.PASS if v <= limits[0] else Verdict.WARN if v <= limits[1] else Verdict.FAIL


def _at_least(value: float, limits: tuple[float, float]) -> Verdict:
    return Verdict.PASS if value >= limits[0] else Verdict.WARN if value >= limits[1] else Verdict.FAIL


def _within(value: float, pass_: tuple[float, float], warn: tuple[float, float]) -> Verdict:
    if pass_[0] <= value <= pass_[1]:
        return Verdict.PASS
    if warn[0] <= value <= warn[1]:
        return Verdict.WARN
    return Verdict.FAIL


def _msg(verdict: Verdict, bad: str = "bad") -> str:
    return "ok" if verdict is Verdict.PASS else bad


def decode(data: bytes) -> tuple[np.ndarray, str]:
    """An upright RGB array and the file's format (``jpeg``/``png``/…), or 400 ``image_invalid``."""
    from PIL import Image

    from idsvc.liveness.enrol import load_photo_rgb

    rgb = load_photo_rgb(data)
    try:
        fmt = (Image.open(io.BytesIO(data)).format or "").lower()
    except Exception:  # noqa: BLE001 - load_photo_rgb already decoded it; the name is cosmetic
        fmt = ""
    return rgb, fmt


def _detect(rgb: np.ndarray) -> tuple[list[tuple[int, int, int, int]], np.ndarray, float]:
    """Face boxes (top, right, bottom, left) on the detection copy, largest first; the copy; its scale."""
    import cv2
    import face_recognition
    from PIL import ImageFile

    # face_recognition turns on Pillow's LOAD_TRUNCATED_IMAGES for the whole process at import;
    # we refuse truncated uploads, so turn it off again.
    ImageFile.LOAD_TRUNCATED_IMAGES = False

    h, w = rgb.shape[:2]
    scale = min(1.0, DETECT_LONG_SIDE / max(h, w))
    small = rgb if scale == 1.0 else cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    boxes = face_recognition.face_locations(small, number_of_times_to_upsample=1)
    boxes.sort(key=lambda b: b[1] - b[3], reverse=True)
    return boxes, small, scale


def _pose(small: np.ndarray, box: tuple[int, int, int, int]) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees."""
    import cv2
    import face_recognition
    from PIL import ImageFile

    # face_recognition turns on Pillow's LOAD_TRUNCATED_IMAGES for the whole process at import;
    # we refuse truncated uploads, so turn it off again.
    ImageFile.LOAD_TRUNCATED_IMAGES = False

    lm = face_recognition.face_landmarks(small, [box])[0]
    left_eye = np.mean(np.array(lm["left_eye"], dtype=float), axis=0)
    right_eye = np.mean(np.array(lm["right_eye"], dtype=float), axis=0)
    roll = float(np.degrees(np.arctan2(right_eye[1] - left_eye[1], right_eye[0] - left_eye[0])))
    pts = np.array(
        [
            lm["nose_bridge"][3],
            lm["chin"][8],
            lm["left_eye"][0],
            lm["right_eye"][3],
            lm["top_lip"][0],
            lm["top_lip"][6],
        ],
        dtype=float,
    )
    h, w = small.shape[:2]
    camera = np.array([[w, 0, w / 2], [0, w, h / 2], [0, 0, 1]], dtype=float)
    ok, rvec, _ = cv2.solvePnP(_MODEL_3D, pts, camera, np.zeros(4), flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok:
        return float("nan"), float("nan"), roll
    rot, _ = cv2.Rodrigues(rvec)
    angles = cv2.RQDecomp3x3(rot)[0]
    pitch, yaw = float(angles[0]), float(angles[1])
    # The model's z axis points away from the camera: a frontal face reads pitch ≈ ±180°.
    pitch = pitch - 180.0 if pitch > 0 else pitch + 180.0
    return yaw, -pitch, roll


def crop_box(img_w: int, img_h: int, face: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """The certificate crop (left, top, right, bottom) around a face box (left, top, right, bottom)."""
    fl, ft, fr_, fb = face
    width = (fr_ - fl) / CROP_FACE_WIDTH
    height = width * PORTRAIT_MM[1] / PORTRAIT_MM[0]
    cx, cy = (fl + fr_) / 2, (ft + fb) / 2
    top = cy - CROP_FACE_CENTRE_Y * height
    return cx - width / 2, top, cx + width / 2, top + height


def _outside_pct(box: tuple[float, float, float, float], w: int, h: int) -> float:
    x0, t, r, b = box
    area = (r - x0) * (b - t)
    inside = max(0.0, min(r, w) - max(x0, 0)) * max(0.0, min(b, h) - max(t, 0))
    return 100.0 * (1 - inside / area) if area > 0 else 100.0


def _background(
    gray: np.ndarray, crop: tuple[float, float, float, float], face: tuple[float, float, float, float]
) -> np.ndarray:
    """Pixels of the crop's top band and upper side bands, minus the (enlarged) head."""
    h, w = gray.shape
    cl, t, r, b = crop
    cw, ch = r - cl, b - t
    fl, ft, fr_, fb = face
    fw = fr_ - fl
    mask = np.zeros((h, w), dtype=bool)

    def put(x0: float, y0: float, x1: float, y1: float, value: bool) -> None:
        xa, xb = max(0, round(x0)), min(w, round(x1))
        ya, yb = max(0, round(y0)), min(h, round(y1))
        if xa < xb and ya < yb:
            mask[ya:yb, xa:xb] = value

    band = 0.12
    put(cl, t, r, t + band * ch, True)  # above the head
    put(cl, t, cl + band * cw, (ft + fb) / 2, True)  # left of the head, down to the face's centre
    put(r - band * cw, t, r, (ft + fb) / 2, True)
    # The head is larger than the HOG box: hair above and around it.
    put(fl - 0.35 * fw, ft - 0.8 * fw, fr_ + 0.35 * fw, fb, False)
    return gray[mask]


def _cleaned(rgb: np.ndarray, crop: tuple[float, float, float, float], fill: int) -> bytes:
    """The crop resampled to CLEANED_PX, padded with ``fill`` where it leaves the photo; JPEG."""
    from PIL import Image

    x0, y0, x1, y1 = (round(v) for v in crop)
    im = Image.fromarray(rgb)
    # Where the crop leaves the photo it is padded with the background colour (PIL would pad black).
    canvas = Image.new("RGB", (x1 - x0, y1 - y0), (fill, fill, fill))
    ox, oy = max(0, -x0), max(0, -y0)
    inner = im.crop((max(0, x0), max(0, y0), min(im.width, x1), min(im.height, y1)))
    canvas.paste(inner, (ox, oy))
    canvas = canvas.resize(CLEANED_PX, Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    canvas.save(buf, format="JPEG", quality=90, dpi=(363, 363))  # 500 px over 35 mm
    return buf.getvalue()


def check_portrait(data: bytes, reference: np.ndarray | None) -> PortraitOutcome:
    """Every check on a portrait photo; ``reference`` is the member's ID-record encoding (or None).

    Raises 400 ``image_invalid`` for a file that is not a readable image.
    """
    import cv2

    rgb, fmt = decode(data)
    h, w = rgb.shape[:2]
    image = {"width": w, "height": h, "format": fmt}
    boxes, small, scale = _detect(rgb)
    if boxes:
        main_w = boxes[0][1] - boxes[0][3]
        boxes = [boxes[0]] + [b for b in boxes[1:] if (b[1] - b[3]) >= OTHER_FACE_REL * main_w]
    checks: list[Check] = []
    n = len(boxes)
    checks.append(
        _mk(
            "single_face",
            Verdict.PASS if n == 1 else Verdict.FAIL,
            n,
            "faces",
            "1",
            "ok" if n == 1 else "none" if n == 0 else "many",
        )
    )
    later = (
        "yaw",
        "pitch",
        "roll",
        "face_size",
        "face_position",
        "exposure",
        "even_light",
        "background_light",
        "background_plain",
        "sharpness",
        "face_match",
    )
    if n != 1:
        checks += [_mk(c, Verdict.UNABLE, None, "", "", "unable") for c in later]
        return PortraitOutcome(Result("portrait", tuple(checks), None, "unknown", image), None, fmt)

    top, right, bottom, left = boxes[0]
    face = (left / scale, top / scale, right / scale, bottom / scale)
    face_px = face[2] - face[0]

    yaw, pitch, roll = _pose(small, boxes[0])
    for cid, value, limits in (("yaw", yaw, YAW_DEG), ("pitch", pitch, PITCH_DEG), ("roll", roll, ROLL_DEG)):
        if np.isnan(value):
            checks.append(_mk(cid, Verdict.UNABLE, None, "deg", "", "unable"))
            continue
        v = _band(value, limits)
        checks.append(_mk(cid, v, value, "deg", f"|x| ≤ {limits[0]:g} (warn ≤ {limits[1]:g})", _msg(v)))

    ratio = face_px / w
    v = _within(ratio, FACE_SIZE_PASS, FACE_SIZE_WARN)
    if face_px < MIN_FACE_PX:
        v = Verdict.FAIL
    size_msg = "ok" if v is Verdict.PASS else "small" if ratio < FACE_SIZE_PASS[0] or face_px < MIN_FACE_PX else "large"
    checks.append(
        _mk(
            "face_size",
            v,
            ratio,
            "face width / image width",
            f"{FACE_SIZE_PASS[0]:g}–{FACE_SIZE_PASS[1]:g} (warn {FACE_SIZE_WARN[0]:g}–{FACE_SIZE_WARN[1]:g}), ≥ {MIN_FACE_PX} px",
            size_msg,
            face_px=round(face_px),
        )
    )

    crop = crop_box(w, h, face)
    outside = _outside_pct(crop, w, h)
    v = _band(outside, CROP_OUTSIDE_PCT)
    checks.append(
        _mk(
            "face_position",
            v,
            outside,
            "% of the crop outside the photo",
            f"≤ {CROP_OUTSIDE_PCT[0]:g} (warn ≤ {CROP_OUTSIDE_PCT[1]:g})",
            _msg(v),
        )
    )

    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    fl, ft, fr_, fb = (round(x) for x in face)
    fl, ft = max(0, fl), max(0, ft)
    fr_, fb = min(w, fr_), min(h, fb)
    inset_x, inset_y = (fr_ - fl) // 6, (fb - ft) // 6
    inner = gray[ft + inset_y : fb - inset_y, fl + inset_x : fr_ - inset_x]
    luma = float(inner.mean()) if inner.size else float(gray[ft:fb, fl:fr_].mean())
    v = _within(luma, EXPOSURE_PASS, EXPOSURE_WARN)
    checks.append(
        _mk(
            "exposure",
            v,
            luma,
            "mean luma (0-255)",
            f"{EXPOSURE_PASS[0]:g}–{EXPOSURE_PASS[1]:g} (warn {EXPOSURE_WARN[0]:g}–{EXPOSURE_WARN[1]:g})",
            "ok" if v is Verdict.PASS else "dark" if luma < EXPOSURE_PASS[0] else "bright",
        )
    )

    half = inner.shape[1] // 2 if inner.size else 0
    if half > 2:
        lm, rm = float(inner[:, :half].mean()), float(inner[:, half:].mean())
        uneven = abs(lm - rm) / max(lm, rm, 1.0)
        v = _band(uneven, EVEN_LIGHT)
        checks.append(
            _mk(
                "even_light",
                v,
                uneven,
                "|left − right| / brighter",
                f"≤ {EVEN_LIGHT[0]:g} (warn ≤ {EVEN_LIGHT[1]:g})",
                _msg(v),
                left=lm,
                right=rm,
            )
        )
    else:
        checks.append(_mk("even_light", Verdict.UNABLE, None, "", "", "unable"))

    bg = _background(gray, crop, face)
    fill = 255
    if bg.size >= 100:
        bg_mean, bg_std = float(bg.mean()), float(bg.std())
        fill = int(np.median(bg))
        v = _at_least(bg_mean, BACKGROUND_LIGHT)
        checks.append(
            _mk(
                "background_light",
                v,
                bg_mean,
                "mean luma (0-255)",
                f"≥ {BACKGROUND_LIGHT[0]:g} (warn ≥ {BACKGROUND_LIGHT[1]:g})",
                _msg(v),
            )
        )
        v = _band(bg_std, BACKGROUND_PLAIN)
        checks.append(
            _mk(
                "background_plain",
                v,
                bg_std,
                "luma std",
                f"≤ {BACKGROUND_PLAIN[0]:g} (warn ≤ {BACKGROUND_PLAIN[1]:g})",
                _msg(v),
            )
        )
    else:
        checks.append(_mk("background_light", Verdict.UNABLE, None, "", "", "unable"))
        checks.append(_mk("background_plain", Verdict.UNABLE, None, "", "", "unable"))

    roi = gray[ft:fb, fl:fr_]
    if roi.size >= 64:
        small_roi = cv2.resize(
            roi,
            (SHARPNESS_SIDE, max(8, round(roi.shape[0] * SHARPNESS_SIDE / roi.shape[1]))),
            interpolation=cv2.INTER_AREA,
        )
        sharp = float(cv2.Laplacian(small_roi, cv2.CV_64F).var())
        v = _at_least(sharp, SHARPNESS)
        checks.append(
            _mk(
                "sharpness",
                v,
                sharp,
                "Laplacian variance at 128 px",
                f"≥ {SHARPNESS[0]:g} (warn ≥ {SHARPNESS[1]:g})",
                _msg(v),
            )
        )
    else:
        checks.append(_mk("sharpness", Verdict.UNABLE, None, "", "", "unable"))

    checks.append(_face_match(data, reference))
    measurements = {"face_box": [round(x) for x in face], "crop_box": [round(x) for x in crop]}
    result = Result("portrait", tuple(checks), None, "unknown", image, None, measurements)
    return PortraitOutcome(result, _cleaned(rgb, crop, fill), fmt)


def _face_match(data: bytes, reference: np.ndarray | None) -> Check:
    import face_recognition
    from PIL import ImageFile

    # face_recognition turns on Pillow's LOAD_TRUNCATED_IMAGES for the whole process at import;
    # we refuse truncated uploads, so turn it off again.
    ImageFile.LOAD_TRUNCATED_IMAGES = False

    from idsvc.liveness.enrol import encode_reference_photo

    rng = f"≤ {MATCH_THRESHOLD:g}"
    if reference is None:
        return _mk("face_match", Verdict.FAIL, None, "distance", rng, "no_record", reason="no_id_record")
    try:
        encoding = encode_reference_photo(data)
    except IdsvcError as exc:
        return _mk("face_match", Verdict.UNABLE, None, "distance", rng, "unable", reason=exc.code)
    distance = float(face_recognition.face_distance([reference], encoding)[0])
    v = Verdict.PASS if distance <= MATCH_THRESHOLD else Verdict.FAIL
    return _mk("face_match", v, distance, "distance", rng, _msg(v))
