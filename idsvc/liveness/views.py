"""HTTP endpoints of idsvc.liveness.

    POST /v1/id-records    platform   multipart photo, id_number, name  -> 201 the record (ID number masked)
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from idsvc.auth import current_principal, require_role
from idsvc.errors import invalid_input
from idsvc.http import json_response
from idsvc.services import services

from .records import add_id_record, public_view

bp = Blueprint("liveness", __name__)


@bp.post("/v1/id-records")
@require_role("platform")
def create_id_record() -> Response:
    photo = request.files.get("photo")
    if photo is None:
        raise invalid_input("photo", "is required (multipart/form-data field 'photo')", "必须以 multipart 字段 photo 上传")
    principal = current_principal()
    assert principal is not None
    with services().db.session() as db:
        record = add_id_record(
            db,
            id_number=request.form.get("id_number", ""),
            name=request.form.get("name", ""),
            photo=photo.read(),
            source="api",
            actor=principal.actor,
        )
        body = public_view(record)
    return json_response(body, 201)


def _openapi() -> dict[str, Any]:
    from idsvc.openapi import error_responses, ok

    record = {"type": "object", "required": ["id_number", "name", "source", "created_at"], "properties": {
        "id_number": {"type": "string", "description": "masked: first 6 and last 4 characters", "examples": ["110101********8515"]},
        "name": {"type": "string"}, "source": {"type": "string", "examples": ["api", "cli"]},
        "created_at": {"type": "string", "format": "date-time"}}}
    body = {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["photo", "id_number", "name"], "properties": {
            "photo": {"type": "string", "format": "binary", "description": "ID photo with exactly one face (JPEG/PNG; EXIF orientation honoured)"},
            "id_number": {"type": "string", "description": "18-digit (or legacy 15-digit) resident ID number"},
            "name": {"type": "string", "maxLength": 100}}}}}}
    return {
        "/v1/id-records": {"post": {
            "summary": "Enrol an ID record: the photo's face encoding is stored, never the photo",
            "security": [{"apiKey": []}], "requestBody": body,
            "responses": {"201": ok("the record", record), **error_responses(400, 401, 403, 409, 413, 422)}}},
    }


OPENAPI = _openapi()
