"""Ledger: one row per append. Interior nodes move into the entry that completes them; the head row goes.

Appending leaf ``j`` completes the perfect subtrees (1, j >> 1), (2, j >> 2), ... for as many levels as
``j`` has trailing one bits. Those hashes are now stored, bottom up, in ``ledger_entry.parents`` of the
row for ``j``, so an append writes exactly one row (it used to write an entry row, one node row per
completed subtree and the head row). The log's size is ``max(idx) + 1``, read under the append lock.
On PostgreSQL, ``offboard_ledger_head`` takes the organization's advisory lock and reads the last entry
in one round trip; it is VOLATILE, so the read after the lock sees every append committed before it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 15:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HEAD_FUNCTION = """
CREATE OR REPLACE FUNCTION offboard_ledger_head(lock_key bigint, org text)
RETURNS TABLE (last_idx integer, last_leaf bytea)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    RETURN QUERY
        SELECT e.idx, e.leaf_hash FROM ledger_entry e
        WHERE e.organization_id = org ORDER BY e.idx DESC LIMIT 1;
END
$$
"""

BATCH = 5000


def _trailing_ones(index: int) -> int:
    count = 0
    while index & 1:
        count, index = count + 1, index >> 1
    return count


def upgrade() -> None:
    bind = op.get_bind()
    empty = sa.text("X''" if bind.dialect.name == "sqlite" else "''::bytea")
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parents", sa.LargeBinary(), nullable=False, server_default=empty))
    update = sa.text("UPDATE ledger_entry SET parents = :parents WHERE organization_id = :org AND idx = :idx")
    select_nodes = sa.text("SELECT level, idx, hash FROM ledger_node WHERE organization_id = :org AND level > 0")
    organizations = bind.execute(sa.text("SELECT DISTINCT organization_id FROM ledger_node")).scalars().all()
    for org in organizations:  # one organization's nodes in memory at a time
        known = {(int(lv), int(i)): bytes(h) for lv, i, h in bind.execute(select_nodes, {"org": org})}
        # Every leaf that completes a subtree is odd and completes exactly one level-1 node: (1, leaf >> 1).
        rows = []
        for level, idx in known:
            if level != 1:
                continue
            leaf = 2 * idx + 1
            parents = b"".join(known[(lv, leaf >> lv)] for lv in range(1, _trailing_ones(leaf) + 1))
            rows.append({"parents": parents, "org": org, "idx": leaf})
        for start in range(0, len(rows), BATCH):
            bind.execute(update, rows[start : start + BATCH])
    op.drop_table("ledger_node")
    op.drop_table("ledger_head")
    if bind.dialect.name == "postgresql":
        op.execute(HEAD_FUNCTION)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS offboard_ledger_head(bigint, text)")
    op.create_table(
        "ledger_head",
        sa.Column("organization_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("organization_id"),
    )
    op.create_table(
        "ledger_node",
        sa.Column("organization_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("organization_id", "level", "idx"),
    )
    node = sa.text("INSERT INTO ledger_node (organization_id, level, idx, hash) VALUES (:org, :level, :idx, :hash)")
    rows = bind.execute(sa.text("SELECT organization_id, idx, leaf_hash, parents FROM ledger_entry")).fetchall()
    sizes: dict[str, int] = {}
    pending: list[dict[str, object]] = []
    for org, idx, leaf, parents in rows:
        idx = int(idx)
        sizes[org] = max(sizes.get(org, 0), idx + 1)
        pending.append({"org": org, "level": 0, "idx": idx, "hash": bytes(leaf)})
        parents = bytes(parents)
        for level in range(1, len(parents) // 32 + 1):
            pending.append(
                {"org": org, "level": level, "idx": idx >> level, "hash": parents[(level - 1) * 32 : level * 32]}
            )
        if len(pending) >= BATCH:
            bind.execute(node, pending)
            pending = []
    if pending:
        bind.execute(node, pending)
    head = sa.text("INSERT INTO ledger_head (organization_id, size) VALUES (:org, :size)")
    if sizes:
        bind.execute(head, [{"org": org, "size": size} for org, size in sizes.items()])
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_column("parents")
