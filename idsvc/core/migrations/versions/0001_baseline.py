"""baseline: the schema of release 1

Exactly what release 1's ``create_all`` built (``schema_info.version = 1``), including the two rows
it wrote on first start.  A database made by release 1 is stamped at this revision, never re-run.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("association", sa.String(length=16), nullable=True),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key_id"),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index("ix_audit_log_event", "audit_log", ["event"], unique=False)
    op.create_index("ix_audit_log_subject", "audit_log", ["subject"], unique=False)

    op.create_table(
        "id_records",
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("encoding", sa.LargeBinary(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id_number"),
    )
    op.create_table(
        "members",
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("association", sa.String(length=16), nullable=False),
        sa.Column("openid", sa.String(length=128), nullable=True),
        sa.Column("openid_bound_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("member_id"),
    )
    op.create_index("ix_members_association", "members", ["association"], unique=False)
    op.create_index("ix_members_id_number", "members", ["id_number"], unique=True)

    op.create_table(
        "schema_info",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "document_filings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("original_sha256", sa.String(length=64), nullable=False),
        sa.Column("original_format", sa.String(length=8), nullable=False),
        sa.Column("cleaned_sha256", sa.String(length=64), nullable=False),
        sa.Column("verdict", sa.String(length=8), nullable=False),
        sa.Column("dpi_source", sa.String(length=16), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("filed_by", sa.String(length=128), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.member_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_document_filings_member_kind", "document_filings", ["member_id", "kind", "id"], unique=False)

    op.create_table(
        "id_change_requests",
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("association", sa.String(length=16), nullable=False),
        sa.Column("old_id_number", sa.String(length=18), nullable=False),
        sa.Column("new_id_number", sa.String(length=18), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("proof_sha256", sa.String(length=64), nullable=False),
        sa.Column("proof_mime", sa.String(length=32), nullable=False),
        sa.Column("proof_size", sa.Integer(), nullable=False),
        sa.Column("filed_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.member_id"],
        ),
        sa.PrimaryKeyConstraint("request_id"),
    )
    op.create_index("ix_id_change_requests_association", "id_change_requests", ["association"], unique=False)
    op.create_index("ix_id_change_requests_created_at", "id_change_requests", ["created_at"], unique=False)
    op.create_index("ix_id_change_requests_member_id", "id_change_requests", ["member_id"], unique=False)
    op.create_index("ix_id_change_requests_proof_sha256", "id_change_requests", ["proof_sha256"], unique=False)
    op.create_index("ix_id_change_requests_state", "id_change_requests", ["state"], unique=False)
    op.create_index(
        "uq_id_change_open_per_member",
        "id_change_requests",
        ["member_id"],
        unique=True,
        sqlite_where=sa.text("state IN ('submitted', 'forwarded')"),
        postgresql_where=sa.text("state IN ('submitted', 'forwarded')"),
    )

    op.create_table(
        "member_id_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("old_id_number", sa.String(length=18), nullable=False),
        sa.Column("new_id_number", sa.String(length=18), nullable=False),
        sa.Column("change_request_id", sa.String(length=64), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.member_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_member_id_history_member_id", "member_id_history", ["member_id"], unique=False)

    op.create_table(
        "id_change_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["id_change_requests.request_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_id_change_events_request_id", "id_change_events", ["request_id"], unique=False)
    # The rows release 1's create_all wrote on first start: its schema version and the chain's genesis head.
    op.bulk_insert(
        sa.table("schema_info", sa.column("id", sa.Integer), sa.column("version", sa.Integer)),
        [{"id": 1, "version": 1}],
    )
    op.bulk_insert(
        sa.table(
            "audit_head",
            sa.column("id", sa.Integer),
            sa.column("seq", sa.Integer),
            sa.column("hash", sa.String),
            sa.column("note", sa.Text),
        ),
        [{"id": 1, "seq": 0, "hash": "0" * 64, "note": ""}],
    )


def downgrade() -> None:
    # Below the baseline there is no schema at all: that would drop every member, key and audit entry.
    raise RuntimeError(
        "refusing to downgrade below the baseline (0001): it would drop every table and all their data; "
        "to start over, restore a backup or drop the database yourself"
    )
