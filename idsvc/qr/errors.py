"""Every error code of the qr feature: one status and one text each (README "Errors" lists them)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from idsvc.core.errors import ErrorSpec, define, store_unavailable

log = logging.getLogger(__name__)

#: SQL failures that mean "the database is unavailable right now" (locked, gone, pool exhausted): 503.
SQL_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)


def _qr(code: str, status: int, zh: str, en: str) -> ErrorSpec:
    return define(code, status, zh, en, owner="qr")


# -- sessions (back-end API and phone) -----------------------------------------------------------
SESSION_NOT_FOUND = _qr("session_not_found", 404, "验证会话不存在", "session not found")
SESSION_EXPIRED = _qr("session_expired", 410, "二维码已过期，请刷新", "The QR code has expired; refresh the page")
SESSION_CANCELLED = _qr(
    "session_cancelled",
    409,
    "本次验证已取消，请在电脑上重新发起",
    "This verification was cancelled; start again on the computer",
)
SESSION_FINISHED = _qr(
    "session_finished",
    409,
    "本次验证已结束，请在电脑上重新发起",
    "This verification has already finished; start again on the computer",
)
#: A transition the session's current state does not allow (always 409; ``details.status``).
INVALID_STATE = _qr("invalid_state", 409, "当前状态不允许此操作", "Not allowed in state {state}")
ALREADY_SCANNED = _qr(
    "already_scanned", 409, "二维码已被其他微信扫描", "This QR code has already been scanned by another WeChat user"
)
NOT_YOUR_SESSION = _qr(
    "not_your_session",
    403,
    "该验证不属于当前微信用户，请用微信重新扫描电脑上的二维码",
    "This verification belongs to another WeChat user; scan the QR code on the computer with WeChat again",
)
VERIFICATION_IN_PROGRESS = _qr(
    "verification_in_progress", 409, "正在核验上一段视频，请稍候", "The previous video is still being checked"
)
INVALID_POLL_TOKEN = _qr("invalid_poll_token", 403, "轮询令牌无效", "Missing or wrong poll token")

# -- consume ------------------------------------------------------------------------------------
NOT_VERIFIED = _qr("not_verified", 409, "该验证尚未通过", "This session is not verified")
ALREADY_CONSUMED = _qr("already_consumed", 409, "该验证结果已被使用", "This verification has already been used")
PURPOSE_MISMATCH = _qr("purpose_mismatch", 409, "验证用途不符", "This verification was for {expected}, not {purpose}")
MEMBER_MISMATCH = _qr("member_mismatch", 409, "验证会话不属于该会员", "This session belongs to another member")

# -- the phone: QR token, OAuth, CSRF, video ----------------------------------------------------
INVALID_TOKEN = _qr(
    "invalid_token", 400, "二维码无效或已被篡改，请重新扫码", "The QR code is invalid or was tampered with; scan again"
)
#: The OAuth ``state`` is unknown, not this browser's, used with another code, or the code was
#: already used under another state (a replay).
OAUTH_STATE_INVALID = _qr(
    "oauth_state_invalid",
    400,
    "授权请求无效或已被使用，请重新扫码",
    "The authorisation request is invalid or was replayed; scan again",
)
CSRF_FAILED = _qr(
    "csrf_failed", 403, "页面已失效，请刷新后重试", "The page expired (CSRF check failed); reload and retry"
)
NOT_WECHAT = _qr("not_wechat", 403, "请使用微信扫一扫", "Please scan with WeChat")
UNSUPPORTED_VIDEO_TYPE = _qr(
    "unsupported_video_type",
    415,
    "请上传手机录制的视频（MP4、MOV 或 WebM）",
    "Upload a video recorded on the phone (MP4, MOV or WebM)",
)
#: WeChat refused the OAuth code (invalid, expired or already used: errcode 40029/40163/41008).
WECHAT_AUTH_FAILED = _qr(
    "wechat_auth_failed", 400, "微信授权失败，请重新扫码", "WeChat authorisation failed; scan again"
)
#: WeChat could not be reached, or answered with an error that is not about the code.
WECHAT_UNAVAILABLE = _qr(
    "wechat_unavailable", 502, "微信服务暂时不可用，请稍后重试", "WeChat is unavailable; retry later"
)


@contextmanager
def sql_errors_as_503() -> Iterator[None]:
    """Turn "the database is unavailable" into 503 ``store_unavailable`` (the caller may retry)."""
    try:
        yield
    except SQL_UNAVAILABLE as exc:
        log.warning("database unavailable: %s", type(exc).__name__)
        raise store_unavailable() from exc


TOO_MANY_WAITERS = define(
    "too_many_waiters",
    429,
    "此二维码已在其他页面等待，请关闭多余的页面",
    "Too many streams or long-polls are already waiting on this session or from this address",
    owner="qr",
)
