"""Receipts: signed handover receipts, acknowledgment links (token hashes only), acknowledgments.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 12:15:41.615286
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "receipt",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("organization_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("key_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("ledger_index", sa.Integer(), nullable=True),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("closed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("dispute_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["offboarding_case.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("receipt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_receipt_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_receipt_organization_id"), ["organization_id"], unique=False)

    op.create_table(
        "receipt_link",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("organization_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("receipt_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("opened_count", sa.Integer(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("voided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
        ),
        sa.ForeignKeyConstraint(
            ["receipt_id"],
            ["receipt.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("receipt_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_receipt_link_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_receipt_link_receipt_id"), ["receipt_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_receipt_link_token_hash"), ["token_hash"], unique=True)

    op.create_table(
        "receipt_acknowledgment",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("organization_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("receipt_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("link_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("acknowledged_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ip", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_agent", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("typed_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("shown_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("key_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("ledger_index", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["receipt_link.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
        ),
        sa.ForeignKeyConstraint(
            ["receipt_id"],
            ["receipt.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("receipt_id", name="uq_acknowledgment_receipt"),
    )
    with op.batch_alter_table("receipt_acknowledgment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_receipt_acknowledgment_organization_id"), ["organization_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("receipt_acknowledgment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receipt_acknowledgment_organization_id"))

    op.drop_table("receipt_acknowledgment")
    with op.batch_alter_table("receipt_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receipt_link_token_hash"))
        batch_op.drop_index(batch_op.f("ix_receipt_link_receipt_id"))
        batch_op.drop_index(batch_op.f("ix_receipt_link_organization_id"))

    op.drop_table("receipt_link")
    with op.batch_alter_table("receipt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receipt_organization_id"))
        batch_op.drop_index(batch_op.f("ix_receipt_case_id"))

    op.drop_table("receipt")
