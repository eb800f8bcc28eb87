"""The decision record: passed or the first failed check, messages for the member, and the numbers.

Reason codes are a fixed, stable list (clients branch on them).  Messages tell the member how to
do better, zh-CN first with an English twin.  ``measurements`` holds the figures behind the
decision (per-challenge signal, match distances, quality, frames used, timings) for audit and
support; per the anchors (AWS: "do not send the liveness score to the user application") the HTTP
layer should not forward them to the phone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from idsvc.liveness.challenges import CHALLENGES

# In the order the pipeline evaluates them: the first failure is the reason.
REASONS: dict[str, tuple[str, str]] = {
    "id_record_not_found": (
        "系统内身份证号与人脸记录不一致，请提交身份证号变更申请",
        "No face record matches your ID number; please submit an ID-number change request.",
    ),
    "video_invalid": ("视频无法读取，请重新录制", "The video could not be read; please record it again."),
    "too_short": ("视频太短，请录制约 3 秒", "The video is too short; please record about 3 seconds."),
    "too_long": (
        "视频太长，请录制约 3 秒（不超过 8 秒）",
        "The video is too long; please record about 3 seconds (8 at most).",
    ),
    "no_face": ("未检测到人脸，请将脸部置于画面中央", "No face was found; keep your face in the middle of the frame."),
    "multiple_faces": (
        "画面中有多张人脸，请确保只有本人入镜",
        "More than one face is visible; make sure only you are in the frame.",
    ),
    "face_too_small": ("人脸太小，请将手机靠近一些", "Your face is too small; hold the phone closer."),
    "too_dark": ("光线太暗，请到明亮处重新录制", "It is too dark; please record somewhere brighter."),
    "too_blurry": (
        "画面模糊，请保持手机稳定并擦拭镜头",
        "The video is blurry; hold the phone steady and clean the lens.",
    ),
    "static_image": (
        "未检测到真人动作，请本人面对镜头完成动作，不要使用照片或屏幕",
        "No live movement was detected; perform the action yourself, not with a photo or screen.",
    ),
    "identity_changed": (
        "视频中的人脸发生了变化，请本人独自完成录制",
        "The face changed during the video; please record alone.",
    ),
    "challenge_not_performed": (
        "未检测到指定动作，请按提示完成：{zh}",
        "The requested action was not detected; please {en}.",
    ),
    "face_mismatch": ("人脸与身份证照片不一致", "Your face does not match the ID record."),
    # issue #11 (sequence challenges)
    "recorded_before_challenge": (
        "视频不是本次现场录制的，请在页面上直接录制",
        "The video was not recorded for this verification; record it on the page.",
    ),
    "light_challenge_failed": (
        "屏幕光线变化与要求不一致，请将脸靠近屏幕并在室内重新录制",
        "The light on your face did not follow the screen's colours; hold the phone close and record indoors.",
    ),
}
PASSED_MESSAGE = ("验证通过", "Verified.")


@dataclass(frozen=True)
class Decision:
    passed: bool
    reason: str | None
    message: str
    message_en: str
    measurements: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "reason": self.reason,
            "message": self.message,
            "message_en": self.message_en,
            # "sequence+light" | "sequence" | "single_action" (legacy challenge) | None (rejected early)
            "assurance": self.measurements.get("assurance") if self.passed else None,
            "measurements": _jsonable(self.measurements),
        }


def passed(measurements: dict[str, Any]) -> Decision:
    return Decision(True, None, PASSED_MESSAGE[0], PASSED_MESSAGE[1], measurements)


def rejected(reason: str, measurements: dict[str, Any], challenge: str | tuple[str, str] | None = None) -> Decision:
    """``challenge``: the action name, or the (zh, en) instruction of a sequence."""
    zh, en = REASONS[reason]
    if reason == "challenge_not_performed" and challenge is not None:
        if isinstance(challenge, tuple):
            izh, ien = challenge
        elif challenge in CHALLENGES:
            izh, ien = CHALLENGES[challenge].instruction_zh, CHALLENGES[challenge].instruction_en
        else:
            izh = ien = ""
        if izh:
            zh, en = zh.format(zh=izh), en.format(en=ien[0].lower() + ien[1:])
    return Decision(False, reason, zh, en, measurements)


def _jsonable(value: Any) -> Any:
    """Plain JSON types: numpy scalars/arrays to Python, floats rounded, NaN/inf to None."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy scalar or array
        return _jsonable(value.tolist())
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else None
    return value
