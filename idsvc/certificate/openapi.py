"""OpenAPI paths of the certificate feature (added to the document by ``feature.register``)."""

from __future__ import annotations

from typing import Any

from idsvc.webkit.openapi import error_responses, json_body, ok

from .models import CATEGORIES, STANDINGS

_MEMBER = [{"name": "member_id", "in": "path", "required": True, "schema": {"type": "string"}}]
_FILING_Q = [*_MEMBER, {"name": "filing_id", "in": "query", "schema": {"type": "string"}}]
_KEY: list[dict[str, list[str]]] = [{"apiKey": []}]

_STATUS = {
    "type": "object",
    "properties": {
        "member_no": {"type": ["string", "null"], "maxLength": 32},
        "firm": {"type": ["string", "null"], "maxLength": 200},
        "category": {"type": "string", "enum": list(CATEGORIES)},
        "standing": {"type": "string", "enum": list(STANDINGS)},
    },
    "additionalProperties": False,
    "minProperties": 1,
}
_RESULT = {
    "type": "object",
    "required": ["kind", "verdict", "checks"],
    "properties": {
        "kind": {"const": "portrait"},
        "verdict": {"type": "string", "enum": ["pass", "warn", "fail", "unable"]},
        "checks": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {k: {} for k in ("id", "verdict", "value", "unit", "range", "message", "message_en")},
            },
        },
    },
}
_GATE_CODES = (
    "certificate_member_in_custody, certificate_member_resigned, certificate_inspection_failed, "
    "certificate_not_practising, certificate_id_change_open, certificate_member_no_missing, "
    "certificate_portrait_missing, certificate_seal_missing, certificate_signature_missing"
)


def _file(desc: str, mime: str) -> dict[str, Any]:
    return ok(desc, {"type": "string", "format": "binary"}, mime)


PATHS: dict[str, Any] = {
    "/v1/members/{member_id}": {
        "patch": {
            "summary": "Set the member's number, firm, category or standing (audited with old and new values)",
            "description": "Apply a transfer or qualification change only once approved; until then the certificate shows the current values.",
            "security": _KEY,
            "parameters": _MEMBER,
            "requestBody": json_body(_STATUS),
            "responses": {
                "200": ok("the member's status and what changed"),
                **error_responses(400, 401, 403, 404, 409),
            },
        }
    },
    "/v1/members/{member_id}/portrait": {
        "post": {
            "summary": "Check a portrait against the certificate rules and the ID-record face; file it when it passes",
            "security": _KEY,
            "parameters": _MEMBER,
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["photo"],
                            "properties": {"photo": {"type": "string", "format": "binary"}},
                        }
                    }
                },
            },
            "responses": {
                "201": ok(
                    "filed: the filing and the result",
                    {"type": "object", "properties": {"filing": {}, "result": _RESULT}},
                ),
                **error_responses(400, 401, 403, 404, 413, 422),
            },
        },
        "get": {
            "summary": "The filed portrait (current or ?filing_id=), its result and history",
            "security": _KEY,
            "parameters": _FILING_Q,
            "responses": {"200": ok("the filing"), **error_responses(401, 403, 404)},
        },
    },
    "/v1/members/{member_id}/portrait/cleaned.jpg": {
        "get": {
            "summary": "The portrait cropped to the certificate's 5:7 (35 × 49 mm)",
            "security": _KEY,
            "parameters": _FILING_Q,
            "responses": {"200": _file("JPEG", "image/jpeg"), **error_responses(401, 403, 404)},
        }
    },
    "/v1/members/{member_id}/portrait/original": {
        "get": {
            "summary": "The untouched upload",
            "security": _KEY,
            "parameters": _FILING_Q,
            "responses": {"200": _file("the original image", "image/jpeg"), **error_responses(401, 403, 404)},
        }
    },
    "/v1/members/{member_id}/certificate": {
        "get": {
            "summary": "Whether the member may print the certificate now, why not, and the current issue",
            "security": _KEY,
            "parameters": _MEMBER,
            "responses": {"200": ok("status, printable, reasons, current"), **error_responses(401, 403, 404)},
        }
    },
    "/v1/members/{member_id}/certificate/revoke": {
        "post": {
            "summary": "Revoke the member's current certificate issue (the next render re-issues it)",
            "security": _KEY,
            "parameters": _MEMBER,
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "properties": {"reason": {"type": "string", "maxLength": 200}}}
                    }
                },
            },
            "responses": {"200": ok("the revoked certificate number, or null"), **error_responses(400, 401, 403, 404)},
        }
    },
    "/v1/certificates/keys": {
        "get": {
            "summary": "The public key set (JWK, OKP/Ed25519) that verifies certificate tokens offline",
            "responses": {"200": ok("JWK set", {"type": "object", "properties": {"keys": {"type": "array"}}})},
        }
    },
}
for _fmt, _mime in (("pdf", "application/pdf"), ("png", "image/png")):
    PATHS[f"/v1/members/{{member_id}}/certificate.{_fmt}"] = {
        "get": {
            "summary": f"The member's certificate as {_fmt.upper()} (issued on first render, re-issued after a change)",
            "description": f"409 when the member may not print it: {_GATE_CODES}.",
            "security": _KEY,
            "parameters": _MEMBER,
            "responses": {"200": _file(_fmt.upper(), _mime), **error_responses(401, 403, 404, 409)},
        }
    }
