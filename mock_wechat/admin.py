"""Test-only controls under ``/_mock/`` (WeChat has nothing here; real clients never call these).

- ``POST /_mock/reset``                      forget all codes, tokens and queued faults
- ``POST /_mock/clock/advance`` {"seconds"}  move the mock's clock forward (expire codes/tokens)
- ``POST /_mock/codes`` {"openid", "scope"}  mint a code without the authorize redirect
- ``POST /_mock/faults`` {"endpoint", "errcode", "count"}  the next `count` calls to an /sns/
  endpoint (access_token, refresh_token, userinfo, auth) answer that errcode (e.g. -1 system busy)
- ``GET  /_mock/login?openid=X[&next=URL]``  set the ``mock_openid`` cookie for a browser
- ``GET  /_mock/state``                      counts of live codes/tokens, and the appid
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, redirect, request

from mock_wechat.core import current_mock
from mock_wechat.state import SCOPE_BASE, SCOPES, Grant
from mock_wechat.users import OPENID_COOKIE, is_valid_openid
from mock_wechat.views import API_ENDPOINTS

bp = Blueprint("mock_admin", __name__, url_prefix="/_mock")


class BadRequest(Exception):
    pass


@bp.errorhandler(BadRequest)
def _bad_request(err: BadRequest) -> tuple[Response, int]:
    return jsonify({"error": str(err)}), 400


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if data is None:
        data = request.form.to_dict()
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object or a form")
    return data


def _number(data: dict[str, Any], key: str, default: float | None = None) -> float:
    value = data.get(key, default)
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BadRequest(f"{key} must be a number") from None


def _openid(value: object) -> str:
    if not isinstance(value, str) or not is_valid_openid(value):
        raise BadRequest("openid must be 1-64 characters of A-Z a-z 0-9 _ -")
    return value


@bp.post("/reset")
def reset() -> Response:
    mock = current_mock()
    mock.state.reset()
    mock.faults.clear()
    return jsonify({"ok": True})


@bp.post("/clock/advance")
def advance_clock() -> Response:
    seconds = _number(_body(), "seconds")
    if seconds < 0:
        raise BadRequest("seconds must be >= 0")
    mock = current_mock()
    mock.clock.advance(seconds)
    return jsonify({"ok": True, "now": mock.clock()})


@bp.post("/codes")
def mint_code() -> Response:
    data = _body()
    mock = current_mock()
    scope = data.get("scope", SCOPE_BASE)
    if scope not in SCOPES:
        raise BadRequest(f"scope must be one of {sorted(SCOPES)}")
    openid = _openid(data.get("openid", mock.config.default_openid))
    code = mock.state.issue_code(Grant(appid=mock.config.appid, openid=openid, scope=scope))
    return jsonify({"code": code, "openid": openid, "scope": scope})


@bp.post("/faults")
def add_fault() -> Response:
    data = _body()
    endpoint = data.get("endpoint")
    if endpoint not in API_ENDPOINTS:
        raise BadRequest(f"endpoint must be one of {list(API_ENDPOINTS)}")
    errcode = _number(data, "errcode")
    count = _number(data, "count", 1)
    if errcode != int(errcode) or errcode == 0 or count != int(count) or not 1 <= count <= 1000:
        raise BadRequest("errcode must be a non-zero integer and count an integer in 1..1000")
    current_mock().faults.push(endpoint, int(errcode), int(count))
    return jsonify({"ok": True})


@bp.get("/login")
def login() -> Response:
    openid = _openid(request.args.get("openid"))
    nxt = request.args.get("next", "")
    if nxt and urlsplit(nxt).scheme not in ("http", "https"):
        raise BadRequest("next must be an absolute http(s) URL")
    resp = redirect(nxt, code=302) if nxt else jsonify({"ok": True, "openid": openid})
    resp.set_cookie(OPENID_COOKIE, openid, httponly=True, samesite="Lax")
    return resp


@bp.get("/state")
def show_state() -> Response:
    mock = current_mock()
    return jsonify({"appid": mock.config.appid, "now": mock.clock(), **mock.state.counts()})
