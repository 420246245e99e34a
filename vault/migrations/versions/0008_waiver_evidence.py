"""Waivers of one deliverable: ``case_waiver.evidence_id`` names the deliverable an admin waived the
client's acknowledgment of (scope ``deliverable``, ``vault/cases/gate.py``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_waiver", schema=None) as batch_op:
        batch_op.add_column(sa.Column("evidence_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_waiver", schema=None) as batch_op:
        batch_op.drop_column("evidence_id")
