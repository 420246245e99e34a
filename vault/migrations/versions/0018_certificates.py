"""Certificates of completion: the ``certificate`` table (statement bytes, signature, PDF).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 06:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "certificate",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("organization_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("final_index", sa.Integer(), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("key_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ledger_index", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["offboarding_case.id"]),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "final_index", name="uq_certificate_case_final"),
    )
    op.create_index("ix_certificate_case_id", "certificate", ["case_id"], unique=False)
    op.create_index("ix_certificate_organization_id", "certificate", ["organization_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_certificate_organization_id", table_name="certificate")
    op.drop_index("ix_certificate_case_id", table_name="certificate")
    op.drop_table("certificate")
