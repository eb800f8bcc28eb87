"""OpenAPI paths of the liveness feature (added to the document by ``feature.register``)."""

from __future__ import annotations

from typing import Any

from idsvc.webkit.openapi import error_responses, ok


def _openapi() -> dict[str, Any]:

    record = {
        "type": "object",
        "required": ["id_number", "name", "source", "created_at"],
        "properties": {
            "id_number": {
                "type": "string",
                "description": "masked: first 6 and last 4 characters",
                "examples": ["110101********8515"],
            },
            "name": {"type": "string"},
            "source": {"type": "string", "examples": ["api", "cli"]},
            "created_at": {"type": "string", "format": "date-time"},
        },
    }
    body = {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["photo", "id_number", "name"],
                    "properties": {
                        "photo": {
                            "type": "string",
                            "format": "binary",
                            "description": "ID photo with exactly one face (JPEG/PNG; EXIF orientation honoured)",
                        },
                        "id_number": {
                            "type": "string",
                            "pattern": "^([0-9]{17}[0-9Xx]|[0-9]{15})$",
                            "description": "18-digit (or legacy 15-digit) resident ID number",
                        },
                        "name": {"type": "string", "minLength": 1, "maxLength": 100},
                    },
                }
            }
        },
    }
    return {
        "/v1/id-records": {
            "post": {
                "summary": "Enrol an ID record: the photo's face encoding is stored, never the photo",
                "security": [{"apiKey": []}],
                "requestBody": body,
                "responses": {"201": ok("the record", record), **error_responses(400, 401, 403, 409, 413, 422)},
            }
        },
    }


PATHS = _openapi()
