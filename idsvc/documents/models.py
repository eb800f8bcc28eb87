"""SQL tables of idsvc.documents: one row per filed signature/seal scan.

Filings are never overwritten: a new filing supersedes the previous one (``superseded_at``), and
the previous rows stay as history.  Pixels live in the content-addressed blob store; the row
holds their sha256 and the full check result.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idsvc.core.db import Base, utcnow


class DocumentFiling(Base):
    __tablename__ = "document_filings"
    __table_args__ = (Index("ix_document_filings_member_kind", "member_id", "kind", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"))
    kind: Mapped[str] = mapped_column(String(16))  # "signature" | "seal"
    original_sha256: Mapped[str] = mapped_column(String(64))
    original_format: Mapped[str] = mapped_column(String(8))  # "jpeg" | "png"
    cleaned_sha256: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(8))  # "pass" | "warn" (a FAIL is never filed)
    dpi_source: Mapped[str] = mapped_column(String(16))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    filed_by: Mapped[str] = mapped_column(String(128))
    filed_at: Mapped[datetime] = mapped_column(default=utcnow)
    superseded_at: Mapped[datetime | None] = mapped_column(nullable=True)
