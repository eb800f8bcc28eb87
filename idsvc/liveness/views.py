"""HTTP endpoints of idsvc.liveness.

POST /v1/id-records    platform   multipart photo, id_number, name  -> 201 the record (ID number masked)
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from idsvc.core.errors import invalid_input
from idsvc.webkit.auth import current_principal, require_role
from idsvc.webkit.context import services
from idsvc.webkit.http import json_response

from .records import add_id_record, public_view

bp = Blueprint("liveness", __name__)


@bp.post("/v1/id-records")
@require_role("platform")
def create_id_record() -> Response:
    photo = request.files.get("photo")
    if photo is None:
        raise invalid_input(
            "photo", "is required (multipart/form-data field 'photo')", "必须以 multipart 字段 photo 上传"
        )
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
