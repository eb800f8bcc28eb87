"""Durable records in SQL (SQLAlchemy 2): members, API keys, ID records, the audit chain.

Feature packages keep their own tables in ``idsvc/<feature>/models.py`` on the same
:class:`Base`; importing ``idsvc.features`` registers them all.  The schema itself is built and
changed only by the migrations in :mod:`idsvc.core.migrations` (README, "Upgrading"): a change to
a model here needs a new revision there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=True)}


class SchemaInfo(Base):
    """Release 1 refused any database whose ``version`` was not 1; migration 0002 sets 2, so that an
    old release never runs on an upgraded database.  Alembic's ``alembic_version`` is the history now."""

    __tablename__ = "schema_info"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class Member(Base):
    __tablename__ = "members"
    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # As given: a valid 18-digit number, or a legacy 15-digit one.
    id_number: Mapped[str] = mapped_column(String(18), unique=True, index=True)
    association: Mapped[str] = mapped_column(String(16), index=True)
    openid: Mapped[str | None] = mapped_column(String(128), nullable=True)
    openid_bound_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MemberIdHistory(Base):
    """Earlier ID numbers of a member, written when a change request is approved."""

    __tablename__ = "member_id_history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    old_id_number: Mapped[str] = mapped_column(String(18))
    new_id_number: Mapped[str] = mapped_column(String(18))
    change_request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"
    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    association: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # sha256 of the whole key: keys are 256-bit random, so a fast hash is enough.
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)


class IdRecord(Base):
    """The reference face of an ID number: an encoding, never the photo."""

    __tablename__ = "id_records"
    id_number: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    encoding: Mapped[bytes] = mapped_column(LargeBinary)
    source: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Append-only; each row holds the hash of the previous one (see idsvc.core.audit).

    ``scheme`` says how ``hash`` was computed: ``sha256`` (written before migration 0002, unkeyed) or
    ``hmac-sha256`` (keyed with the audit key, which the database does not hold).
    """

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    event: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(128))
    subject: Mapped[str] = mapped_column(String(128), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    scheme: Mapped[str] = mapped_column(String(16))


class AuditHead(Base):
    """One row that writers lock, so concurrent appends cannot fork the chain."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")


class SchemaMismatch(RuntimeError):
    """The database's schema is not the one this code was written for (see idsvc.core.migrations)."""


AUDIT_KEY_INFO = "idsvc_audit_key"


READ_ONLY = "idsvc_read_only"
BEST_EFFORT = "idsvc_best_effort"
BUSY_TIMEOUT_MS = 3000


class Database:
    """An engine plus a session factory; one per process.

    ``audit_key`` (from :meth:`Settings.audit_signing_key`) rides along in every session's ``info``
    so that :func:`idsvc.core.audit.record` can key the chain without every caller passing it.
    """

    def __init__(self, url: str, *, audit_key: bytes | None = None) -> None:
        self.url = url
        self.audit_key = audit_key
        self.engine: Engine = _make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, info={AUDIT_KEY_INFO: audit_key})

    @contextmanager
    def session(self, *, best_effort: bool = False) -> Iterator[Session]:
        """A transaction: commits when the block ends normally, rolls back on any exception.

        ``best_effort``: for writes that may be skipped (a key-use audit marker): on SQLite it waits
        0.2 s for the write lock instead of 3 s, so it never delays the request that needs it."""
        with self._sessions() as session, session.begin():
            if best_effort:
                session.connection(execution_options={BEST_EFFORT: True})
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction.  On SQLite it begins DEFERRED, so (in WAL mode) it reads while
        another connection holds the write lock: authentication keeps working during a long write."""
        with self._sessions() as session:
            session.connection(execution_options={READ_ONLY: True})
            try:
                yield session
            finally:
                session.rollback()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(select(1))

    def dispose(self) -> None:
        self.engine.dispose()


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # 3 s of waiting for the write lock, then 503: a request answers within seconds even when
        # a long write (or an outage) holds the database.
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, issue BEGIN, so we can make it IMMEDIATE below.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            # IMMEDIATE takes the write lock up front: read-then-write transactions (audit chain,
            # state transitions) serialise instead of failing with "database is locked".  A
            # read-only session (Database.read) begins DEFERRED and never waits for the lock.
            options = conn.get_execution_options()
            conn.exec_driver_sql(f"PRAGMA busy_timeout={200 if options.get(BEST_EFFORT) else BUSY_TIMEOUT_MS}")
            conn.exec_driver_sql("BEGIN" if options.get(READ_ONLY) else "BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
