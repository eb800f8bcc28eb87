"""The hash-chained audit log of security events.

Each entry's hash covers its own content and the previous entry's hash, so editing or deleting
any row breaks every later link; :func:`verify` finds the first broken one.  Appends lock the
single ``audit_head`` row so that concurrent writers queue instead of forking the chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from idsvc.core.db import AuditEntry, AuditHead, utcnow

GENESIS = "0" * 64


def _digest(prev_hash: str, seq: int, at: datetime, event: str, actor: str, subject: str, data: dict[str, Any]) -> str:
    body = json.dumps(
        [prev_hash, seq, at.isoformat(timespec="microseconds"), event, actor, subject, data],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _naive_utc(at: datetime) -> datetime:
    # SQLite hands back naive datetimes; hash one canonical form so both backends verify alike.
    return at.replace(tzinfo=None) if at.tzinfo is None else at.astimezone(UTC).replace(tzinfo=None)


def record(session: Session, event: str, actor: str, subject: str, data: dict[str, Any] | None = None) -> AuditEntry:
    """Append one event inside the caller's transaction.  Never put a full ID number in ``data``."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    seq = head.seq + 1
    at = utcnow()
    payload = dict(data or {})
    digest = _digest(head.hash, seq, _naive_utc(at), event, actor, subject, payload)
    entry = AuditEntry(
        seq=seq, at=at, event=event, actor=actor, subject=subject, data=payload, prev_hash=head.hash, hash=digest
    )
    session.add(entry)
    head.seq = seq
    head.hash = digest
    return entry


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_broken_seq: int | None = None
    problem: str = ""


def verify(session: Session) -> ChainReport:
    """Walk the chain from the start; report the first entry whose link or content does not hold."""
    prev = GENESIS
    count = 0
    expected_seq = 1
    for entry in session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars():
        if entry.seq != expected_seq:
            return ChainReport(False, count, expected_seq, f"entry {expected_seq} is missing")
        if entry.prev_hash != prev:
            return ChainReport(False, count, entry.seq, "prev_hash does not match the previous entry")
        digest = _digest(prev, entry.seq, _naive_utc(entry.at), entry.event, entry.actor, entry.subject, entry.data)
        if digest != entry.hash:
            return ChainReport(False, count, entry.seq, "content does not match its hash")
        prev = entry.hash
        count += 1
        expected_seq += 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != count or head.hash != prev):
        return ChainReport(False, count, count + 1, "the chain head says entries after this one were removed")
    return ChainReport(True, count)
