"""One error type, one JSON shape, and a catalogue that gives every code one status and one text.

Every non-2xx response body is::

    {"error": {"code": "session_expired", "message": "二维码已过期，请刷新",
               "message_en": "The QR code has expired; refresh the page.", "details": {}}}

``code`` is stable snake_case (clients branch on it), ``message`` is zh-CN for people,
``message_en`` its English twin, ``details`` optional structured context.

Codes are declared once, with :func:`define`, in the catalogue of the package that owns them
(``idsvc/core/errors.py`` for the shared ones, ``idsvc/<feature>/errors.py`` for a feature's).
Code raises ``SPEC(...)``; a second declaration of a code with another status or text fails at
import, so a code cannot mean two things.  The README's error tables are checked against
:func:`catalogue` by a test.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class ErrorSpec:
    """A catalogued error: call it to get the exception (``raise SESSION_EXPIRED()``).

    ``message`` and ``message_en`` may hold ``{name}`` fields, filled from the call's keyword
    arguments; ``details`` goes to the response as structured context.
    """

    code: str
    status: int
    message: str
    message_en: str
    owner: str = "core"

    def __call__(self, details: dict[str, Any] | None = None, /, **fields: Any) -> IdsvcError:
        return IdsvcError(
            self.code,
            self.message.format(**fields) if fields else self.message,
            self.message_en.format(**fields) if fields else self.message_en,
            status=self.status,
            details=details,
        )


_CATALOGUE: dict[str, ErrorSpec] = {}


def define(code: str, status: int, message: str, message_en: str, *, owner: str = "core") -> ErrorSpec:
    """Declare ``code``; declaring it again identically is allowed, differently is a bug."""
    spec = ErrorSpec(code, status, message, message_en, owner)
    existing = _CATALOGUE.get(code)
    if existing is not None and existing != spec:
        raise ValueError(f"error code {code!r} declared twice with different status or text: {existing} vs {spec}")
    _CATALOGUE[code] = spec
    return spec


def catalogue() -> dict[str, ErrorSpec]:
    """Every declared code (import ``idsvc.features`` first to load the features' catalogues)."""
    return dict(sorted(_CATALOGUE.items()))


# -- the shared codes --------------------------------------------------------------------------
INVALID_JSON = define(
    "invalid_json",
    400,
    "请求体必须是有效的 JSON 对象（Content-Type: application/json）",
    "The body must be a valid JSON object (Content-Type: application/json)",
)
INVALID_INPUT = define("invalid_input", 400, "请求参数有误：{field} {problem}", "Invalid input: {field} {problem_en}")
BAD_REQUEST = define("bad_request", 400, "请求无效", "Bad request")
UNAUTHORIZED = define("unauthorized", 401, "缺少或无效的 API 密钥", "Missing or invalid API key")
FORBIDDEN = define("forbidden", 403, "无权执行此操作", "Not allowed")
WRONG_ROLE = define("wrong_role", 403, "当前 API 密钥的角色无权执行此操作", "This endpoint needs role {roles}")
NOT_FOUND = define("not_found", 404, "资源不存在", "Not found")
MEMBER_NOT_FOUND = define("member_not_found", 404, "会员不存在", "member not found")
ID_RECORD_NOT_FOUND = define(
    "id_record_not_found",
    409,
    "系统内身份证号与人脸记录不一致，无法进行人脸核验，请提交身份证号变更申请",
    "No face record matches the ID number on file; submit an ID-number change request",
)
METHOD_NOT_ALLOWED = define("method_not_allowed", 405, "不支持的请求方法", "Method not allowed")
UNSUPPORTED_MEDIA_TYPE = define("unsupported_media_type", 415, "不支持的内容类型", "Unsupported media type")
PAYLOAD_TOO_LARGE = define(
    "payload_too_large", 413, "上传内容过大（上限 {limit}）", "Upload too large (limit {limit_en})"
)
RATE_LIMITED = define("rate_limited", 429, "请求过于频繁，请稍后再试", "Too many requests; slow down")
INTERNAL_ERROR = define("internal_error", 500, "服务内部错误，请稍后重试", "Internal error; please retry later")
STORE_UNAVAILABLE = define(
    "store_unavailable", 503, "服务暂时不可用，请稍后重试", "Service temporarily unavailable; retry later"
)


def invalid_input(field: str, problem_en: str, problem_zh: str | None = None, **details: Any) -> IdsvcError:
    """A 400 ``invalid_input`` naming the offending field."""
    return INVALID_INPUT(
        {"field": field, **details}, field=field, problem=problem_zh or problem_en, problem_en=problem_en
    )


def human_size(limit_bytes: int) -> tuple[str, str]:
    """A byte limit the way people read it, in zh and en (``30 MB``, ``512 KB``, ``3000 个部分``)."""
    if limit_bytes >= 1024 * 1024:
        text = f"{limit_bytes / (1024 * 1024):g} MB"
    elif limit_bytes >= 1024:
        text = f"{limit_bytes / 1024:g} KB"
    else:
        text = f"{limit_bytes} B"
    return text, text


def payload_too_large(limit_bytes: int) -> IdsvcError:
    zh, en = human_size(limit_bytes)
    return PAYLOAD_TOO_LARGE({"limit_bytes": limit_bytes}, limit=zh, limit_en=en)


def store_unavailable() -> IdsvcError:
    return STORE_UNAVAILABLE()
