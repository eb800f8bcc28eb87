"""Test-only controls under ``/_mock/`` (WeChat has nothing here; real clients never call these).

- ``POST /_mock/reset``                      forget all codes, tokens and queued faults
- ``POST /_mock/clock/advance`` {"seconds"}  move the mock's clock forward (expire codes/tokens)
- ``POST /_mock/codes`` {"openid", "scope"}  mint a code without the authorize redirect
- ``POST /_mock/faults`` {"endpoint", "errcode", "count"}  the next `count` calls to an API
  endpoint (access_token, refresh_token, userinfo, auth, token, template_send) answer that errcode
  (e.g. -1 system busy)
- ``GET  /_mock/login?openid=X[&next=PATH]`` set the ``mock_openid`` cookie for a browser; ``next``
  is a path on the mock (or a URL of the mock's own origin), never another site
- ``GET  /_mock/state``                      counts of live codes/tokens, and the appid

Official-account API (``/cgi-bin/``):

- ``POST /_mock/mp/tokens/expire`` {"access_token"?}  expire that app token (default: all) now → 42001
- ``POST /_mock/mp/tokens/revoke`` {"access_token"?}  forget it (default: all) → 40001
- ``POST /_mock/mp/subscribers`` {"openid", "subscribed": false}  (un)follow: template sends → 43004
- ``POST /_mock/mp/quota`` {"endpoint": "token"|"template_send", "daily_limit"}  → 45009 past it
- ``GET  /_mock/mp/messages[?touser=OPENID]``  the template messages delivered (newest last)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from mock_wechat.core import current_mock
from mock_wechat.mp import DEFAULT_DAILY_LIMITS
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
    mock.mp.reset()
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


def _local_target(nxt: str) -> str:
    """``next`` if it stays on the mock: a path (``/connect/…``) or a URL of the mock's own origin.

    Refuses everything a browser could take to another site: ``//evil``, ``/\\evil``, other
    schemes and hosts, user info, and backslashes or control characters anywhere.
    """
    if any(c == "\\" or ord(c) < 0x20 or ord(c) == 0x7F for c in nxt):
        raise BadRequest("next must be a path on this server")
    try:
        parts = urlsplit(nxt)
    except ValueError:
        raise BadRequest("next must be a path on this server") from None
    own = urlsplit(request.host_url)
    if parts.scheme or parts.netloc:
        if (parts.scheme, parts.netloc.lower()) != (own.scheme, own.netloc.lower()):
            raise BadRequest("next must be a path on this server (or a URL of its own origin)")
    elif not nxt.startswith("/") or nxt.startswith("//"):
        raise BadRequest("next must be a path on this server")
    return nxt


@bp.get("/login")
def login() -> BaseResponse:
    openid = _openid(request.args.get("openid"))
    nxt = _local_target(request.args.get("next", ""))
    resp = redirect(nxt, code=302) if nxt else jsonify({"ok": True, "openid": openid})
    resp.set_cookie(OPENID_COOKIE, openid, httponly=True, samesite="Lax")
    return resp


@bp.get("/state")
def show_state() -> Response:
    mock = current_mock()
    return jsonify({"appid": mock.config.appid, "now": mock.clock(), **mock.state.counts(), **mock.mp.counts()})


def _optional_token(data: dict[str, Any]) -> str | None:
    token = data.get("access_token")
    if token is not None and not isinstance(token, str):
        raise BadRequest("access_token must be a string")
    return token


@bp.post("/mp/tokens/expire")
def expire_mp_tokens() -> Response:
    return jsonify({"ok": True, "expired": current_mock().mp.expire_tokens(_optional_token(_body()))})


@bp.post("/mp/tokens/revoke")
def revoke_mp_tokens() -> Response:
    return jsonify({"ok": True, "revoked": current_mock().mp.revoke_tokens(_optional_token(_body()))})


@bp.post("/mp/subscribers")
def set_subscriber() -> Response:
    data = _body()
    openid = _openid(data.get("openid"))
    subscribed = data.get("subscribed")
    if not isinstance(subscribed, bool):
        raise BadRequest("subscribed must be true or false")
    current_mock().mp.set_subscribed(openid, subscribed)
    return jsonify({"ok": True, "openid": openid, "subscribed": subscribed})


@bp.post("/mp/quota")
def set_quota() -> Response:
    data = _body()
    endpoint = data.get("endpoint")
    if endpoint not in DEFAULT_DAILY_LIMITS:
        raise BadRequest(f"endpoint must be one of {sorted(DEFAULT_DAILY_LIMITS)}")
    limit = _number(data, "daily_limit")
    if limit != int(limit) or limit < 0:
        raise BadRequest("daily_limit must be an integer >= 0")
    current_mock().mp.set_daily_limit(endpoint, int(limit))
    return jsonify({"ok": True, "endpoint": endpoint, "daily_limit": int(limit)})


@bp.get("/mp/messages")
def list_messages() -> Response:
    touser = request.args.get("touser")
    return jsonify({"messages": current_mock().mp.messages(touser)})
