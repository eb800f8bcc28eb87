"""Back-end API of verification sessions: create, poll (long-poll), QR images, cancel."""

from __future__ import annotations

import ipaddress
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from idsvc.auth import bearer_token, current_principal, require_role
from idsvc.errors import IdsvcError, forbidden, invalid_input
from idsvc.http import int_arg, json_object, json_response, no_store, string_field
from idsvc.qr import render, sessions
from idsvc.qr.service import MAX_WAIT, QrSessions
from idsvc.qr.tokens import make_scan_token
from idsvc.services import services

bp = Blueprint("qr", __name__)

IMAGE_SALT = "idsvc.qr.image"


def qr_sessions() -> QrSessions:
    return QrSessions(services())


def scan_url(sid: str) -> str:
    svc = services()
    return f"{svc.settings.public_url}/m/{make_scan_token(str(svc.settings.secret_key), sid)}"


def _image_sig(sid: str) -> str:
    return URLSafeSerializer(current_app.secret_key, salt=IMAGE_SALT).dumps(sid)  # type: ignore[arg-type]


def _desktop(body: dict[str, Any]) -> dict[str, str]:
    desktop = body.get("desktop", {})
    if not isinstance(desktop, dict):
        raise invalid_input("desktop", "must be an object", "必须是对象")
    ip = string_field(desktop, "ip", max_len=64, required=False)
    if ip:
        try:
            ip = str(ipaddress.ip_address(ip))
        except ValueError:
            raise invalid_input("desktop.ip", "is not an IP address", "不是有效的 IP 地址") from None
    return {"ip": ip, "user_agent": string_field(desktop, "user_agent", max_len=512, required=False)}


def session_body(s: sessions.Session, **extra: Any) -> dict[str, Any]:
    sid = s["session_id"]
    sig = _image_sig(sid)
    base = services().settings.public_url
    return {
        **sessions.public_view(s),
        "scan_url": scan_url(sid),
        "qr_png_url": f"{base}{url_for('qr.qr_png', session_id=sid)}?sig={sig}",
        "qr_svg_url": f"{base}{url_for('qr.qr_svg', session_id=sid)}?sig={sig}",
        **extra,
    }


@bp.post("/v1/sessions")
@require_role("platform")
def create_session() -> Any:
    """Create a verification session for a member → 201 with poll token, scan URL, QR URLs, match code."""
    body = json_object()
    member_id = string_field(body, "member_id", max_len=64)
    purpose = string_field(body, "purpose", max_len=32, required=False, default="login")
    if purpose not in sessions.PURPOSES:
        raise invalid_input("purpose", f"must be one of {', '.join(sessions.PURPOSES)}", f"必须是 {', '.join(sessions.PURPOSES)} 之一")
    desktop = _desktop(body)
    principal = current_principal()
    assert principal is not None
    svc = services()
    if svc.store.hit(svc.store.key("rate", "create", principal.key_id), 60) > svc.settings.rate_limit_per_minute * 10:
        raise IdsvcError("rate_limited", "请求过于频繁，请稍后再试", "Too many requests; slow down", status=429)
    s, poll_token = qr_sessions().create(principal.actor, member_id, purpose, desktop)
    return json_response(session_body(s, poll_token=poll_token, match_code=s["match_code"]), 201)


def _authorised_session(session_id: str) -> sessions.Session:
    """The session, if the caller holds its poll token or a platform key (403 otherwise)."""
    qs = qr_sessions()
    s = qs.get(session_id)
    token = bearer_token()
    if token and token.startswith("idsvc_"):
        principal = current_principal()
        if principal is None or principal.role != "platform":
            raise forbidden("wrong_role", "当前 API 密钥的角色无权执行此操作", "This endpoint needs role platform")
        return s
    qs.check_poll_token(s, token)
    return s



@bp.get("/v1/sessions/<session_id>")
def get_session(session_id: str) -> Any:
    """Session status for the desktop; ``?wait=N&version=V`` long-polls up to N ≤ 30 s."""
    wait = int_arg("wait", 0, MAX_WAIT)
    version = int_arg("version", 0, 2**31)
    s = _authorised_session(session_id)
    if wait:
        s = qr_sessions().wait(session_id, s["version"] if version is None else version, wait)
    return json_response(sessions.public_view(s))


@bp.delete("/v1/sessions/<session_id>")
def cancel_session(session_id: str) -> Any:
    """Cancel a session (poll token or platform key) → its record with status ``cancelled``."""
    _authorised_session(session_id)
    principal = current_principal(optional=True)
    actor = principal.actor if principal else "desktop"
    return json_response(sessions.public_view(qr_sessions().cancel(session_id, actor)))


@bp.post("/v1/sessions/<session_id>/consume")
@require_role("platform")
def consume_session(session_id: str) -> Any:
    """Use a ``verified`` session's result exactly once (optionally checking member and purpose)."""
    body = json_object() if request.content_length else {}
    member_id = string_field(body, "member_id", max_len=64, required=False) or None
    purpose = string_field(body, "purpose", max_len=32, required=False) or None
    principal = current_principal()
    assert principal is not None
    return json_response(sessions.public_view(qr_sessions().consume(session_id, principal.actor, purpose, member_id)))


