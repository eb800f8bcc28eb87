"""One error type, one JSON shape, one place that renders it.

Every non-2xx response body is::

    {"error": {"code": "session_expired", "message": "二维码已过期，请刷新",
               "message_en": "The QR code has expired; refresh the page.", "details": {}}}

``code`` is stable snake_case (clients branch on it), ``message`` is zh-CN for people,
``message_en`` its English twin, ``details`` optional structured context.  Domain code raises
:class:`IdsvcError` (or a subclass); views never build error responses by hand.
"""

from __future__ import annotations

from typing import Any


class IdsvcError(Exception):
    """A failure a client can understand: HTTP status, stable code, zh/en message."""

    status: int = 400

    def __init__(
        self,
        code: str,
        message: str,
        message_en: str,
        *,
        status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message = message
        self.message_en = message_en
        if status is not None:
            self.status = status
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "message_en": self.message_en,
                "details": self.details,
            }
        }


def invalid_input(field: str, problem_en: str, problem_zh: str | None = None, **details: Any) -> IdsvcError:
    """A 400 ``invalid_input`` naming the offending field."""
    return IdsvcError(
        "invalid_input",
        f"请求参数有误：{field} {problem_zh or problem_en}",
        f"Invalid input: {field} {problem_en}",
        status=400,
        details={"field": field, **details},
    )


def not_found(what: str, what_zh: str, code: str | None = None) -> IdsvcError:
    return IdsvcError(code or f"{what}_not_found", f"{what_zh}不存在", f"{what.replace('_', ' ')} not found", status=404)


def forbidden(code: str = "forbidden", message: str = "无权执行此操作", message_en: str = "Not allowed") -> IdsvcError:
    return IdsvcError(code, message, message_en, status=403)


def unauthorized(message: str = "缺少或无效的 API 密钥", message_en: str = "Missing or invalid API key") -> IdsvcError:
    return IdsvcError("unauthorized", message, message_en, status=401)


def conflict(code: str, message: str, message_en: str, **details: Any) -> IdsvcError:
    return IdsvcError(code, message, message_en, status=409, details=details)


def payload_too_large(limit_bytes: int) -> IdsvcError:
    return IdsvcError(
        "payload_too_large",
        f"上传内容过大（上限 {limit_bytes // (1024 * 1024)} MB）",
        f"Upload too large (limit {limit_bytes // (1024 * 1024)} MB)",
        status=413,
        details={"limit_bytes": limit_bytes},
    )


def store_unavailable() -> IdsvcError:
    return IdsvcError("store_unavailable", "服务暂时不可用，请稍后重试", "Service temporarily unavailable; retry later", status=503)
