"""Filing: check an upload and, when nothing FAILs, store the original and the cleaned PNG.

Blobs go to the content-addressed store (sha256 names), metadata to SQL; the previous filing of
the same kind is marked superseded, never deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from idsvc.core import audit
from idsvc.core.blobs import BlobStore
from idsvc.core.db import Database, Member, utcnow
from idsvc.core.errors import MEMBER_NOT_FOUND

from .api import check_seal, check_signature
from .config import SealTemplate
from .errors import DOCUMENT_REJECTED
from .models import DocumentFiling
from .result import Result, Verdict

KINDS = ("signature", "seal")


@dataclass(frozen=True)
class Filed:
    filing: DocumentFiling
    result: Result


def current(session: Session, member_id: str, kind: str) -> DocumentFiling | None:
    return session.scalars(
        select(DocumentFiling)
        .where(
            DocumentFiling.member_id == member_id, DocumentFiling.kind == kind, DocumentFiling.superseded_at.is_(None)
        )
        .order_by(DocumentFiling.id.desc())
        .limit(1)
    ).first()


def history(session: Session, member_id: str, kind: str) -> list[DocumentFiling]:
    return list(
        session.scalars(
            select(DocumentFiling)
            .where(DocumentFiling.member_id == member_id, DocumentFiling.kind == kind)
            .order_by(DocumentFiling.id.desc())
        )
    )


def get_member(session: Session, member_id: str) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise MEMBER_NOT_FOUND()
    return member


def run_check(
    kind: str, data: bytes, dpi: float | None, template: SealTemplate | None, reference_png: bytes | None
) -> Result:
    if kind == "signature":
        return check_signature(data, dpi=dpi, reference_png=reference_png)
    return check_seal(data, template, dpi=dpi)


def file_document(
    db: Database,
    blobs: BlobStore,
    member_id: str,
    kind: str,
    data: bytes,
    *,
    actor: str,
    dpi: float | None = None,
    template: Callable[[str], SealTemplate] | None = None,
) -> Filed:
    """Check and file; raises 422 ``document_rejected`` (details.result = the full result) on any FAIL.

    The image analysis (up to seconds for a large photo) runs between two short transactions, never
    inside one: a read (the member, the filing it would supersede), then the write.  ``template``
    builds the seal template from the member's name (the seal's text is compared with it).
    """
    with db.session() as session:
        member = get_member(session, member_id)
        prev = current(session, member_id, kind)
        prev_cleaned = prev.cleaned_sha256 if prev is not None else None
        name = member.name
    reference = blobs.get(prev_cleaned) if (prev_cleaned is not None and kind == "signature") else None
    seal_template = template(name) if (template is not None and kind == "seal") else None
    result = run_check(kind, data, dpi, seal_template, reference)
    if result.verdict is Verdict.FAIL or result.asset_png is None:
        failed = result.failed() or ["single_signature" if kind == "signature" else "complete"]
        raise DOCUMENT_REJECTED(
            {"failed": failed, "result": result.to_dict()},
            kind="签名" if kind == "signature" else "印章",
            kind_en=kind,
            reasons="；".join(c.message for c in result.checks if c.id in failed),
            reasons_en="; ".join(c.message_en for c in result.checks if c.id in failed),
        )
    original = blobs.put(data)
    cleaned = blobs.put(result.asset_png)
    with db.session() as session:
        get_member(session, member_id)  # still there
        latest = current(session, member_id, kind)  # a concurrent filing may have superseded prev_id
        now = utcnow()
        if latest is not None:
            latest.superseded_at = now
        row = DocumentFiling(
            member_id=member_id,
            kind=kind,
            original_sha256=original,
            original_format=str(result.image.get("format", "")),
            cleaned_sha256=cleaned,
            verdict=result.verdict.value,
            dpi_source=result.dpi_source,
            result=result.to_dict(),
            filed_by=actor,
            filed_at=now,
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            f"document.{kind}.filed",
            actor,
            f"member:{member_id}",
            {
                "filing_id": row.id,
                "verdict": row.verdict,
                "original": original,
                "cleaned": cleaned,
                "supersedes": latest.id if latest is not None else None,
            },
        )
    return Filed(row, result)


def filing_dict(row: DocumentFiling, base_path: str) -> dict[str, Any]:
    return {
        "filing_id": row.id,
        "member_id": row.member_id,
        "kind": row.kind,
        "verdict": row.verdict,
        "dpi_source": row.dpi_source,
        "filed_at": row.filed_at.isoformat(),
        "filed_by": row.filed_by,
        "superseded_at": row.superseded_at.isoformat() if row.superseded_at else None,
        "original_sha256": row.original_sha256,
        "cleaned_sha256": row.cleaned_sha256,
        "cleaned_png_url": f"{base_path}/cleaned.png?filing_id={row.id}",
        "original_url": f"{base_path}/original?filing_id={row.id}",
    }
