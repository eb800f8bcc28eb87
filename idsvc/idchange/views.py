"""HTTP endpoints of the ID-number change workflow (``/v1/id-changes``) and the member view."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from idsvc.core import signals
from idsvc.core.errors import MEMBER_NOT_FOUND, invalid_input, payload_too_large
from idsvc.idchange import queries, service
from idsvc.idchange.errors import MULTIPART_REQUIRED
from idsvc.idchange.proofs import MAX_PROOF_BYTES
from idsvc.idchange.workflow import (
    MAX_COMMENT,
    NATIONAL_DECISIONS,
    REVIEW_DECISIONS,
    Action,
    State,
    decision,
)
from idsvc.webkit.auth import current_principal, require_role
from idsvc.webkit.context import services
from idsvc.webkit.http import (
    int_arg,
    json_body,
    json_object,
    json_response,
    no_store,
    string_field,
)

bp = Blueprint("idchange", __name__)

# Multipart framing and the three text fields fit well inside this; anything bigger is a too-big proof.
FORM_OVERHEAD = 64 * 1024


def _principal() -> Any:
    principal = current_principal()
    assert principal is not None
    return principal


def _read_proof() -> bytes:
    upload = request.files.get("proof")
    if upload is None:
        raise invalid_input("proof", "is required (multipart file field)", "为必填项（multipart 文件字段）")
    data = upload.stream.read(MAX_PROOF_BYTES + 1)
    if len(data) > MAX_PROOF_BYTES:
        raise payload_too_large(MAX_PROOF_BYTES)
    return data


@bp.post("/v1/id-changes")
@require_role("platform")
def file_change() -> Any:
    """File a change request for a member (multipart: member_id, new_id_number, reason, proof) → 201."""
    if request.mimetype != "multipart/form-data":
        raise MULTIPART_REQUIRED()
    if request.content_length is not None and request.content_length > MAX_PROOF_BYTES + FORM_OVERHEAD:
        raise payload_too_large(MAX_PROOF_BYTES)  # refuse before parsing megabytes we will not keep
    form = request.form.to_dict()
    member_id = string_field(form, "member_id", max_len=64)
    new_id_number = string_field(form, "new_id_number", max_len=32)
    reason = string_field(form, "reason", max_len=service.MAX_REASON)
    proof = _read_proof()
    req = service.file_request(services(), _principal(), member_id, new_id_number, reason, proof)
    return json_response(queries.detail(services(), _principal(), req.request_id), 201)


@bp.get("/v1/id-changes")
@require_role("platform", "local", "national")
def list_changes() -> Any:
    """Requests newest first, filtered by state / association / member, paginated by limit and offset."""
    state = request.args.get("state") or None
    if state is not None and state not in {s.value for s in State}:
        raise invalid_input(
            "state",
            f"must be one of {', '.join(s.value for s in State)}",
            f"必须是 {', '.join(s.value for s in State)} 之一",
        )
    limit = int_arg("limit", 1, queries.MAX_PAGE, queries.DEFAULT_PAGE)
    offset = int_arg("offset", 0, 10**9, 0)
    assert limit is not None and offset is not None  # both have defaults
    filters = queries.Filters(
        state=state,
        association=(request.args.get("association") or "")[:16] or None,
        member_id=(request.args.get("member_id") or "")[:64] or None,
        limit=limit,
        offset=offset,
    )
    return json_response(queries.list_requests(services(), _principal(), filters))


@bp.get("/v1/id-changes/<request_id>")
@require_role("platform", "local", "national")
def get_change(request_id: str) -> Any:
    """One request with its history (ID numbers masked for the platform)."""
    return json_response(queries.detail(services(), _principal(), request_id))


@bp.get("/v1/id-changes/<request_id>/proof")
@require_role("local", "national")
def get_proof(request_id: str) -> Any:
    """The proof document, for reviewers only (never the platform)."""
    data, mime, filename = queries.proof(services(), _principal(), request_id)
    response = Response(data, mimetype=mime)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return no_store(response)


def _move(request_id: str, action: Action, comment: str | None) -> Any:
    req, outcome = service.transition(services(), _principal(), request_id, action, comment)
    body = queries.detail(services(), _principal(), req.request_id)
    return json_response({**body, **outcome})


def _decision_body(choices: dict[str, Action]) -> tuple[Action, str]:
    body = json_object()
    action = decision(body.get("decision"), choices)
    return action, string_field(body, "comment", max_len=MAX_COMMENT, required=False)


@bp.post("/v1/id-changes/<request_id>/review")
@require_role("local")
def review(request_id: str) -> Any:
    """Local association: ``{"decision": "forward"|"reject", "comment"}`` (comment required to reject)."""
    action, comment = _decision_body(REVIEW_DECISIONS)
    return _move(request_id, action, comment)


@bp.post("/v1/id-changes/<request_id>/decision")
@require_role("national")
def decide(request_id: str) -> Any:
    """National association: ``{"decision": "approve"|"reject", "comment"}``; approval changes the member's number."""
    action, comment = _decision_body(NATIONAL_DECISIONS)
    return _move(request_id, action, comment)


@bp.post("/v1/id-changes/<request_id>/withdraw")
@require_role("platform")
def withdraw(request_id: str) -> Any:
    """Platform withdraws a request that is not final yet (optional JSON ``{"comment"}``)."""
    body = json_body(optional=True)  # read whatever the framing: a chunked body is checked too (#9.1)
    comment = string_field(body, "comment", max_len=MAX_COMMENT, required=False)
    return _move(request_id, Action.WITHDRAW, comment)


@bp.get("/v1/members/<member_id>")
@require_role("platform", "local", "national")
def get_member(member_id: str) -> Any:
    """A member with the masked current ID number, its history and any open change request, plus what
    other features add (``signals.member_view``: e.g. the face-verification lock state).  A local key
    sees only its own association's members (another's answers 404, like an unknown one)."""
    svc = services()
    principal = current_principal()
    assert principal is not None
    view = queries.member_view(svc, member_id)
    if principal.role == "local" and view.get("association") != principal.association:
        raise MEMBER_NOT_FOUND()
    for _receiver, extra in signals.member_view.send(svc, member_id=member_id):
        if isinstance(extra, dict):
            view.update(extra)
    return json_response(view)
