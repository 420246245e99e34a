"""Checkpoints: one index on (organization_id, size), so the latest checkpoint of an organization is one
index probe however many checkpoints it has kept (every signed checkpoint is kept).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 16:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_checkpoint_organization_id_size", "checkpoint", ["organization_id", "size"])


def downgrade() -> None:
    op.drop_index("ix_checkpoint_organization_id_size", table_name="checkpoint")
