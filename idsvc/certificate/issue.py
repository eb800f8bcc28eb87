"""The certificate gate, issue numbering, revocation, and what a verifier is told.

Plain Python (no Flask).  A certificate is *issued* the first time it is rendered for a given
content: the fields it prints and the filed portrait, seal and signature.  Rendering it again with
the same content returns the same issue (number, issue time, token); any change re-issues it under
the next number and marks the previous issue superseded.  The number is
``ZS-<member_no>-<seq, 2 digits>``: stable per member and issue.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from idsvc.core import audit
from idsvc.core.db import Base, Member
from idsvc.core.errors import ErrorSpec
from idsvc.documents import filing as document_filing
from idsvc.documents.models import DocumentFiling

from . import portraits
from .errors import (
    CERT_CUSTODY,
    CERT_ID_CHANGE_OPEN,
    CERT_INSPECTION_FAILED,
    CERT_MEMBER_NO_MISSING,
    CERT_NOT_PRACTISING,
    CERT_PORTRAIT_MISSING,
    CERT_RESIGNED,
    CERT_SEAL_MISSING,
    CERT_SIGNATURE_MISSING,
)
from .members import Status, get_member, status_of
from .models import Certificate, MemberProfile, PortraitFiling
from .signing import Signer, Statement

_STANDING_GATES: dict[str, ErrorSpec] = {
    "custody": CERT_CUSTODY,
    "resigned": CERT_RESIGNED,
    "inspection_failed": CERT_INSPECTION_FAILED,
}
# States of the ID-change workflow that are still open (idsvc.idchange's ``OPEN``).  The table is
# read through the shared metadata: the two features are independent siblings in the layers.
_ID_CHANGE_TABLE = "id_change_requests"
_ID_CHANGE_OPEN = ("submitted", "forwarded")


@dataclass(frozen=True)
class Assets:
    portrait: PortraitFiling
    seal: DocumentFiling
    signature: DocumentFiling


@dataclass(frozen=True)
class Issued:
    certificate: Certificate
    member: Member
    status: Status
    assets: Assets
    token: str
    new: bool


def blocking_reasons(session: Session, member: Member, status: Status) -> list[ErrorSpec]:
    """Every reason the member may not print the certificate now, most fundamental first."""
    reasons: list[ErrorSpec] = []
    gate = _STANDING_GATES.get(status.standing)
    if gate is not None:
        reasons.append(gate)
    if status.category == "non_practising":
        reasons.append(CERT_NOT_PRACTISING)
    if id_change_open(session, member.member_id):
        reasons.append(CERT_ID_CHANGE_OPEN)
    if not status.member_no:
        reasons.append(CERT_MEMBER_NO_MISSING)
    if portraits.current(session, member.member_id) is None:
        reasons.append(CERT_PORTRAIT_MISSING)
    if document_filing.current(session, member.member_id, "seal") is None:
        reasons.append(CERT_SEAL_MISSING)
    if document_filing.current(session, member.member_id, "signature") is None:
        reasons.append(CERT_SIGNATURE_MISSING)
    return reasons


def id_change_open(session: Session, member_id: str) -> bool:
    table = Base.metadata.tables.get(_ID_CHANGE_TABLE)
    if table is None:  # the idchange feature is not installed
        return False
    count = session.execute(
        select(func.count())
        .select_from(table)
        .where(table.c.member_id == member_id, table.c.state.in_(_ID_CHANGE_OPEN))
    ).scalar_one()
    return bool(count)


def check_gate(session: Session, member_id: str) -> tuple[Member, Status]:
    """The member and status, or the first blocking 409 (``details.reasons`` lists every code)."""
    member = get_member(session, member_id)
    status = status_of(session, member_id)
    reasons = blocking_reasons(session, member, status)
    if reasons:
        raise reasons[0](
            {"reasons": [r.code for r in reasons], "standing": status.standing, "category": status.category}
        )
    return member, status


def _snapshot(association: str, member: Member, status: Status, assets: Assets) -> dict[str, Any]:
    return {
        "association": association,
        "name": member.name,
        "id_number_sha256": hashlib.sha256(member.id_number.encode()).hexdigest(),
        "member_no": status.member_no,
        "firm": status.firm,
        "category": status.category,
        "portrait": assets.portrait.cleaned_sha256,
        "seal": assets.seal.cleaned_sha256,
        "signature": assets.signature.cleaned_sha256,
    }


def current_issue(session: Session, member_id: str) -> Certificate | None:
    return session.scalars(
        select(Certificate)
        .where(
            Certificate.member_id == member_id, Certificate.superseded_at.is_(None), Certificate.revoked_at.is_(None)
        )
        .order_by(Certificate.seq.desc())
        .limit(1)
    ).first()


def issue(session: Session, signer: Signer, association: str, member_id: str, *, actor: str, now: float) -> Issued:
    """Pass the gate and return the member's current issue, re-issuing when its content changed."""
    member, status = check_gate(session, member_id)
    session.get(MemberProfile, member_id, with_for_update=True)  # serialise concurrent issues
    assets = Assets(
        portrait=_required(portraits.current(session, member_id)),
        seal=_required(document_filing.current(session, member_id, "seal")),
        signature=_required(document_filing.current(session, member_id, "signature")),
    )
    snapshot = _snapshot(association, member, status, assets)
    cur = current_issue(session, member_id)
    assert status.member_no is not None
    if cur is not None and cur.snapshot == snapshot:
        return Issued(
            cur, member, status, assets, signer.sign(cur.cert_no, cur.member_no, cur.name, cur.issued_at), False
        )
    seq = (session.scalar(select(func.max(Certificate.seq)).where(Certificate.member_id == member_id)) or 0) + 1
    issued_at = datetime.fromtimestamp(int(now), UTC)
    row = Certificate(
        cert_no=f"ZS-{status.member_no}-{seq:02d}",
        member_id=member_id,
        seq=seq,
        member_no=status.member_no,
        name=member.name,
        snapshot=snapshot,
        issued_at=issued_at,
        issued_by=actor,
    )
    if cur is not None:
        cur.superseded_at = issued_at
        cur.superseded_by = row.cert_no
    session.add(row)
    session.flush()
    audit.record(
        session,
        "certificate.issued",
        actor,
        f"member:{member_id}",
        {"certificate_no": row.cert_no, "supersedes": cur.cert_no if cur is not None else None},
    )
    return Issued(row, member, status, assets, signer.sign(row.cert_no, row.member_no, row.name, issued_at), True)


