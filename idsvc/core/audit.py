"""The keyed, hash-chained audit log of security events.

Each entry's hash covers its own content and the previous entry's hash, so editing or deleting
any row breaks every later link; :func:`verify` finds the first broken one.  Appends lock the
single ``audit_head`` row so that concurrent writers queue instead of forking the chain.

Schemes (``audit_log.scheme``, README "Audit log"):

- ``hmac-sha256``: every entry written now.  HMAC-SHA256 with the audit key
  (:meth:`Settings.audit_signing_key`), which the database does not hold: someone who can only write
  the database cannot forge or re-link an entry.
- ``sha256``: entries written before migration 0002, unkeyed; they keep verifying as they were
  written.  The upgrade that applies 0002 *seals* them: ``audit_head.note`` gets an HMAC of the last
  legacy entry (:func:`legacy_seal`), so legacy entries are accepted only up to that sequence and only
  with that hash.  Relabelling keyed entries as ``sha256`` and re-hashing them therefore fails, and so
  does editing a legacy entry (its re-hashed successors no longer reach the sealed hash).

What a keyed chain cannot show by itself is that its *tail* was cut off (delete the last entries
and move ``audit_head`` back), or that the unkeyed legacy part was rewritten and re-hashed.
:func:`checkpoint` signs the head (sequence, hash, time) for an operator to store elsewhere;
``verify(..., checkpoint=…)`` proves that everything up to it is still there and unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from idsvc.core.db import AUDIT_KEY_INFO, AuditEntry, AuditHead, utcnow

GENESIS = "0" * 64
LEGACY = "sha256"
KEYED = "hmac-sha256"
CHECKPOINT_FORMAT = "idsvc-audit-checkpoint/1"


class AuditKeyMissing(RuntimeError):
    """The session does not come from a Database built with an audit key."""


class CheckpointInvalid(ValueError):
    """A checkpoint file is malformed, or its signature does not hold under this audit key."""


def _body(prev_hash: str, seq: int, at: datetime, event: str, actor: str, subject: str, data: dict[str, Any]) -> bytes:
    return json.dumps(
        [prev_hash, seq, at.isoformat(timespec="microseconds"), event, actor, subject, data],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def _digest(scheme: str, key: bytes | None, body: bytes) -> str:
    if scheme == KEYED:
        if key is None:
            raise AuditKeyMissing(
                "no audit key: open sessions from Database(url, audit_key=settings.audit_signing_key())"
            )
        return hmac.new(key, body, hashlib.sha256).hexdigest()
    if scheme == LEGACY:
        return hashlib.sha256(body).hexdigest()
    raise ValueError(f"unknown audit hash scheme {scheme!r}")


def _naive_utc(at: datetime) -> datetime:
    # SQLite hands back naive datetimes; hash one canonical form so both backends verify alike.
    return at.replace(tzinfo=None) if at.tzinfo is None else at.astimezone(UTC).replace(tzinfo=None)


def _key(session: Session) -> bytes | None:
    key = session.info.get(AUDIT_KEY_INFO)
    return key if isinstance(key, bytes) else None


def record(session: Session, event: str, actor: str, subject: str, data: dict[str, Any] | None = None) -> AuditEntry:
    """Append one event inside the caller's transaction.  Never put a full ID number in ``data``."""
    key = _key(session)
    if key is None:  # fail before taking the head lock
        raise AuditKeyMissing("no audit key: open sessions from Database(url, audit_key=settings.audit_signing_key())")
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    seq = head.seq + 1
    at = utcnow()
    payload = dict(data or {})
    digest = _digest(KEYED, key, _body(head.hash, seq, _naive_utc(at), event, actor, subject, payload))
    entry = AuditEntry(
        seq=seq,
        at=at,
        event=event,
        actor=actor,
        subject=subject,
        data=payload,
        prev_hash=head.hash,
        hash=digest,
        scheme=KEYED,
    )
    session.add(entry)
    head.seq = seq
    head.hash = digest
    return entry


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement "the chain had ``seq`` entries, the last hashing to ``hash``, at ``at``"."""

    seq: int
    hash: str
    at: str
    signature: str = ""

    def _signed_part(self) -> bytes:
        return json.dumps(
            {"format": CHECKPOINT_FORMAT, "seq": self.seq, "hash": self.hash, "at": self.at},
            sort_keys=True,
            separators=(",", ":"),
        ).encode()

    def sign(self, key: bytes) -> Checkpoint:
        mac = hmac.new(key, b"checkpoint\x00" + self._signed_part(), hashlib.sha256).hexdigest()
        return Checkpoint(self.seq, self.hash, self.at, mac)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": CHECKPOINT_FORMAT,
                "seq": self.seq,
                "hash": self.hash,
                "at": self.at,
                "signature": self.signature,
            }
        )

    @classmethod
    def from_json(cls, text: str, key: bytes) -> Checkpoint:
        """Parse and check the signature; raise :class:`CheckpointInvalid` unless it holds under ``key``."""
        try:
            raw = json.loads(text)
            if not isinstance(raw, dict) or raw.get("format") != CHECKPOINT_FORMAT:
                raise CheckpointInvalid(f"not an idsvc audit checkpoint (format {CHECKPOINT_FORMAT})")
            seq, digest, at, signature = raw["seq"], raw["hash"], raw["at"], raw["signature"]
        except (ValueError, KeyError, TypeError) as exc:
            raise CheckpointInvalid(f"malformed checkpoint: {exc}") from exc
        if not (isinstance(seq, int) and seq >= 0 and all(isinstance(v, str) for v in (digest, at, signature))):
            raise CheckpointInvalid("malformed checkpoint: seq must be a count, hash/at/signature strings")
        cp = cls(seq, digest, at)
        if not hmac.compare_digest(cp.sign(key).signature.encode(), signature.encode()):
            raise CheckpointInvalid("checkpoint signature does not hold under this audit key (edited, or another key)")
        return Checkpoint(seq, digest, at, signature)


SEAL_PREFIX = "legacy-seal/1"


def legacy_seal(key: bytes, seq: int, digest: str) -> str:
    """``audit_head.note`` after 0002: "the unkeyed entries end at ``seq``, hashing to ``digest``"."""
    mac = hmac.new(key, f"legacy-seal\x00{seq}:{digest}".encode(), hashlib.sha256).hexdigest()
    return f"{SEAL_PREFIX} {seq} {digest} {mac}"


def _read_seal(note: str, key: bytes | None) -> tuple[int, str] | None:
    parts = note.split()
    if len(parts) != 4 or parts[0] != SEAL_PREFIX or not parts[1].isdigit() or key is None:
        return None
    seq, digest = int(parts[1]), parts[2]
    if not hmac.compare_digest(legacy_seal(key, seq, digest).encode(), note.strip().encode()):
        return None
    return seq, digest


def checkpoint(session: Session) -> Checkpoint:
    """Sign the current head.  Verify the chain first: a checkpoint of a broken chain proves nothing."""
    key = _key(session)
    if key is None:
        raise AuditKeyMissing("no audit key: open sessions from Database(url, audit_key=settings.audit_signing_key())")
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    at = utcnow().isoformat(timespec="seconds").replace("+00:00", "Z")
    return Checkpoint(head.seq, head.hash, at).sign(key)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_broken_seq: int | None = None
    problem: str = ""
    legacy: int = 0  # entries under the unkeyed sha256 scheme (written before the upgrade)
    checkpoint_seq: int | None = None  # the checkpoint this run proved, if one was given


def verify(session: Session, checkpoint: Checkpoint | None = None) -> ChainReport:
    """Walk the chain from the start; report the first entry whose link, scheme or content does not hold.

    With a ``checkpoint``: the entry at its ``seq`` must still hash to its ``hash`` (so, through the
    links, nothing at or before it was changed or removed), and every later entry must be keyed (this
    code signed the checkpoint, and writes nothing but keyed entries).
    """
    key = _key(session)
    prev = GENESIS
    count = legacy = 0
    expected_seq = 1
    keyed_seen = False
    cp_seq = checkpoint.seq if checkpoint else None
    head = session.get(AuditHead, 1)
    seal = _read_seal(head.note, key) if head is not None else None

    def broken(seq: int, problem: str) -> ChainReport:
        return ChainReport(False, count, seq, problem, legacy)

    if checkpoint is not None and checkpoint.seq == 0 and checkpoint.hash != GENESIS:
        return broken(1, "checkpoint of an empty chain must name the genesis hash")
    for entry in session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars():
        if entry.seq != expected_seq:
            return broken(expected_seq, f"entry {expected_seq} is missing")
        if entry.prev_hash != prev:
            return broken(entry.seq, "prev_hash does not match the previous entry")
        if entry.scheme == KEYED:
            keyed_seen = True
        elif entry.scheme == LEGACY:
            if keyed_seen:
                return broken(entry.seq, "an unkeyed (sha256) entry after a keyed one")
            if seal is None:
                return broken(
                    entry.seq, "unkeyed (sha256) entry, but the legacy seal of the upgrade is missing or forged"
                )
            if entry.seq > seal[0]:
                return broken(entry.seq, f"unkeyed (sha256) entry after the sealed legacy part (1..{seal[0]})")
            if cp_seq is not None and entry.seq > cp_seq:
                return broken(entry.seq, f"an unkeyed (sha256) entry after the checkpoint at {cp_seq}")
        else:
            return broken(entry.seq, f"unknown hash scheme {entry.scheme!r}")
        body = _body(prev, entry.seq, _naive_utc(entry.at), entry.event, entry.actor, entry.subject, entry.data)
        try:
            digest = _digest(entry.scheme, key, body)
        except AuditKeyMissing:
            return broken(entry.seq, "keyed entry but no audit key to check it with")
        if not hmac.compare_digest(digest.encode(), entry.hash.encode()):
            hint = (
                " (or IDSVC_AUDIT_KEY/IDSVC_SECRET_KEY is not the one that wrote it)" if entry.scheme == KEYED else ""
            )
            return broken(entry.seq, "content does not match its hash" + hint)
        if seal is not None and entry.seq == seal[0] and entry.hash != seal[1]:
            return broken(entry.seq, "the legacy part was rewritten: its last entry differs from the sealed hash")
        if checkpoint is not None and entry.seq == checkpoint.seq and entry.hash != checkpoint.hash:
            return broken(entry.seq, f"entry {entry.seq} differs from the checkpoint taken at {checkpoint.at}")
        prev = entry.hash
        count += 1
        legacy += entry.scheme == LEGACY
        expected_seq += 1
    if checkpoint is not None and count < checkpoint.seq:
        return broken(count + 1, f"entries {count + 1}..{checkpoint.seq} recorded by the checkpoint are gone")
    if seal is not None and count < seal[0]:
        return broken(count + 1, f"legacy entries {count + 1}..{seal[0]} recorded by the seal are gone")
    if head is not None and (head.seq != count or head.hash != prev):
        return broken(count + 1, "the chain head says entries after this one were removed")
    return ChainReport(True, count, legacy=legacy, checkpoint_seq=cp_seq)
