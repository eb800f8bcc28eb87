"""OpenAPI paths of the qr feature (added to the document by ``feature.register``)."""

from __future__ import annotations

from typing import Any

from idsvc.qr import sessions
from idsvc.qr.service import MAX_WAIT
from idsvc.webkit.openapi import error_responses, json_body, ok

SESSION_SCHEMA: dict[str, Any] = {
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
        "assurance": {
            "type": ["string", "null"],
            "enum": ["sequence+light", "sequence", "single_action", None],
            "description": "what the passed verification proved (README: assurance levels)",
        },
    },
}
# Follow-ups of a created session, for clients and for stateful fuzzing.
_LINKS = {
    op: {"operationId": op, "parameters": {"session_id": "$response.body#/session_id"}}
    for op in ("getSession", "cancelSession", "consumeSession", "getSessionQrPng")
}
_SID = [{"name": "session_id", "in": "path", "required": True, "schema": {"type": "string"}}]


def _openapi() -> dict[str, Any]:

    created = {
        **SESSION_SCHEMA,
        "properties": {
            **SESSION_SCHEMA["properties"],
            "poll_token": {"type": "string"},
            "scan_url": {"type": "string"},
            "qr_png_url": {"type": "string"},
            "qr_svg_url": {"type": "string"},
            "match_code": {"type": "string"},
        },
    }
    image_params = [
        *_SID,
        {
            "name": "sig",
            "in": "query",
            "schema": {"type": "string"},
            "description": "signature from the create response",
        },
    ]
    return {
        "/v1/sessions": {
            "post": {
                "summary": "Create a verification session",
                "operationId": "createSession",
                "security": [{"apiKey": []}],
                "requestBody": json_body(
                    {
                        "type": "object",
                        "required": ["member_id"],
                        "properties": {
                            "member_id": {"type": "string", "minLength": 1, "maxLength": 64},
                            "purpose": {"type": "string", "enum": list(sessions.PURPOSES)},
                            "desktop": {
                                "type": "object",
                                "properties": {
                                    "ip": {
                                        "type": "string",
                                        "maxLength": 64,
                                        "description": "the desktop's IPv4 or IPv6 address",
                                    },
                                    "user_agent": {"type": "string", "maxLength": 512},
                                },
                            },
                        },
                    }
                ),
                "responses": {
                    "201": {**ok("created", created), "links": _LINKS},
                    **error_responses(400, 401, 403, 404, 429, 503),
                },
            }
        },
        "/v1/sessions/{session_id}": {
            "get": {
                "summary": "Session status; long-poll with wait and version",
                "operationId": "getSession",
                "security": [{"pollToken": []}, {"apiKey": []}],
                "parameters": [
                    *_SID,
                    {"name": "wait", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": MAX_WAIT}},
                    {"name": "version", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 2**31}},
                ],
                "responses": {"200": ok("the session", SESSION_SCHEMA), **error_responses(400, 403, 404, 429, 503)},
            },
            "delete": {
                "summary": "Cancel the session",
                "operationId": "cancelSession",
                "security": [{"pollToken": []}, {"apiKey": []}],
                "parameters": _SID,
                "responses": {"200": ok("cancelled", SESSION_SCHEMA), **error_responses(403, 404, 409, 410, 503)},
            },
        },
        "/v1/sessions/{session_id}/events": {
            "get": {
                "summary": "Session changes as server-sent events (what the desktop widget waits with)",
                "description": (
                    "text/event-stream: one `session` event (data: the same body as GET /v1/sessions/{id}) "
                    "per change, a `: keepalive` comment every 20 s, and an `error` event (data: {code}) if "
                    "the store fails. The stream ends when the session is final or after 10 minutes; "
                    "reconnect with `version` = the last event's id. With `version`, the first event is "
                    "sent only once the session's version differs from it."
                ),
                "operationId": "sessionEvents",
                "security": [{"pollToken": []}, {"apiKey": []}],
                "parameters": [
                    *_SID,
                    {"name": "version", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 2**31}},
                ],
                "responses": {
                    "200": ok("the event stream", {"type": "string"}, "text/event-stream"),
                    **error_responses(400, 403, 404, 429, 503),
                },
            },
        },
        "/v1/sessions/{session_id}/consume": {
            "post": {
                "summary": "Use a verified session's result once (re-verification before a sensitive submission)",
                "operationId": "consumeSession",
                "security": [{"apiKey": []}],
                "parameters": _SID,
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "member_id": {"type": "string", "minLength": 1, "maxLength": 64},
                                    "purpose": {"type": "string", "enum": list(sessions.PURPOSES)},
                                },
                            }
                        }
                    },
                },
                "responses": {"200": ok("consumed", SESSION_SCHEMA), **error_responses(400, 401, 403, 404, 409, 503)},
            }
        },
        "/v1/sessions/{session_id}/qr.png": {
            "get": {
                "summary": "QR code (PNG)",
                "operationId": "getSessionQrPng",
                "parameters": image_params,
                "responses": {"200": ok("PNG", {"type": "string"}, "image/png"), **error_responses(403, 404, 409, 410)},
            }
        },
        "/v1/sessions/{session_id}/qr.svg": {
            "get": {
                "summary": "QR code (SVG)",
                "operationId": "getSessionQrSvg",
                "parameters": image_params,
                "responses": {
                    "200": ok("SVG", {"type": "string"}, "image/svg+xml"),
                    **error_responses(403, 404, 409, 410),
                },
            }
        },
    }


PATHS = _openapi()
