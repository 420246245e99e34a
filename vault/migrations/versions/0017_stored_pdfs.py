"""Stored long-term PDFs: ``stored_pdf``, one row per version of a signed PDF kept in the object store.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 06:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stored_pdf",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("organization_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("subject_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("edition", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("storage_key", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("timestamp_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("timestamp_expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("stored_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ledger_index", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["offboarding_case.id"]),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "subject_id", "edition", "version", name="uq_stored_pdf_version"),
    )
    op.create_index("ix_stored_pdf_organization_id", "stored_pdf", ["organization_id"], unique=False)
    op.create_index("ix_stored_pdf_case_id", "stored_pdf", ["case_id"], unique=False)
    op.create_index("ix_stored_pdf_subject_id", "stored_pdf", ["subject_id"], unique=False)
    op.create_index("ix_stored_pdf_timestamp_expires_at", "stored_pdf", ["timestamp_expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_stored_pdf_timestamp_expires_at", table_name="stored_pdf")
    op.drop_index("ix_stored_pdf_subject_id", table_name="stored_pdf")
    op.drop_index("ix_stored_pdf_case_id", table_name="stored_pdf")
    op.drop_index("ix_stored_pdf_organization_id", table_name="stored_pdf")
    op.drop_table("stored_pdf")
