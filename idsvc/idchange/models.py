"""Tables of the ID-number change workflow: one row per request, one row per transition.

Proof documents live in the blob store; the request row holds their digest and sniffed type.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from idsvc.core.db import Base, utcnow

# At most one open request per member, enforced by the database itself (a partial unique index,
# which SQLite and PostgreSQL both support), so two concurrent filings cannot both commit.
_OPEN = text("state IN ('submitted', 'forwarded')")


class ChangeRequest(Base):
    __tablename__ = "id_change_requests"
    request_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    # Copied from the member when filed: the local reviewer's scope must not move with later edits.
    association: Mapped[str] = mapped_column(String(16), index=True)
    old_id_number: Mapped[str] = mapped_column(String(18))
    new_id_number: Mapped[str] = mapped_column(String(18))
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), index=True)
    proof_sha256: Mapped[str] = mapped_column(String(64), index=True)
    proof_mime: Mapped[str] = mapped_column(String(32))
    proof_size: Mapped[int] = mapped_column(Integer)
    filed_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("uq_id_change_open_per_member", "member_id", unique=True, sqlite_where=_OPEN, postgresql_where=_OPEN),
    )


class ChangeEvent(Base):
    """Who moved a request, when, from which state to which, and why."""

    __tablename__ = "id_change_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("id_change_requests.request_id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    key_id: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
