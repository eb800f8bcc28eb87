"""HTTP endpoint of the attempts feature: an operator lifts a member's lock.

POST /v1/members/<id>/unlock   platform   {"why": "..."} → the lock state after
"""

from __future__ import annotations

from flask import Blueprint, Response

from idsvc.attempts.errors import UNLOCK_REASON_REQUIRED
from idsvc.attempts.limits import FaceAttempts
from idsvc.core.db import Member
from idsvc.core.errors import MEMBER_NOT_FOUND
from idsvc.webkit.auth import current_principal, require_role
from idsvc.webkit.context import feature_service, services
from idsvc.webkit.http import json_body, json_response, string_field

bp = Blueprint("attempts", __name__)

SERVICE_KEY = "idsvc.attempts"


def attempts() -> FaceAttempts:
    return feature_service(SERVICE_KEY, FaceAttempts)


@bp.post("/v1/members/<member_id>/unlock")
@require_role("platform")
def unlock(member_id: str) -> Response:
    body = json_body()
    why = string_field(body, "why", max_len=500, required=False)
    if not why:
        raise UNLOCK_REASON_REQUIRED({"field": "why"})
    with services().db.session() as db:
        if db.get(Member, member_id) is None:
            raise MEMBER_NOT_FOUND()
    principal = current_principal()
    assert principal is not None
    attempts().unlock(member_id, principal.actor, why)
    return json_response({"member_id": member_id, "face_verification": attempts().view(member_id)})
