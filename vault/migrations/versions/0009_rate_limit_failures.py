"""Rate-limit failures in the database: the acknowledgment pages' limits count across processes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 17:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_failure",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rate_limit_failure", schema=None) as batch_op:
        batch_op.create_index("ix_rate_limit_failure_scope_key_at", ["scope", "key", "at"], unique=False)
        batch_op.create_index("ix_rate_limit_failure_scope_at", ["scope", "at"], unique=False)


def downgrade() -> None:
    op.drop_table("rate_limit_failure")
