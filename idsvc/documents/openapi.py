"""OpenAPI paths of the documents feature (added to the document by ``feature.register``)."""

from __future__ import annotations

from typing import Any

from idsvc.webkit.openapi import error_responses, ok


def _openapi() -> dict[str, Any]:

    checks = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {k: {} for k in ("id", "verdict", "value", "unit", "range", "message", "message_en")},
        },
    }
    result = {
        "type": "object",
        "required": ["verdict", "checks"],
        "properties": {
            "verdict": {"type": "string", "enum": ["pass", "warn", "fail", "unable"]},
            "checks": checks,
            "dpi": {"type": ["number", "null"]},
            "dpi_source": {"type": "string", "enum": ["declared", "sheet", "unknown"]},
        },
    }
    image_fields = {
        "image": {"type": "string", "format": "binary", "description": "JPEG or PNG scan"},
        "dpi": {"type": "number", "minimum": 50, "maximum": 2400},
    }
    seal_fields = {
        **image_fields,
        "shape": {"type": "string", "enum": ["round", "square", "oval"]},
        "size_mm": {"type": "string", "examples": ["20", "20x10"]},
        "text": {"type": "string"},
    }

    def multipart(fields: dict[str, Any]) -> dict[str, Any]:
        return {
            "required": True,
            "content": {
                "multipart/form-data": {"schema": {"type": "object", "required": ["image"], "properties": fields}}
            },
        }

    member = [{"name": "member_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    filing_q = [*member, {"name": "filing_id", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"}}]
    key: list[dict[str, list[str]]] = [{"apiKey": []}]
    paths: dict[str, Any] = {
        "/v1/documents/signature/check": {
            "post": {
                "summary": "Check a signature scan",
                "security": key,
                "requestBody": multipart(image_fields),
                "responses": {
                    "200": ok("the result (any verdict)", result),
                    **error_responses(400, 401, 403, 413, 415, 422),
                },
            }
        },
        "/v1/documents/seal/check": {
            "post": {
                "summary": "Check a seal scan against the template",
                "security": key,
                "requestBody": multipart(seal_fields),
                "responses": {
                    "200": ok("the result (any verdict)", result),
                    **error_responses(400, 401, 403, 413, 415, 422),
                },
            }
        },
        "/v1/documents/sheet.pdf": {
            "get": {
                "summary": "Printable A4 calibration sheet with ArUco markers",
                "responses": {"200": ok("PDF", {"type": "string"}, "application/pdf")},
            }
        },
    }
    for kind, fields in (("signature", image_fields), ("seal", seal_fields)):
        base = f"/v1/members/{{member_id}}/{kind}"
        paths[base] = {
            "post": {
                "summary": f"Check and file the member's {kind} (nothing may FAIL)",
                "security": key,
                "parameters": member,
                "requestBody": multipart(fields),
                "responses": {"201": ok("filed"), **error_responses(400, 401, 403, 404, 413, 415, 422)},
            },
            "get": {
                "summary": f"The member's current {kind} filing and its history",
                "security": key,
                "parameters": filing_q,
                "responses": {"200": ok("the filing"), **error_responses(401, 403, 404)},
            },
        }
        paths[f"{base}/cleaned.png"] = {
            "get": {
                "summary": "The cleaned 300-dpi PNG",
                "security": key,
                "parameters": filing_q,
                "responses": {"200": ok("PNG", {"type": "string"}, "image/png"), **error_responses(401, 403, 404)},
            }
        }
        paths[f"{base}/original"] = {
            "get": {
                "summary": "The original upload",
                "security": key,
                "parameters": filing_q,
                "responses": {
                    "200": ok("the image", {"type": "string"}, "application/octet-stream"),
                    **error_responses(401, 403, 404),
                },
            }
        }
    return paths


PATHS = _openapi()
