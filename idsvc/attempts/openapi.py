"""OpenAPI paths of the attempts feature."""

from __future__ import annotations

from typing import Any

from idsvc.webkit.openapi import error_responses, json_body, ok

LOCK_STATE: dict[str, Any] = {
    "type": "object",
    "required": ["locked", "retry_after"],
    "properties": {
        "locked": {"type": "boolean"},
        "until": {"type": ["string", "null"], "format": "date-time"},
        "kind": {"type": ["string", "null"], "enum": ["window", "daily", None]},
        "retry_after": {"type": "integer", "minimum": 0},
        "failures_in_window": {"type": "integer", "minimum": 0},
        "failures_today": {"type": "integer", "minimum": 0},
    },
}

PATHS: dict[str, Any] = {
    "/v1/members/{member_id}/unlock": {
        "post": {
            "summary": "Lift a member's face-verification lock (audited with who and why)",
            "security": [{"apiKey": []}],
            "parameters": [{"name": "member_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": json_body(
                {
                    "type": "object",
                    "required": ["why"],
                    "properties": {"why": {"type": "string", "minLength": 1, "maxLength": 500}},
                }
            ),
            "responses": {
                "200": ok(
                    "the lock state after",
                    {
                        "type": "object",
                        "properties": {"member_id": {"type": "string"}, "face_verification": LOCK_STATE},
                    },
                ),
                **error_responses(400, 401, 403, 404),
            },
        }
    }
}
