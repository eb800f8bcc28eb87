"""Helpers for the OpenAPI fragments each feature contributes, and where they are collected.

A feature's ``register(app)`` calls :func:`add_paths` with its paths; ``idsvc.web.openapi``
assembles the document from what the app collected, so it describes exactly what is mounted.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

PATHS_KEY = "idsvc.openapi.paths"

ERROR = {"$ref": "#/components/schemas/Error"}


def add_paths(app: Flask, paths: dict[str, Any]) -> None:
    collected: dict[str, Any] = app.extensions.setdefault(PATHS_KEY, {})
    for path, ops in paths.items():
        collected.setdefault(path, {}).update(ops)


def collected_paths(app: Flask) -> dict[str, Any]:
    return dict(app.extensions.get(PATHS_KEY, {}))


def error_responses(*statuses: int) -> dict[str, Any]:
    """Response entries for the given error statuses, all with the one error shape."""
    return {str(s): {"description": "error", "content": {"application/json": {"schema": ERROR}}} for s in statuses}


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def ok(description: str, schema: dict[str, Any] | None = None, mime: str = "application/json") -> dict[str, Any]:
    return {"description": description, "content": {mime: {"schema": schema or {"type": "object"}}}}
