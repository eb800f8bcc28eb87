"""keyed audit chain: audit_log.scheme; existing entries marked sha256

Entries written so far keep verifying with the unkeyed SHA-256 they were written with; new ones are
HMAC-SHA256 with the audit key (idsvc.core.audit).  ``schema_info.version`` becomes 2, so release 1
(which accepts only 1) refuses to run on the upgraded database instead of writing unmarked entries.

Downgrade is safe only while no keyed entry exists (release 1 cannot verify them); otherwise it
refuses.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_audit_log = sa.table("audit_log", sa.column("scheme", sa.String))
_schema_info = sa.table("schema_info", sa.column("id", sa.Integer), sa.column("version", sa.Integer))


def upgrade() -> None:
    # Nullable first, fill, then NOT NULL: no server default is left behind (the model has none).
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.add_column(sa.Column("scheme", sa.String(length=16), nullable=True))
    op.execute(_audit_log.update().values(scheme="sha256"))
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.alter_column("scheme", existing_type=sa.String(length=16), nullable=False)
    op.execute(_schema_info.update().where(_schema_info.c.id == 1).values(version=2))


def downgrade() -> None:
    keyed = op.get_bind().execute(sa.text("SELECT count(*) FROM audit_log WHERE scheme <> 'sha256'")).scalar_one()
    if keyed:
        raise RuntimeError(
            f"refusing to downgrade below 0002: {keyed} audit entries are HMAC-keyed, which release 1 cannot "
            "verify (its `idsvc audit verify` would report the chain broken); restore a backup taken before the upgrade"
        )
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.drop_column("scheme")
    op.execute(_schema_info.update().where(_schema_info.c.id == 1).values(version=1))
