"""Small request helpers shared by views: JSON bodies, typed fields, no-store responses."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, jsonify, request

from idsvc.core.errors import INVALID_JSON, invalid_input

# JSON deeper than this is not a form anyone fills in; refusing it keeps the parser's recursion
# (and every walker of the result) far from Python's limit.
MAX_JSON_DEPTH = 32


def json_body(*, optional: bool = False) -> dict[str, Any]:
    """The request body as a JSON object, however it was framed (Content-Length or chunked).

    ``optional``: an absent (empty) body is ``{}``; a body that is present is always parsed and
    checked, so a client cannot skip a field's check by changing the framing.  Refused with 400:
    another content type, invalid JSON, a non-object, nesting deeper than :data:`MAX_JSON_DEPTH`,
    and strings that are not valid Unicode text (lone surrogates such as ``"\\ud800"``, which no
    store or log could encode).
    """
    raw = request.get_data(cache=True)
    if not raw:
        if optional:
            return {}
        raise INVALID_JSON()
    if request.mimetype != "application/json":
        raise INVALID_JSON({"problem": "content_type"})
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise INVALID_JSON() from None
    if not isinstance(body, dict):
        raise INVALID_JSON()
    _check_json(body, 0)
    return body


def json_object() -> dict[str, Any]:
    """A required JSON object body (see :func:`json_body`)."""
    return json_body()


def _check_json(value: Any, depth: int) -> None:
    if depth > MAX_JSON_DEPTH:
        raise INVALID_JSON({"problem": "too_deep", "max_depth": MAX_JSON_DEPTH})
    if isinstance(value, str):
        _check_text(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_json(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, depth + 1)


def _check_text(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise INVALID_JSON({"problem": "invalid_unicode"}) from None


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
    # ASCII digits only: int() also accepts "²"-like digits and 4,300-digit strings (slowly).
    if len(raw) > 19 or not (raw.isascii() and raw.lstrip("-").isdigit()):
        raise invalid_input(name, "must be an integer", "必须是整数")
    value = int(raw)
    if not lo <= value <= hi:
        raise invalid_input(name, f"must be between {lo} and {hi}", f"必须在 {lo} 到 {hi} 之间")
    return value


def form_or_json() -> dict[str, Any]:
    """Fields from a form post or a JSON object, whichever the client sent."""
    if request.mimetype == "application/json":
        return json_body()
    return request.form.to_dict()


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def json_response(payload: Any, status: int = 200) -> Response:
    response = jsonify(payload)
    response.status_code = status
    return no_store(response)
