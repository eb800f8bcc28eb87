"""Every error code of the reverify feature: one status and one text each."""

from __future__ import annotations

from idsvc.core import errors as core_errors
from idsvc.core.errors import ErrorSpec, define


def _rv(code: str, status: int, zh: str, en: str) -> ErrorSpec:
    return define(code, status, zh, en, owner="reverify")


REVERIFICATION_NOT_FOUND = _rv(
    "reverification_not_found", 404, "再次验证不存在", "re-verification not found (or not created by this key)"
)
WECHAT_NOT_BOUND = _rv(
    "wechat_not_bound",
    409,
    "该会员尚未绑定微信，请先完成一次扫码实名认证",
    "The member has no bound WeChat yet; the member must first pass a QR face verification",
)
#: 409 before any QR: the shared core code (the same status and text everywhere).
ID_RECORD_NOT_FOUND = core_errors.ID_RECORD_NOT_FOUND
NOT_BOUND_WECHAT = _rv(
    "not_bound_wechat", 403, "请使用本人绑定的微信扫码", "Scan with the WeChat account bound to the member"
)
PAYLOAD_MISMATCH = _rv(
    "payload_mismatch",
    409,
    "提交内容与验证时确认的内容不一致",
    "The action or payload digest differs from what the member approved",
)
VERIFICATION_STALE = _rv(
    "verification_stale",
    409,
    "人脸验证已超过有效期，请重新验证",
    "The face verification is older than {validity} s; verify again",
)
WECHAT_PUSH_NOT_CONFIGURED = _rv(
    "wechat_push_not_configured",
    409,
    "未配置微信模板消息，请扫码",
    "WeChat template messages are not configured (IDSVC_WECHAT_TEMPLATE_ID); scan the QR code",
)
