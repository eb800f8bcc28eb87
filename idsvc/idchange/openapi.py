"""OpenAPI paths of the idchange feature (added to the document by ``feature.register``)."""

from __future__ import annotations

from typing import Any

from idsvc.idchange import service
from idsvc.idchange.workflow import (
    MAX_COMMENT,
    NATIONAL_DECISIONS,
    REVIEW_DECISIONS,
    State,
)
from idsvc.webkit.openapi import error_responses, json_body, ok


def _openapi() -> dict[str, Any]:

    rid = [{"name": "request_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    masked = {
        "type": "string",
        "description": "full for local/national reviewers, masked (first 6, last 4) for the platform",
    }
    change = {
        "type": "object",
        "properties": {
            "request_id": {"type": "string"},
            "member_id": {"type": "string"},
            "association": {"type": "string"},
            "state": {"type": "string", "enum": [s.value for s in State]},
            "final": {"type": "boolean"},
            "old_id_number": masked,
            "new_id_number": masked,
            "reason": {"type": "string"},
            "proof": {
                "type": "object",
                "properties": {
                    "mime": {"type": "string"},
                    "size": {"type": "integer"},
                    "sha256": {"type": "string"},
                    "url": {"type": "string"},
                },
            },
            "filed_by": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "history": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "action": {"type": "string"},
                        "from_state": {"type": ["string", "null"]},
                        "to_state": {"type": "string"},
                        "actor": {"type": "string"},
                        "role": {"type": "string"},
                        "comment": {"type": "string"},
                        "at": {"type": "string", "format": "date-time"},
                    },
                },
            },
            "id_record": {
                "type": "string",
                "enum": ["rekeyed", "kept_existing", "none"],
                "description": "approval only",
            },
        },
    }

    def decision_schema(words: list[str]) -> dict[str, Any]:
        return json_body(
            {
                "type": "object",
                "required": ["decision"],
                "properties": {
                    "decision": {"type": "string", "enum": words},
                    "comment": {"type": "string", "maxLength": MAX_COMMENT, "description": "required when rejecting"},
                },
            }
        )

    key: list[dict[str, list[str]]] = [{"apiKey": []}]
    # A filed request's id leads to its detail, proof, review, decision and withdrawal.
    by_id = {"request_id": "$response.body#/request_id"}
    links = {
        name: {"operationId": op, "parameters": by_id}
        for name, op in (
            ("GetIdChange", "getIdChange"),
            ("GetProof", "getIdChangeProof"),
            ("Review", "reviewIdChange"),
            ("Decide", "decideIdChange"),
            ("Withdraw", "withdrawIdChange"),
        )
    }
    return {
        "/v1/id-changes": {
            "post": {
                "summary": "File an ID-number change request (platform)",
                "security": key,
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["member_id", "new_id_number", "reason", "proof"],
                                "properties": {
                                    "member_id": {"type": "string", "minLength": 1, "maxLength": 64},
                                    "new_id_number": {
                                        "type": "string",
                                        "pattern": "^[0-9]{17}[0-9Xx]$",
                                        "description": "18 characters",
                                    },
                                    "reason": {"type": "string", "minLength": 1, "maxLength": service.MAX_REASON},
                                    "proof": {
                                        "type": "string",
                                        "format": "binary",
                                        "description": "PDF, JPEG or PNG, at most 10 MB",
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": {**ok("filed", change), "links": links},
                    **error_responses(400, 401, 403, 404, 409, 413, 415),
                },
            },
            "get": {
                "summary": "List requests (scoped by role)",
                "security": key,
                "parameters": [
                    {"name": n, "in": "query", "schema": {"type": t}}
                    for n, t in (
                        ("state", "string"),
                        ("association", "string"),
                        ("member_id", "string"),
                        ("limit", "integer"),
                        ("offset", "integer"),
                    )
                ],
                "responses": {
                    "200": ok(
                        "a page",
                        {
                            "type": "object",
                            "properties": {
                                "items": {"type": "array", "items": change},
                                "total": {"type": "integer"},
                                "limit": {"type": "integer"},
                                "offset": {"type": "integer"},
                                "next_offset": {"type": ["integer", "null"]},
                            },
                        },
                    ),
                    **error_responses(400, 401, 403),
                },
            },
        },
        "/v1/id-changes/{request_id}": {
            "get": {
                "operationId": "getIdChange",
                "summary": "One request with its history",
                "security": key,
                "parameters": rid,
                "responses": {"200": ok("the request", change), **error_responses(401, 403, 404)},
            }
        },
        "/v1/id-changes/{request_id}/proof": {
            "get": {
                "operationId": "getIdChangeProof",
                "summary": "The proof document (local, national)",
                "security": key,
                "parameters": rid,
                "responses": {
                    "200": {
                        "description": "PDF, JPEG or PNG",
                        "content": {
                            m: {"schema": {"type": "string", "format": "binary"}}
                            for m in ("application/pdf", "image/jpeg", "image/png")
                        },
                    },
                    **error_responses(401, 403, 404),
                },
            }
        },
        "/v1/id-changes/{request_id}/review": {
            "post": {
                "operationId": "reviewIdChange",
                "summary": "Local review: forward or reject",
                "security": key,
                "parameters": rid,
                "requestBody": decision_schema(list(REVIEW_DECISIONS)),
                "responses": {"200": ok("moved", change), **error_responses(400, 401, 403, 404, 409)},
            }
        },
        "/v1/id-changes/{request_id}/decision": {
            "post": {
                "operationId": "decideIdChange",
                "summary": "National decision: approve or reject",
                "security": key,
                "parameters": rid,
                "requestBody": decision_schema(list(NATIONAL_DECISIONS)),
                "responses": {"200": ok("moved", change), **error_responses(400, 401, 403, 404, 409)},
            }
        },
        "/v1/id-changes/{request_id}/withdraw": {
            "post": {
                "operationId": "withdrawIdChange",
                "summary": "Withdraw a request that is not final (platform)",
                "security": key,
                "parameters": rid,
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"comment": {"type": "string", "maxLength": MAX_COMMENT}},
                            }
                        }
                    },
                },
                "responses": {"200": ok("withdrawn", change), **error_responses(400, 401, 403, 404, 409)},
            }
        },
        "/v1/members/{member_id}": {
            "get": {
                "summary": "A member with masked ID number and its history (platform)",
                "security": key,
                "parameters": [{"name": "member_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {
                    "200": ok(
                        "the member",
                        {
                            "type": "object",
                            "properties": {
                                "member_id": {"type": "string"},
                                "name": {"type": "string"},
                                "association": {"type": "string"},
                                "id_number": {"type": "string", "description": "masked"},
                                "id_number_format": {"type": "string", "enum": ["18", "legacy_15"]},
                                "id_record": {"type": "object"},
                                "wechat_bound": {"type": "boolean"},
                                "id_history": {"type": "array", "items": {"type": "object"}},
                                "open_id_change": {"type": ["object", "null"]},
                            },
                        },
                    ),
                    **error_responses(401, 403, 404),
                },
            }
        },
    }


PATHS = _openapi()
