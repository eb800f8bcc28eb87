"""Schema migrations with Alembic, run from Python (``idsvc db …``, start-up, tests); no alembic.ini.

The revisions live in ``versions/`` next to this file and ship inside the package.  ``0001`` is the
schema of release 1 exactly (``schema_info.version = 1``, built by ``create_all``): a database made by
that release is *adopted* — stamped at ``0001`` without touching a row — and then upgraded like any
other.  Production refuses to start on a database behind the code (:func:`require_current`); the
development and test environments upgrade on start (:func:`prepare`).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, inspect, select, text, update

from idsvc.core.audit import LEGACY, AuditKeyMissing, legacy_seal
from idsvc.core.db import AuditEntry, AuditHead, Database, SchemaMismatch

HERE = Path(__file__).resolve().parent
BASELINE = "0001"
KEYED_AUDIT = "0002"  # adds audit_log.scheme; the unkeyed entries before it are sealed by the upgrade
UPGRADE_COMMAND = "idsvc db upgrade"
# What release 1's create_all built: recognised by these tables and schema_info.version = 1.
RELEASE_1_TABLES = frozenset(
    {
        "schema_info",
        "members",
        "member_id_history",
        "api_keys",
        "id_records",
        "audit_log",
        "audit_head",
        "document_filings",
        "id_change_requests",
        "id_change_events",
    }
)


# Alembic's INFO lines ("Context impl SQLiteImpl.") would land in the service's JSON log at every start.
logging.getLogger("alembic").setLevel(logging.WARNING)


class SchemaBehind(SchemaMismatch):
    """The database is older than the code: run ``idsvc db upgrade``."""


class UnknownSchema(SchemaMismatch):
    """Tables this code cannot place in its history (another application, or a newer idsvc)."""


@dataclass(frozen=True)
class Status:
    current: str | None  # the Alembic revision; None for an empty or not yet adopted database
    head: str
    release_1: bool = False  # release 1's schema, adopted by the next upgrade
    pending: tuple[str, ...] = field(default=())

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    def describe(self) -> str:
        if self.up_to_date:
            return f"{self.current} (head): up to date"
        if self.release_1:
            where = "release 1 schema (schema_info.version = 1), not yet under Alembic"
        elif self.current is None:
            where = "empty database"
        else:
            where = self.current
        return f"{where}; code is at {self.head}: {len(self.pending)} migration(s) pending ({', '.join(self.pending)})"


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config(None))


def _config(connection: Connection | None, metadata: MetaData | None = None, stdout: Any = None) -> Config:
    cfg = Config(stdout=stdout or io.StringIO())
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = connection
    cfg.attributes["target_metadata"] = metadata
    return cfg


def head() -> str:
    rev = _scripts().get_current_head()
    assert rev is not None
    return rev


def history() -> list[str]:
    """One line per revision, newest first: ``id  message``."""
    lines = []
    for script in _scripts().walk_revisions():
        doc = (script.doc or "").strip().splitlines()[0] if script.doc else ""
        lines.append(f"{script.revision}  {doc}")
    return lines


def _pending(current: str | None) -> tuple[str, ...]:
    revs = [s.revision for s in _scripts().iterate_revisions(head(), current)]
    return tuple(reversed(revs))


def _inspect(conn: Connection) -> Status:
    tables = set(inspect(conn).get_table_names())
    if "alembic_version" in tables:
        current = MigrationContext.configure(conn).get_current_revision()
        try:
            if current is not None:
                _scripts().get_revision(current)
        except Exception as exc:  # alembic raises several kinds for an unknown id
            raise UnknownSchema(
                f"the database is at revision {current}, which this code does not know (made by a newer idsvc?)"
            ) from exc
        return Status(current, head(), pending=_pending(current))
    if not tables:
        return Status(None, head(), pending=_pending(None))
    if "schema_info" in tables:
        version = conn.execute(text("SELECT version FROM schema_info WHERE id = 1")).scalar()
        columns = {c["name"] for c in inspect(conn).get_columns("audit_log")} if "audit_log" in tables else set()
        missing = RELEASE_1_TABLES - tables
        if version == 1 and not missing and "scheme" not in columns:
            return Status(None, head(), release_1=True, pending=_pending(BASELINE))
        raise UnknownSchema(
            f"schema_info.version = {version} without Alembic history"
            + (f", tables missing: {sorted(missing)}" if missing else "")
            + ": not a schema this code can adopt"
        )
    raise UnknownSchema(f"the database has tables but none of idsvc's bookkeeping ({sorted(tables)[:5]} …)")


@contextmanager
def _migrating(db: Database) -> Iterator[Connection]:
    """A connection for DDL; on SQLite with foreign keys off while tables are copied (batch mode)."""
    with db.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # Outside any transaction (a PRAGMA inside one is ignored); env.py checks the keys after.
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            yield conn
        finally:
            if sqlite:
                conn.rollback()
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def status(db: Database) -> Status:
    with db.engine.connect() as conn:
        return _inspect(conn)


def upgrade(db: Database, target: str = "head") -> tuple[Status, Status]:
    """Adopt a release-1 database if need be, then upgrade, in one transaction; returns the status before and after.

    The run that applies 0002 also seals the unkeyed audit entries with the database's audit key
    (:func:`idsvc.core.audit.legacy_seal`), so it needs one whenever there are entries to seal.
    """
    with _migrating(db) as conn:
        before = _inspect(conn)
        conn.commit()
        if before.current == before.head and target == "head":
            return before, before
        with conn.begin():
            if before.release_1:
                command.stamp(_config(conn), BASELINE)
            command.upgrade(_config(conn), target)
            after = _inspect(conn)
            if KEYED_AUDIT in before.pending and KEYED_AUDIT not in after.pending:
                _seal_legacy_audit(conn, db.audit_key)
    return before, after


def _seal_legacy_audit(conn: Connection, key: bytes | None) -> None:
    # The last unkeyed entry, not the head: a concurrent upgrade that lost the race may get here after
    # keyed entries were appended, and must write the same seal again, not one that covers them.
    last = conn.execute(
        select(AuditEntry.seq, AuditEntry.hash)
        .where(AuditEntry.scheme == LEGACY)
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    ).one_or_none()
    if last is None:
        return  # nothing unkeyed to seal: any sha256 entry will be refused
    if key is None:
        raise AuditKeyMissing(
            f"upgrading past {KEYED_AUDIT} seals the {last.seq} existing audit entries with the audit key: "
            "open the database with Database(url, audit_key=settings.audit_signing_key())"
        )
    conn.execute(update(AuditHead).where(AuditHead.id == 1).values(note=legacy_seal(key, last.seq, last.hash)))


def downgrade(db: Database, target: str) -> tuple[Status, Status]:
    """Step back to ``target``; a revision whose downgrade would lose data raises instead."""
    with _migrating(db) as conn:
        before = _inspect(conn)
        conn.commit()
        command.downgrade(_config(conn), target)
        conn.commit()
        after = _inspect(conn)
        conn.commit()
    return before, after


def require_current(db: Database) -> None:
    """Raise :class:`SchemaBehind`, naming the command to run, unless the database is at head."""
    st = status(db)
    if not st.up_to_date:
        raise SchemaBehind(f"database schema: {st.describe()}. Run `{UPGRADE_COMMAND}` (back up the database first).")


def prepare(db: Database, *, auto_upgrade: bool) -> None:
    """At start-up: upgrade (development, test) or refuse unless up to date (production)."""
    if auto_upgrade:
        upgrade(db)
    else:
        require_current(db)


def differences(db: Database, metadata: MetaData) -> list[Any]:
    """What autogenerate would write to make the database match ``metadata`` (empty when they agree)."""
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        diffs: list[Any] = compare_metadata(ctx, metadata)
        conn.rollback()
    return diffs


def revision(db: Database, metadata: MetaData, message: str, *, autogenerate: bool = True) -> str:
    """Write a new revision file (autogenerated from ``metadata`` against ``db``, which must be at head)."""
    with _migrating(db) as conn:
        out = io.StringIO()
        scripts = command.revision(
            _config(conn, metadata, stdout=out),
            message=message,
            autogenerate=autogenerate,
            rev_id=f"{len(list(_scripts().walk_revisions())) + 1:04d}",
        )
        conn.rollback()
    _scripts.cache_clear()
    script = scripts[0] if isinstance(scripts, list) else scripts
    assert script is not None
    return str(script.path)
