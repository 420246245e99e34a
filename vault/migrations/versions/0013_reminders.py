"""Reminders: per-organization reminder settings, the record of reminders sent, and each acknowledgment
link's token sealed under the organization's key (so a reminder carries the same link).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "reminder_settings",
        sa.Column("organization_id", text(), sa.ForeignKey("organization.id"), primary_key=True),
        sa.Column("timezone", text(length=64), nullable=False),
        sa.Column("digest_hour", sa.Integer(), nullable=False),
        sa.Column("escalate_after_days", sa.Integer(), nullable=False),
        sa.Column("client_schedule", text(length=200), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_table(
        "reminder_sent",
        sa.Column("id", text(), primary_key=True),
        sa.Column("organization_id", text(), sa.ForeignKey("organization.id"), nullable=False),
        sa.Column("key", text(length=200), nullable=False, unique=True),
        sa.Column("recipient", text(length=320), nullable=False),
        sa.Column("template", text(length=64), nullable=False),
        sa.Column("message_id", text(length=400), nullable=False),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_reminder_sent_organization_id", "reminder_sent", ["organization_id"])
    with op.batch_alter_table("receipt_link") as batch:
        batch.add_column(sa.Column("token_sealed", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("sealed_by", text(length=8), nullable=True))


def downgrade() -> None:
    op.drop_column("receipt_link", "sealed_by")
    op.drop_column("receipt_link", "token_sealed")
    op.drop_index("ix_reminder_sent_organization_id", table_name="reminder_sent")
    op.drop_table("reminder_sent")
    op.drop_table("reminder_settings")
