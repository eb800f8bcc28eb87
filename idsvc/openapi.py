"""GET /v1/openapi.json: the OpenAPI 3.1 document of every /v1 endpoint.

Each feature's ``views`` module contributes an ``OPENAPI`` dict of paths; a test checks that
every /v1 route the app serves is described here, so the document cannot drift silently.
"""

from __future__ import annotations

import importlib
from typing import Any

from flask import Blueprint

from idsvc.http import json_response

bp = Blueprint("openapi", __name__)

FEATURE_VIEWS = ("idsvc.qr.views", "idsvc.liveness.views", "idsvc.documents.views", "idsvc.idchange.views")

ERROR = {"$ref": "#/components/schemas/Error"}


def error_responses(*statuses: int) -> dict[str, Any]:
    """Response entries for the given error statuses, all with the one error shape."""
    return {str(s): {"description": "error", "content": {"application/json": {"schema": ERROR}}} for s in statuses}


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def ok(description: str, schema: dict[str, Any] | None = None, mime: str = "application/json") -> dict[str, Any]:
    return {"description": description, "content": {mime: {"schema": schema or {"type": "object"}}}}


def build() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for name in FEATURE_VIEWS:
        module = importlib.import_module(name)
        for path, ops in getattr(module, "OPENAPI", {}).items():
            paths.setdefault(path, {}).update(ops)
    paths["/v1/openapi.json"] = {"get": {"summary": "This document", "responses": {"200": ok("OpenAPI 3.1 document")}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "idsvc", "version": "1", "description": "WeChat-first identity and document service"},
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer", "description": "API key (role platform, local or national)"},
                "pollToken": {"type": "http", "scheme": "bearer", "description": "The session's poll_token"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message", "message_en"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string", "description": "zh-CN"},
                                "message_en": {"type": "string"},
                                "details": {"type": "object"},
                            },
                        }
                    },
                },
            },
        },
        "paths": dict(sorted(paths.items())),
    }


@bp.get("/v1/openapi.json")
def openapi() -> Any:
    return json_response(build())
