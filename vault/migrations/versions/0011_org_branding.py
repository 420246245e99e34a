"""Organization branding shown to clients: accent colour and the Reply-To of client emails.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organization") as batch:
        batch.add_column(sa.Column("accent_colour", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=True))
        batch.add_column(sa.Column("reply_to", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch would recreate the table, which SQLite
    # refuses while other tables' foreign keys point at it.
    op.drop_column("organization", "reply_to")
    op.drop_column("organization", "accent_colour")
