"""Witnesses: an organization's witnesses and policy, the cosignatures they return, and their alerts
(``docs/ledger.md``, "Witnesses").

Revision ID: 0015
Revises: 0011
Create Date: 2026-12-03 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_str = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("organization") as batch:
        batch.add_column(sa.Column("witness_policy", sa.Integer(), nullable=True))
    op.create_table(
        "witness",
        sa.Column("id", _str(), nullable=False),
        sa.Column("organization_id", _str(), nullable=False),
        sa.Column("name", _str(length=200), nullable=False),
        sa.Column("url", _str(length=1024), nullable=False),
        sa.Column("vkey", _str(length=400), nullable=False),
        sa.Column("key_id", _str(length=8), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("known_size", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("status", _str(length=16), nullable=False),
        sa.Column("detail", _str(length=1000), nullable=False),
        sa.Column("last_checkpoint_id", sa.Integer(), nullable=True),
        sa.Column("last_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id", "key_id", name="uq_witness_organization_key"),
    )
    op.create_index("ix_witness_organization_id", "witness", ["organization_id"])
    op.create_table(
        "cosignature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checkpoint_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", _str(), nullable=False),
        sa.Column("witness_name", _str(length=200), nullable=False),
        sa.Column("witness_key_id", _str(length=8), nullable=False),
        sa.Column("witness_vkey", _str(length=400), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("line", _str(length=400), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["checkpoint_id"], ["checkpoint.id"]),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("checkpoint_id", "witness_key_id", name="uq_cosignature_checkpoint_witness"),
    )
    op.create_index("ix_cosignature_checkpoint_id", "cosignature", ["checkpoint_id"])
    op.create_index("ix_cosignature_organization_id", "cosignature", ["organization_id"])
    op.create_table(
        "witness_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", _str(), nullable=False),
        sa.Column("witness_name", _str(length=200), nullable=False),
        sa.Column("witness_url", _str(length=1024), nullable=False),
        sa.Column("checkpoint_id", sa.Integer(), nullable=True),
        sa.Column("checkpoint_size", sa.BigInteger(), nullable=False),
        sa.Column("detail", _str(length=1000), nullable=False),
        sa.Column("raised_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_witness_alert_organization_id", "witness_alert", ["organization_id"])


def downgrade() -> None:
    op.drop_index("ix_witness_alert_organization_id", table_name="witness_alert")
    op.drop_table("witness_alert")
    op.drop_index("ix_cosignature_organization_id", table_name="cosignature")
    op.drop_index("ix_cosignature_checkpoint_id", table_name="cosignature")
    op.drop_table("cosignature")
    op.drop_index("ix_witness_organization_id", table_name="witness")
    op.drop_table("witness")
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch would recreate the table, which SQLite
    # refuses while other tables' foreign keys point at it.
    op.drop_column("organization", "witness_policy")
