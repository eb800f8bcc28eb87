"""Small request helpers shared by views: JSON bodies, typed fields, no-store responses."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from idsvc.core.errors import IdsvcError, invalid_input


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or a 400 saying what is wrong with it."""
    if not request.mimetype or request.mimetype != "application/json":
        raise IdsvcError(
            "invalid_json",
            "请求体必须是 JSON（Content-Type: application/json）",
            "The body must be JSON (Content-Type: application/json)",
        )
    body = request.get_json(silent=True)
    if body is None:
        raise IdsvcError("invalid_json", "请求体不是有效的 JSON", "The body is not valid JSON")
    if not isinstance(body, dict):
        raise IdsvcError("invalid_json", "请求体必须是 JSON 对象", "The body must be a JSON object")
    return body


def string_field(
    body: dict[str, Any], name: str, *, max_len: int = 200, required: bool = True, default: str = ""
) -> str:
    value = body.get(name)
    if value is None:
        if required:
            raise invalid_input(name, "is required", "为必填项")
        return default
    if not isinstance(value, str):
        raise invalid_input(name, "must be a string", "必须是字符串")
    value = value.strip()
    if required and not value:
        raise invalid_input(name, "must not be empty", "不能为空")
    if len(value) > max_len:
        raise invalid_input(name, f"is longer than {max_len} characters", f"超过 {max_len} 个字符")
    return value


def int_arg(name: str, lo: int, hi: int, default: int | None = None) -> int | None:
    """A query-string integer within [lo, hi]; ``default`` when absent or empty, 400 otherwise."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_input(name, "must be an integer", "必须是整数") from None
    if not lo <= value <= hi:
        raise invalid_input(name, f"must be between {lo} and {hi}", f"必须在 {lo} 到 {hi} 之间")
    return value


def form_or_json() -> dict[str, Any]:
    """Fields from a form post or a JSON object, whichever the client sent."""
    if request.mimetype == "application/json":
        return json_object()
    return request.form.to_dict()


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def json_response(payload: Any, status: int = 200) -> Response:
    response = jsonify(payload)
    response.status_code = status
    return no_store(response)
