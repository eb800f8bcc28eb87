"""The liveness feature's error catalogue: every code it raises as an HTTP error, declared once.

Video decisions are not errors: their reason codes and member messages are in ``decision.py``
(``REASONS``) and travel inside the session, not as HTTP error bodies.
"""

from __future__ import annotations

from idsvc.core.errors import define

OWNER = "liveness"

# -- ID-record enrolment (POST /v1/id-records, idsvc idrecord add) -------------------------------
IMAGE_INVALID = define(
    "image_invalid",
    400,
    "无法读取图片，请上传 JPG 或 PNG 照片",
    "The image could not be read; upload a JPG or PNG photo.",
    owner=OWNER,
)
NO_FACE = define("no_face", 422, "照片中未检测到人脸", "No face was found in the photo.", owner=OWNER)
MULTIPLE_FACES = define(
    "multiple_faces",
    422,
    "照片中有多张人脸，请上传只有本人的照片",
    "The photo shows more than one face; upload a photo of one person.",
    owner=OWNER,
)
FACE_TOO_SMALL = define(
    "face_too_small",
    422,
    "照片中的人脸太小，请上传更清晰的正面照",
    "The face in the photo is too small; upload a larger frontal photo.",
    owner=OWNER,
)
TOO_BLURRY = define(
    "too_blurry", 422, "照片模糊，请上传清晰的照片", "The photo is blurry; upload a sharp photo.", owner=OWNER
)
ID_RECORD_EXISTS = define(
    "id_record_exists", 409, "该身份证号已有人脸记录", "An ID record for this ID number already exists", owner=OWNER
)

# -- the face models -----------------------------------------------------------------------------
FACE_MODELS_UNAVAILABLE = define(
    "face_models_unavailable",
    503,
    "人脸识别模型未安装，服务暂不可用",
    "Face-recognition models are not installed",
    owner=OWNER,
)
