"""Alembic's entry point for idsvc (run through :mod:`idsvc.core.migrations`, never a bare ``alembic``).

The caller hands over an open connection (``config.attributes["connection"]``) and, for
autogenerate, the full metadata with every feature's tables (``config.attributes["target_metadata"]``:
the core may not import the features).  SQLite runs in batch mode (``ALTER`` by table copy) with
foreign keys off for the duration, then checked; PostgreSQL takes an advisory lock so two
processes upgrading at once run one after the other.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

# Any constant: the advisory lock that serialises concurrent upgrades of one PostgreSQL database.
_PG_LOCK = 0x1D5C_0017

config = context.config
connection = config.attributes["connection"]
target_metadata = config.attributes.get("target_metadata")
sqlite = connection.dialect.name == "sqlite"

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=sqlite,
    compare_type=True,
    compare_server_default=True,
    transaction_per_migration=False,
    # SQLite's DDL is transactional (our engine opens BEGIN IMMEDIATE); Alembic assumes it is not
    # and would let a failed multi-step run leave the steps before the failure applied.
    transactional_ddl=True,
)

with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
    context.run_migrations()
    if sqlite:
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"migration left rows that break foreign keys: {broken[:5]}")
