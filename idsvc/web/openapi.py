"""GET /v1/openapi.json: the OpenAPI 3.1 document of every /v1 endpoint the app mounts.

Each feature adds its paths in its ``register(app)``; a test checks that every /v1 route the
app serves is described here, so the document cannot drift silently.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app

from idsvc.webkit.http import json_response
from idsvc.webkit.openapi import collected_paths, ok

bp = Blueprint("openapi", __name__)


def build(app: Flask) -> dict[str, Any]:
    paths = collected_paths(app)
    paths["/v1/openapi.json"] = {"get": {"summary": "This document", "responses": {"200": ok("OpenAPI 3.1 document")}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "idsvc", "version": "1", "description": "WeChat-first identity and document service"},
        "components": {
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "API key (role platform, local or national)",
                },
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
    return json_response(build(current_app))