def _required(row: Any) -> Any:
    assert row is not None, "check_gate passed, so every asset is on file"
    return row


def revoke(session: Session, member_id: str, reason: str, *, actor: str, now: float) -> Certificate | None:
    """Revoke the member's current issue (None if there is none); the next render re-issues."""
    get_member(session, member_id)
    cur = current_issue(session, member_id)
    if cur is None:
        return None
    cur.revoked_at = datetime.fromtimestamp(int(now), UTC)
    cur.revoke_reason = reason
    audit.record(
        session, "certificate.revoked", actor, f"member:{member_id}", {"certificate_no": cur.cert_no, "reason": reason}
    )
    return cur


# -- what the public verification page says ---------------------------------------------------


@dataclass(frozen=True)
class Verification:
    state: str  # "valid" | "superseded" | "revoked" | "inactive" | "unknown"
    statement: Statement
    certificate: Certificate | None

    @property
    def valid(self) -> bool:
        return self.state == "valid"


def verification(session: Session, statement: Statement) -> Verification:
    """Validity *now*: the issue still current and the member's current status allows it."""
    cert = session.get(Certificate, statement.cert_no)
    if cert is None or cert.member_no != statement.member_no or cert.name != statement.name:
        return Verification("unknown", statement, None)
    if cert.revoked_at is not None:
        return Verification("revoked", statement, cert)
    if cert.superseded_at is not None:
        return Verification("superseded", statement, cert)
    status = status_of(session, cert.member_id)
    if status.standing != "active" or status.category == "non_practising":
        return Verification("inactive", statement, cert)
    return Verification("valid", statement, cert)


def mask_name(name: str) -> str:
    """张三丰 → 张*丰, 张三 → 张*, 欧阳娜娜 → 欧**娜; Latin names keep the first and last letter."""
    chars = list(name.strip())
    if len(chars) <= 1:
        return "*"
    if len(chars) == 2:
        return chars[0] + "*"
    return chars[0] + "*" * (len(chars) - 2) + chars[-1]
