"""Organization logo shown to clients and staff: its image in ``organization_logo``, its hash on the row.

Revision ID: 0016
Revises: 0011
Create Date: 2026-12-03 21:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organization") as batch:
        batch.add_column(sa.Column("logo_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.create_table(
        "organization_logo",
        sa.Column("organization_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("organization_id"),
    )
    op.create_index("ix_organization_logo_sha256", "organization_logo", ["sha256"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_organization_logo_sha256", table_name="organization_logo")
    op.drop_table("organization_logo")
    # Plain DROP COLUMN: a batch would recreate organization, which other tables' foreign keys point at.
    op.drop_column("organization", "logo_sha256")
