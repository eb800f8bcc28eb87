"""SQL tables of idsvc.certificate: member status, portrait filings, issued certificates.

The member status lives in its own table keyed by ``member_id`` (``members`` belongs to the core);
a member without a row has the defaults of :data:`DEFAULT_STANDING` / :data:`DEFAULT_CATEGORY`.
Portraits are filed like signatures and seals: never overwritten, a new one supersedes the last.
A certificate row is one issue: its number never changes; a re-issue supersedes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idsvc.core.db import Base, utcnow

CATEGORIES = ("practising", "non_practising", "trainee")
STANDINGS = ("active", "custody", "resigned", "inspection_failed")
# A member filed before this feature existed is an ordinary practising member in good standing:
# the association only filed practising members' seals and signatures, and every other state
# (custody, resignation, failed inspection, non-practising) is an explicit act the portal records.
DEFAULT_CATEGORY = "practising"
DEFAULT_STANDING = "active"

CATEGORY_ZH = {"practising": "执业会员", "non_practising": "非执业会员", "trainee": "见习会员"}
STANDING_ZH = {"active": "正常", "custody": "协会代管", "resigned": "退会", "inspection_failed": "未通过年检"}


class MemberProfile(Base):
    __tablename__ = "member_profiles"

    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), primary_key=True)
    member_no: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    firm: Mapped[str | None] = mapped_column(String(200), nullable=True)
    category: Mapped[str] = mapped_column(String(16), default=DEFAULT_CATEGORY)
    standing: Mapped[str] = mapped_column(String(24), default=DEFAULT_STANDING)
    updated_by: Mapped[str] = mapped_column(String(128), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PortraitFiling(Base):
    __tablename__ = "portrait_filings"
    __table_args__ = (Index("ix_portrait_filings_member", "member_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"))
    original_sha256: Mapped[str] = mapped_column(String(64))
    original_format: Mapped[str] = mapped_column(String(8))  # "jpeg" | "png"
    cleaned_sha256: Mapped[str] = mapped_column(String(64))  # JPEG cropped to the certificate's 3:4
    verdict: Mapped[str] = mapped_column(String(8))  # "pass" | "warn" (a FAIL is never filed)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    filed_by: Mapped[str] = mapped_column(String(128))
    filed_at: Mapped[datetime] = mapped_column(default=utcnow)
    superseded_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Certificate(Base):
    """One issue of a member's certificate.  ``snapshot`` holds what was printed (sha256 of the
    portrait, seal and signature, and the text fields): a certificate is re-issued, under a new
    number, only when that changes or the previous one was revoked."""

    __tablename__ = "certificates"
    __table_args__ = (Index("ix_certificates_member", "member_id", "seq"),)

    cert_no: Mapped[str] = mapped_column(String(48), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"))
    seq: Mapped[int] = mapped_column(Integer)
    member_no: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by: Mapped[str] = mapped_column(String(128))
    superseded_at: Mapped[datetime | None] = mapped_column(nullable=True)
    superseded_by: Mapped[str | None] = mapped_column(String(48), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
