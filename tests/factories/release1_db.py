"""A database as release 1 (6c358b2; schema unchanged at ba37267) made and filled it.

Release 1 built its schema with ``Base.metadata.create_all`` plus two rows (``schema_info`` version 1,
the audit chain's genesis head) and chained audit entries with plain SHA-256.  This module is a
frozen copy of those table definitions and of that hash, written against the release's code (not
against today's models, which move on): :func:`build` creates the schema exactly the way release 1
did and fills it with members, API keys, an ID record, document filings, an ID change in each
state with its events, the resulting ID-number history, and a legacy audit chain.  It returns the
API keys in clear (only their hashes are stored) so tests can call the service as those callers.

tests/core/test_migrations.py checks that this frozen schema is exactly the baseline migration.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    text,
)

RELEASE_1 = MetaData()
TS = DateTime(timezone=True)

schema_info = Table(
    "schema_info", RELEASE_1, Column("id", Integer, primary_key=True), Column("version", Integer, nullable=False)
)
members = Table(
    "members",
    RELEASE_1,
    Column("member_id", String(64), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("id_number", String(18), nullable=False, unique=True, index=True),
    Column("association", String(16), nullable=False, index=True),
    Column("openid", String(128), nullable=True),
    Column("openid_bound_at", TS, nullable=True),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)
member_id_history = Table(
    "member_id_history",
    RELEASE_1,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("member_id", String(64), ForeignKey("members.member_id"), nullable=False, index=True),
    Column("old_id_number", String(18), nullable=False),
    Column("new_id_number", String(18), nullable=False),
    Column("change_request_id", String(64), nullable=True),
    Column("changed_at", TS, nullable=False),
)
api_keys = Table(
    "api_keys",
    RELEASE_1,
    Column("key_id", String(16), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("role", String(16), nullable=False),
    Column("association", String(16), nullable=True),
    Column("key_hash", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("revoked_at", TS, nullable=True),
)
id_records = Table(
    "id_records",
    RELEASE_1,
    Column("id_number", String(18), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("encoding", LargeBinary, nullable=False),
    Column("source", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
)
audit_log = Table(
    "audit_log",
    RELEASE_1,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", TS, nullable=False),
    Column("event", String(64), nullable=False, index=True),
    Column("actor", String(128), nullable=False),
    Column("subject", String(128), nullable=False, index=True),
    Column("data", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
audit_head = Table(
    "audit_head",
    RELEASE_1,
    Column("id", Integer, primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("note", Text, nullable=False),
)
document_filings = Table(
    "document_filings",
    RELEASE_1,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("member_id", String(64), ForeignKey("members.member_id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("original_sha256", String(64), nullable=False),
    Column("original_format", String(8), nullable=False),
    Column("cleaned_sha256", String(64), nullable=False),
    Column("verdict", String(8), nullable=False),
    Column("dpi_source", String(16), nullable=False),
    Column("result", JSON, nullable=False),
    Column("filed_by", String(128), nullable=False),
    Column("filed_at", TS, nullable=False),
    Column("superseded_at", TS, nullable=True),
    Index("ix_document_filings_member_kind", "member_id", "kind", "id"),
)
_OPEN = text("state IN ('submitted', 'forwarded')")
id_change_requests = Table(
    "id_change_requests",
    RELEASE_1,
    Column("request_id", String(32), primary_key=True),
    Column("member_id", String(64), ForeignKey("members.member_id"), nullable=False, index=True),
    Column("association", String(16), nullable=False, index=True),
    Column("old_id_number", String(18), nullable=False),
    Column("new_id_number", String(18), nullable=False),
    Column("reason", Text, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("proof_sha256", String(64), nullable=False, index=True),
    Column("proof_mime", String(32), nullable=False),
    Column("proof_size", Integer, nullable=False),
    Column("filed_by", String(128), nullable=False),
    Column("created_at", TS, nullable=False, index=True),
    Column("updated_at", TS, nullable=False),
    Index("uq_id_change_open_per_member", "member_id", unique=True, sqlite_where=_OPEN, postgresql_where=_OPEN),
)
id_change_events = Table(
    "id_change_events",
    RELEASE_1,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(32), ForeignKey("id_change_requests.request_id"), nullable=False, index=True),
    Column("action", String(32), nullable=False),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("comment", Text, nullable=False),
    Column("at", TS, nullable=False),
)


def release1_digest(prev_hash: str, seq: int, at: datetime, event: str, actor: str, subject: str, data: Any) -> str:
    """Release 1's audit hash (idsvc/audit.py ``_digest`` at 6c358b2), with its naive-UTC time."""
    naive = at.astimezone(UTC).replace(tzinfo=None)
    body = json.dumps(
        [prev_hash, seq, naive.isoformat(timespec="microseconds"), event, actor, subject, data],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _id(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


# Members: one per ID-change state (at most one open request each), plus a legacy 15-digit number.
NUMBERS = {
    "m-submitted": _id("11010119900307851"),
    "m-forwarded": _id("11010119850612123"),
    "m-approved": _id("31010419800101123"),
    "m-rejected": _id("44030519751130002"),
    "m-withdrawn": _id("11010519491231002"),
    "m-legacy": "310104500101123",
}
APPROVED_NEW = _id("31010519800101123")
STATES = ("submitted", "forwarded", "approved", "rejected", "withdrawn")
# Actions (from, to, role) that lead from submission to each state.
PATHS: dict[str, list[tuple[str, str, str]]] = {
    "submitted": [],
    "forwarded": [("forward", "submitted", "local")],
    "approved": [("forward", "submitted", "local"), ("approve", "forwarded", "national")],
    "rejected": [("local_reject", "submitted", "local")],
    "withdrawn": [("forward", "submitted", "local"), ("withdraw", "forwarded", "platform")],
}


@dataclass
class Release1:
    keys: dict[str, str]  # role (and "revoked") -> the key in clear
    audit_entries: int
    request_ids: dict[str, str]  # state -> request_id
    blobs: list[bytes]  # the filings' and proofs' files, for the blob store (which lives outside SQL)


def _key(key_id: str, role: str) -> tuple[str, str]:
    key = f"idsvc_{key_id}_{hashlib.sha256(role.encode()).hexdigest()[:43]}"
    return key, hashlib.sha256(key.encode()).hexdigest()


def build(url: str) -> Release1:
    """Create release 1's schema on an empty database at ``url`` and fill it."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    t0 = datetime(2026, 11, 20, 9, 30, 0, 123456, tzinfo=UTC)
    audit_rows: list[dict[str, Any]] = []

    def audit(event: str, actor: str, subject: str, data: dict[str, Any]) -> None:
        seq = len(audit_rows) + 1
        prev = audit_rows[-1]["hash"] if audit_rows else "0" * 64
        at = t0 + timedelta(minutes=seq, microseconds=seq * 7)
        digest = release1_digest(prev, seq, at, event, actor, subject, data)
        audit_rows.append(
            dict(seq=seq, at=at, event=event, actor=actor, subject=subject, data=data, prev_hash=prev, hash=digest)
        )

    blobs: list[bytes] = []

    def blob(label: str) -> str:
        data = f"release-1 file: {label}".encode()
        blobs.append(data)
        return hashlib.sha256(data).hexdigest()

    keys: dict[str, str] = {}
    key_rows = []
    for key_id, role, name, association, revoked in [
        ("a1b2c3d4e5f6", "platform", "会员门户", None, None),
        ("0a0b0c0d0e0f", "local", "北京协会", "11", None),
        ("111122223333", "national", "全国中心", None, None),
        ("deadbeef0001", "revoked", "旧门户", None, t0 + timedelta(days=1)),
    ]:
        key, key_hash = _key(key_id, role)
        keys[role] = key
        stored_role = "platform" if role == "revoked" else role
        key_rows.append(
            dict(
                key_id=key_id,
                name=name,
                role=stored_role,
                association=association,
                key_hash=key_hash,
                created_at=t0,
                revoked_at=revoked,
            )
        )
        audit("apikey.created", "cli", key_id, {"name": name, "role": stored_role, "association": association})
    member_rows = []
    for i, (member_id, number) in enumerate(NUMBERS.items()):
        member_rows.append(
            dict(
                member_id=member_id,
                name=["张三", "李四", "王五", "赵六", "孙七", "周八"][i],
                id_number=APPROVED_NEW if member_id == "m-approved" else number,
                association="11" if member_id != "m-rejected" else "44",
                openid=f"o_openid_{i}" if i % 2 == 0 else None,
                openid_bound_at=t0 + timedelta(hours=i) if i % 2 == 0 else None,
                created_at=t0,
                updated_at=t0 + timedelta(days=2),
            )
        )
        audit("member.added", "cli", f"member:{member_id}", {"id_number": number[:6] + "****", "association": "11"})

    requests, events, history = [], [], []
    request_ids = {}
    for n, state in enumerate(STATES):
        member_id = f"m-{state}"
        rid = f"chg{n:02d}" + "0123456789abcdef0123456789"[: 32 - 5]
        request_ids[state] = rid
        at = t0 + timedelta(hours=3, minutes=n)
        old, new = NUMBERS[member_id], (APPROVED_NEW if state == "approved" else _id(f"4403051999010{n}123"))
        requests.append(
            dict(
                request_id=rid,
                member_id=member_id,
                association="44" if state == "rejected" else "11",
                old_id_number=old,
                new_id_number=new,
                reason="公安机关更正身份证号码",
                state=state,
                proof_sha256=blob(f"proof {n}"),
                proof_mime="application/pdf",
                proof_size=2048 + n,
                filed_by="platform:会员门户",
                created_at=at,
                updated_at=at + timedelta(minutes=len(PATHS[state])),
            )
        )
        events.append(
            dict(
                request_id=rid,
                action="submit",
                from_state=None,
                to_state="submitted",
                actor="platform:会员门户",
                role="platform",
                key_id="a1b2c3d4e5f6",
                comment="",
                at=at,
            )
        )
        audit("idchange.submitted", "platform:会员门户", f"idchange:{rid}", {"member_id": member_id})
        for step, (action, source, role) in enumerate(PATHS[state], start=1):
            target = {
                "forward": "forwarded",
                "approve": "approved",
                "local_reject": "rejected",
                "withdraw": "withdrawn",
            }[action]
            comment = "材料不全，请补充" if action == "local_reject" else ""
            events.append(
                dict(
                    request_id=rid,
                    action=action,
                    from_state=source,
                    to_state=target,
                    actor=f"{role}:reviewer",
                    role=role,
                    key_id={"local": "0a0b0c0d0e0f", "national": "111122223333", "platform": "a1b2c3d4e5f6"}[role],
                    comment=comment,
                    at=at + timedelta(minutes=step),
                )
            )
            audit(
                f"idchange.{target}",
                f"{role}:reviewer",
                f"idchange:{rid}",
                {"action": action, "from_state": source, "to_state": target, "comment": comment},
            )
        if state == "approved":
            history.append(
                dict(
                    member_id=member_id,
                    old_id_number=old,
                    new_id_number=new,
                    change_request_id=rid,
                    changed_at=at + timedelta(minutes=2),
                )
            )
            audit("member.id_number_changed", "national:reviewer", f"member:{member_id}", {"request_id": rid})

    filings = []
    for n, (kind, verdict, superseded) in enumerate(
        [("signature", "pass", t0 + timedelta(days=1)), ("signature", "warn", None), ("seal", "pass", None)]
    ):
        filings.append(
            dict(
                member_id="m-submitted",
                kind=kind,
                original_sha256=blob(f"original {n}"),
                original_format="png" if n else "jpeg",
                cleaned_sha256=blob(f"cleaned {n}"),
                verdict=verdict,
                dpi_source="exif",
                result={"verdict": verdict, "checks": [{"name": "ink", "ok": True, "value": 0.42 + n}], "说明": "签名"},
                filed_by="platform:会员门户",
                filed_at=t0 + timedelta(hours=5, minutes=n),
                superseded_at=superseded,
            )
        )
        audit(f"documents.{kind}.filed", "platform:会员门户", "member:m-submitted", {"verdict": verdict})

    with engine.begin() as conn:
        RELEASE_1.create_all(conn)
        conn.execute(insert(schema_info), [{"id": 1, "version": 1}])
        conn.execute(insert(api_keys), key_rows)
        conn.execute(insert(members), member_rows)
        conn.execute(
            insert(id_records),
            [
                dict(
                    id_number=APPROVED_NEW,
                    name="王五",
                    encoding=np.random.default_rng(5).normal(size=128).astype(np.float64).tobytes(),
                    source="enrolment",
                    created_at=t0,
                )
            ],
        )
        conn.execute(insert(id_change_requests), requests)
        conn.execute(insert(id_change_events), events)
        conn.execute(insert(member_id_history), history)
        conn.execute(insert(document_filings), filings)
        conn.execute(insert(audit_log), audit_rows)
        conn.execute(
            insert(audit_head), [{"id": 1, "seq": len(audit_rows), "hash": audit_rows[-1]["hash"], "note": ""}]
        )
    engine.dispose()
    return Release1(keys=keys, audit_entries=len(audit_rows), request_ids=request_ids, blobs=blobs)


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of release 1's tables (release 1's columns only), sorted: compare before and after."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in RELEASE_1.sorted_tables:
            rows = conn.execute(table.select()).all()
            out[table.name] = sorted((tuple(_plain(v) for v in row) for row in rows), key=repr)
    engine.dispose()
    return out


def _plain(value: Any) -> Any:
    # Compare instants, whichever way the driver hands them back.
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return value