def _qr_image(session_id: str, kind: str) -> Response:
    sig = request.args.get("sig", "")
    try:
        signed_sid = URLSafeSerializer(current_app.secret_key, salt=IMAGE_SALT).loads(sig)  # type: ignore[arg-type]
    except BadSignature:
        signed_sid = None
    if signed_sid != session_id:
        _authorised_session(session_id)
    s = qr_sessions().get(session_id)
    if s["status"] in sessions.FINAL:
        raise sessions.session_expired() if s["status"] == sessions.EXPIRED else IdsvcError(
            "session_finished", "本次验证已结束", "This verification has already finished", status=409
        )
    url = scan_url(session_id)
    data, mime = (render.png(url), "image/png") if kind == "png" else (render.svg(url), "image/svg+xml")
    return no_store(Response(data, mimetype=mime))


@bp.get("/v1/sessions/<session_id>/qr.png")
def qr_png(session_id: str) -> Any:
    """The session's QR code as PNG (signed ``sig`` from the create response, or the poll token)."""
    return _qr_image(session_id, "png")


@bp.get("/v1/sessions/<session_id>/qr.svg")
def qr_svg(session_id: str) -> Any:
    """The session's QR code as SVG."""
    return _qr_image(session_id, "svg")


_SESSION = {
    "type": "object",
    "properties": {
        "session_id": {"type": "string"},
        "status": {"type": "string", "enum": list(sessions.STATES)},
        "version": {"type": "integer"},
        "purpose": {"type": "string"},
        "member_id": {"type": "string"},
        "expires_at": {"type": "string", "format": "date-time"},
        "scanned_at": {"type": ["string", "null"]},
        "confirmed_at": {"type": ["string", "null"]},
        "finished_at": {"type": ["string", "null"]},
        "failure_reason": {"type": ["string", "null"]},
        "verified_at": {"type": ["string", "null"]},
        "attempts": {"type": "integer", "description": "videos analysed so far (at most 3)"},
        "last_reason": {"type": ["string", "null"], "description": "why the last video did not pass"},
        "consumed_at": {"type": ["string", "null"]},
    },
}
_SID = [{"name": "session_id", "in": "path", "required": True, "schema": {"type": "string"}}]


def _openapi() -> dict[str, Any]:
    from idsvc.openapi import error_responses, json_body, ok

    created = {**_SESSION, "properties": {**_SESSION["properties"], "poll_token": {"type": "string"}, "scan_url": {"type": "string"},
                                          "qr_png_url": {"type": "string"}, "qr_svg_url": {"type": "string"}, "match_code": {"type": "string"}}}
    image_params = [*_SID, {"name": "sig", "in": "query", "schema": {"type": "string"}, "description": "signature from the create response"}]
    return {
        "/v1/sessions": {"post": {
            "summary": "Create a verification session", "security": [{"apiKey": []}],
            "requestBody": json_body({"type": "object", "required": ["member_id"], "properties": {
                "member_id": {"type": "string"}, "purpose": {"type": "string", "enum": list(sessions.PURPOSES)},
                "desktop": {"type": "object", "properties": {"ip": {"type": "string"}, "user_agent": {"type": "string"}}}}}),
            "responses": {"201": ok("created", created), **error_responses(400, 401, 403, 404, 429)}}},
        "/v1/sessions/{session_id}": {
            "get": {"summary": "Session status; long-poll with wait and version", "security": [{"pollToken": []}, {"apiKey": []}],
                    "parameters": [*_SID, {"name": "wait", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 30}},
                                   {"name": "version", "in": "query", "schema": {"type": "integer"}}],
                    "responses": {"200": ok("the session", _SESSION), **error_responses(400, 403, 404)}},
            "delete": {"summary": "Cancel the session", "security": [{"pollToken": []}, {"apiKey": []}], "parameters": _SID,
                       "responses": {"200": ok("cancelled", _SESSION), **error_responses(403, 404, 409, 410)}}},
        "/v1/sessions/{session_id}/consume": {"post": {
            "summary": "Use a verified session's result once (re-verification before a sensitive submission)", "security": [{"apiKey": []}],
            "parameters": _SID,
            "requestBody": {"required": False, "content": {"application/json": {"schema": {"type": "object", "properties": {
                "member_id": {"type": "string"}, "purpose": {"type": "string"}}}}}},
            "responses": {"200": ok("consumed", _SESSION), **error_responses(400, 401, 403, 404, 409)}}},
        "/v1/sessions/{session_id}/qr.png": {"get": {"summary": "QR code (PNG)", "parameters": image_params,
                                                     "responses": {"200": ok("PNG", {"type": "string"}, "image/png"), **error_responses(403, 404, 409, 410)}}},
        "/v1/sessions/{session_id}/qr.svg": {"get": {"summary": "QR code (SVG)", "parameters": image_params,
                                                     "responses": {"200": ok("SVG", {"type": "string"}, "image/svg+xml"), **error_responses(403, 404, 409, 410)}}},
    }


OPENAPI = _openapi()
