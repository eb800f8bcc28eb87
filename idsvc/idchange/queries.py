"""Read side of the workflow: scoped lists, request and member views, proof download.

Reviewers (``local``, ``national``) see full ID numbers, since they compare them with the police
proof; everyone else gets them masked (first 6 and last 4 characters).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from idsvc.core import audit
from idsvc.core.apikeys import Principal
from idsvc.core.db import IdRecord, Member, MemberIdHistory
from idsvc.core.errors import MEMBER_NOT_FOUND, WRONG_ROLE
from idsvc.core.idnumber import mask, mask_in_text
from idsvc.core.services import Services
from idsvc.idchange.errors import ASSOCIATION_OUT_OF_SCOPE, PROOF_MISSING
from idsvc.idchange.models import ChangeEvent, ChangeRequest
from idsvc.idchange.proofs import EXTENSIONS
from idsvc.idchange.service import iso_z, load, open_request_of
from idsvc.idchange.workflow import FINAL, State

REVIEWER_ROLES = ("local", "national")
MAX_PAGE = 100
DEFAULT_PAGE = 20


def _number(value: str, reviewer: bool) -> str:
    return value if reviewer else mask(value)


def _text(value: str, reviewer: bool) -> str:
    """Free text (reason, comments) as stored for reviewers; ID numbers in it masked for everyone else."""
    return value if reviewer else mask_in_text(value)


def request_view(req: ChangeRequest, principal: Principal, events: list[ChangeEvent] | None = None) -> dict[str, Any]:
    reviewer = principal.role in REVIEWER_ROLES
    proof: dict[str, Any] = {"mime": req.proof_mime, "size": req.proof_size}
    if reviewer:
        proof.update(sha256=req.proof_sha256, url=f"/v1/id-changes/{req.request_id}/proof")
    body: dict[str, Any] = {
        "request_id": req.request_id,
        "member_id": req.member_id,
        "association": req.association,
        "state": req.state,
        "final": State(req.state) in FINAL,
        "old_id_number": _number(req.old_id_number, reviewer),
        "new_id_number": _number(req.new_id_number, reviewer),
        "reason": _text(req.reason, reviewer),
        "proof": proof,
        "filed_by": req.filed_by,
        "created_at": iso_z(req.created_at),
        "updated_at": iso_z(req.updated_at),
    }
    if events is not None:
        body["history"] = [
            {
                "action": e.action,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "actor": e.actor,
                "role": e.role,
                "comment": _text(e.comment, reviewer),
                "at": iso_z(e.at),
            }
            for e in events
        ]
    return body


def events_of(session: Session, request_id: str) -> list[ChangeEvent]:
    return list(
        session.execute(
            select(ChangeEvent).where(ChangeEvent.request_id == request_id).order_by(ChangeEvent.id)
        ).scalars()
    )


def detail(svc: Services, principal: Principal, request_id: str) -> dict[str, Any]:
    with svc.db.session() as s:
        req = load(s, principal, request_id)
        return request_view(req, principal, events_of(s, request_id))


@dataclass(frozen=True)
class Filters:
    state: str | None = None
    association: str | None = None
    member_id: str | None = None
    limit: int = DEFAULT_PAGE
    offset: int = 0


def list_requests(svc: Services, principal: Principal, f: Filters) -> dict[str, Any]:
    """Newest first; a local reviewer is held to its own association (403 if it asks for another)."""
    association = f.association
    if principal.role == "local":
        if association and association != principal.association:
            raise ASSOCIATION_OUT_OF_SCOPE({"association": association})
        association = principal.association
    conditions = []
    if f.state:
        conditions.append(ChangeRequest.state == f.state)
    if association:
        conditions.append(ChangeRequest.association == association)
    if f.member_id:
        conditions.append(ChangeRequest.member_id == f.member_id)
    with svc.db.session() as s:
        total = s.execute(select(func.count()).select_from(ChangeRequest).where(*conditions)).scalar_one()
        rows = s.execute(
            select(ChangeRequest)
            .where(*conditions)
            .order_by(ChangeRequest.created_at.desc(), ChangeRequest.request_id)
            .limit(f.limit)
            .offset(f.offset)
        ).scalars()
        items = [request_view(r, principal) for r in rows]
    next_offset = f.offset + len(items) if f.offset + len(items) < total else None
    return {"items": items, "total": total, "limit": f.limit, "offset": f.offset, "next_offset": next_offset}


def proof(svc: Services, principal: Principal, request_id: str) -> tuple[bytes, str, str]:
    """The proof's bytes, MIME type and a download name, for reviewers; each access is audited."""
    if principal.role not in REVIEWER_ROLES:
        raise WRONG_ROLE({"roles": list(REVIEWER_ROLES)}, roles=" | ".join(REVIEWER_ROLES))
    with svc.db.session() as s:
        req = load(s, principal, request_id)
        try:
            data = svc.blobs.get(req.proof_sha256)
        except FileNotFoundError:
            raise PROOF_MISSING({"reason": "missing"}) from None
        if hashlib.sha256(data).hexdigest() != req.proof_sha256:
            raise PROOF_MISSING({"reason": "digest_mismatch"})
        audit.record(
            s,
            "idchange.proof_viewed",
            principal.actor,
            f"idchange:{request_id}",
            {"request_id": request_id, "sha256": req.proof_sha256},
        )
        return data, req.proof_mime, f"proof-{request_id}.{EXTENSIONS.get(req.proof_mime, 'bin')}"


def member_view(svc: Services, member_id: str) -> dict[str, Any]:
    """A member with the masked current ID number, earlier numbers and any open change request."""
    with svc.db.session() as s:
        member = s.get(Member, member_id) if 0 < len(member_id) <= 64 else None
        if member is None:
            raise MEMBER_NOT_FOUND()
        history = s.execute(
            select(MemberIdHistory).where(MemberIdHistory.member_id == member_id).order_by(MemberIdHistory.id)
        ).scalars()
        record = s.get(IdRecord, member.id_number)
        pending = open_request_of(s, member_id)
        return {
            "member_id": member.member_id,
            "name": member.name,
            "association": member.association,
            "id_number": mask(member.id_number),
            "id_number_format": "legacy_15" if len(member.id_number) == 15 else "18",
            "id_record": {
                "enrolled": record is not None,
                "source": record.source if record else None,
                "enrolled_at": iso_z(record.created_at) if record else None,
            },
            "wechat_bound": member.openid is not None,
            "id_history": [
                {
                    "old_id_number": mask(h.old_id_number),
                    "new_id_number": mask(h.new_id_number),
                    "change_request_id": h.change_request_id,
                    "changed_at": iso_z(h.changed_at),
                }
                for h in history
            ],
            "open_id_change": {"request_id": pending.request_id, "state": pending.state} if pending else None,
        }
