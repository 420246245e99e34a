"""Who may read an organization's log tiles without a token: ``organization.log_visibility``
(``private``, ``hashes`` or ``public``; ``docs/ledger.md``, "Tiles").

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 18:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "log_visibility",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="private",
            )
        )


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch would recreate the table, which SQLite
    # refuses while other tables' foreign keys point at it.
    op.drop_column("organization", "log_visibility")
