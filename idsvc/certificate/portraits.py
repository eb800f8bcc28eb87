"""Portrait filing: check an upload against the member's ID-record face and, when nothing FAILs
and the face matches, store the original and the certificate crop (history kept, like signatures)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from idsvc.core import audit
from idsvc.core.blobs import BlobStore
from idsvc.core.db import utcnow
from idsvc.documents import Result, Verdict
from idsvc.liveness.records import load_reference

from .errors import FACE_MISMATCH, PORTRAIT_NOT_FOUND, PORTRAIT_REJECTED
from .members import get_member
from .models import PortraitFiling
from .portrait import check_portrait


@dataclass(frozen=True)
class FiledPortrait:
    filing: PortraitFiling
    result: Result


def current(session: Session, member_id: str) -> PortraitFiling | None:
    return session.scalars(
        select(PortraitFiling)
        .where(PortraitFiling.member_id == member_id, PortraitFiling.superseded_at.is_(None))
        .order_by(PortraitFiling.id.desc())
        .limit(1)
    ).first()


def history(session: Session, member_id: str) -> list[PortraitFiling]:
    return list(
        session.scalars(
            select(PortraitFiling).where(PortraitFiling.member_id == member_id).order_by(PortraitFiling.id.desc())
        )
    )


def pick(session: Session, member_id: str, filing_id: str | None) -> PortraitFiling:
    """The current filing, or the one named by ``filing_id`` (404 ``portrait_not_found``)."""
    if filing_id:
        row = session.get(PortraitFiling, int(filing_id)) if filing_id.isdigit() and len(filing_id) < 12 else None
        if row is None or row.member_id != member_id:
            raise PORTRAIT_NOT_FOUND({"filing_id": filing_id})
        return row
    row = current(session, member_id)
    if row is None:
        raise PORTRAIT_NOT_FOUND()
    return row


def check_for_member(session: Session, member_id: str, data: bytes) -> tuple[Result, bytes | None, str]:
    """Run the portrait checks against the member's ID-record face (404 for an unknown member)."""
    member = get_member(session, member_id)
    outcome = check_portrait(data, load_reference(session, member.id_number))
    return outcome.result, outcome.cleaned_jpeg, outcome.image_format


def file_portrait(session: Session, blobs: BlobStore, member_id: str, data: bytes, *, actor: str) -> FiledPortrait:
    """Check and file.  422 ``face_mismatch`` when the face is someone else's, 422
    ``portrait_rejected`` on any other FAIL (or a face that could not be compared); both carry
    ``details.failed`` and ``details.result``."""
    result, cleaned, fmt = check_for_member(session, member_id, data)
    match = result.check("face_match")
    failed = result.failed()
    details = {"failed": failed, "result": result.to_dict()}
    if match is not None and match.verdict is Verdict.FAIL and match.value is not None:
        raise FACE_MISMATCH(details)
    if failed or cleaned is None or match is None or match.verdict is not Verdict.PASS:
        reasons = [c for c in result.checks if c.verdict is Verdict.FAIL] or ([match] if match is not None else [])
        details["failed"] = [c.id for c in reasons]
        raise PORTRAIT_REJECTED(
            details,
            failed="；".join(c.message for c in reasons),
            failed_en="; ".join(c.message_en for c in reasons),
        )
    prev = current(session, member_id)
    original = blobs.put(data)
    cleaned_sha = blobs.put(cleaned)
    now = utcnow()
    if prev is not None:
        prev.superseded_at = now
    row = PortraitFiling(
        member_id=member_id,
        original_sha256=original,
        original_format=fmt[:8],
        cleaned_sha256=cleaned_sha,
        verdict=result.verdict.value,
        result=result.to_dict(),
        filed_by=actor,
        filed_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        "certificate.portrait.filed",
        actor,
        f"member:{member_id}",
        {
            "filing_id": row.id,
            "verdict": row.verdict,
            "distance": match.value,
            "original": original,
            "cleaned": cleaned_sha,
            "supersedes": prev.id if prev is not None else None,
        },
    )
    return FiledPortrait(row, result)


def filing_dict(row: PortraitFiling, base_path: str) -> dict[str, Any]:
    return {
        "filing_id": row.id,
        "member_id": row.member_id,
        "kind": "portrait",
        "verdict": row.verdict,
        "filed_at": row.filed_at.isoformat(),
        "filed_by": row.filed_by,
        "superseded_at": row.superseded_at.isoformat() if row.superseded_at else None,
        "original_sha256": row.original_sha256,
        "cleaned_sha256": row.cleaned_sha256,
        "cleaned_jpg_url": f"{base_path}/cleaned.jpg?filing_id={row.id}",
        "original_url": f"{base_path}/original?filing_id={row.id}",
    }
