"""Ledger entries: index (case_id, idx), so an append finds its case's previous entry (the case link it
records, ``vault/ledger/entries.py``) with one index probe however long the case is. It replaces the
single-column index on case_id, which it covers.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 08:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_entry_case_id_idx", ["case_id", "idx"], unique=False)
        batch_op.drop_index("ix_ledger_entry_case_id")


def downgrade() -> None:
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_entry_case_id", ["case_id"], unique=False)
        batch_op.drop_index("ix_ledger_entry_case_id_idx")
