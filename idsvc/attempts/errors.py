"""Error catalogue of the attempts feature."""

from __future__ import annotations

from idsvc.core.errors import define

VERIFICATION_LOCKED = define(
    "verification_locked",
    429,
    "人脸核验失败次数过多，已暂停核验，请于 {until} 后再试；如需帮助请联系所在地方协会",
    "Too many failed face verifications; try again after {until_en} or contact your local association",
    owner="attempts",
)
UNLOCK_REASON_REQUIRED = define(
    "unlock_reason_required",
    400,
    "解除锁定须填写原因（why）",
    "Unlocking needs a reason (why)",
    owner="attempts",
)
