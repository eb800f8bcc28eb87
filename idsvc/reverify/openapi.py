"""OpenAPI paths of the reverify feature."""

from __future__ import annotations

from typing import Any

from idsvc.qr.openapi import SESSION_SCHEMA
from idsvc.reverify import actions
from idsvc.webkit.openapi import error_responses, json_body, ok

_DIGEST = {"type": "string", "pattern": "^[0-9a-fA-F]{64}$", "description": "SHA-256 hex of the exact form"}
_ACTION = {
    "type": "string",
    "maxLength": 64,
    "description": "what is submitted, e.g. " + ", ".join(f"{k} ({v})" for k, v in actions.LABELS.items()),
}
_BOUND = {
    "action": {"type": "string"},
    "action_label": {"type": "string"},
    "payload_digest": {"type": "string"},
}
_SID = [{"name": "session_id", "in": "path", "required": True, "schema": {"type": "string"}}]


def _openapi() -> dict[str, Any]:
    created = {
        "type": "object",
        "properties": {
            **SESSION_SCHEMA["properties"],
            **_BOUND,
            "poll_token": {"type": "string"},
            "scan_url": {"type": "string"},
            "qr_png_url": {"type": "string"},
            "qr_svg_url": {"type": "string"},
            "match_code": {"type": "string"},
            "notified": {
                "type": "object",
                "description": 'with notify: "wechat": {"channel", "sent", "msgid"} or {"sent": false, "error"}',
            },
        },
    }
    reused = {"type": "object", "properties": {**SESSION_SCHEMA["properties"], **_BOUND, "reused": {"type": "boolean"}}}
    consumed = {
        "type": "object",
        "properties": {
            "session_id": {"type": "string"},
            "member_id": {"type": "string"},
            **_BOUND,
            "verified_at": {"type": "string", "format": "date-time"},
            "consumed_at": {"type": "string", "format": "date-time"},
            "assurance": {"type": ["string", "null"]},
            "audit_seq": {"type": "integer", "description": "audit entry of this consumption"},
            "verification_audit_seq": {"type": ["integer", "null"], "description": "audit entry of the verification"},
        },
    }
    return {
        "/v1/reverifications": {
            "post": {
                "summary": "Re-verification before a sensitive submission, bound to the action and the form's digest",
                "security": [{"apiKey": []}],
                "requestBody": json_body(
                    {
                        "type": "object",
                        "required": ["member_id", "action", "payload_digest"],
                        "properties": {
                            "member_id": {"type": "string", "maxLength": 64},
                            "action": _ACTION,
                            "action_label": {"type": "string", "maxLength": actions.MAX_LABEL},
                            "payload_digest": _DIGEST,
                            "max_age": {"type": "integer", "minimum": 0, "maximum": 86400, "default": 0},
                            "notify": {"type": "string", "enum": ["wechat"]},
                            "desktop": {
                                "type": "object",
                                "properties": {"ip": {"type": "string"}, "user_agent": {"type": "string"}},
                            },
                        },
                    }
                ),
                "responses": {
                    "201": ok("created (poll it with GET /v1/sessions/{id} and the poll token)", created),
                    "200": ok("a verification of the same form within max_age", reused),
                    **error_responses(400, 401, 403, 404, 409, 429, 503),
                },
            }
        },
        "/v1/reverifications/{session_id}/consume": {
            "post": {
                "summary": "Use a verified re-verification once, for the same action and digest",
                "security": [{"apiKey": []}],
                "parameters": _SID,
                "requestBody": json_body(
                    {
                        "type": "object",
                        "required": ["action", "payload_digest"],
                        "properties": {"action": _ACTION, "payload_digest": _DIGEST},
                    }
                ),
                "responses": {"200": ok("consumed", consumed), **error_responses(400, 401, 403, 404, 409, 503)},
            }
        },
        "/v1/members/{member_id}/wechat": {
            "delete": {
                "summary": "Unbind the member's WeChat (a new phone); the next successful login verification binds",
                "security": [{"apiKey": []}],
                "parameters": [{"name": "member_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": json_body(
                    {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}}
                ),
                "responses": {"200": ok("unbound"), **error_responses(400, 401, 403, 404, 409, 503)},
            }
        },
    }


PATHS = _openapi()
