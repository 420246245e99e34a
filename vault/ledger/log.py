"""The organization's append-only log: sequence and integrate in one database transaction.

Appending runs inside the caller's transaction, so a domain row and its ledger entry commit together or
not at all. Appends of one organization are serialized: SQLite takes the write lock at ``BEGIN IMMEDIATE``
(``vault/db.py``); PostgreSQL takes a transaction-scoped advisory lock keyed by the organization. The
index is ``ledger_head.size`` read under that lock, so indexes are contiguous and never reused: a rolled
back transaction leaves neither the entry nor the size increment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Table, text
from sqlmodel import Session, col, select

from vault.clock import Clock, system_clock
from vault.errors import InvalidInput, NotFound
from vault.ledger.entries import EntryDraft, encode_entry
from vault.ledger.hashing import LeafHash, leaf_hash
from vault.ledger.tree import NodeId, nodes_completed_by_append, root_nodes_needed
from vault.models import LedgerEntry, LedgerHead, LedgerNode

_HEAD: Table = LedgerHead.__table__  # type: ignore[attr-defined]
_ENTRY: Table = LedgerEntry.__table__  # type: ignore[attr-defined]
_NODE: Table = LedgerNode.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Appended:
    """Where an entry landed."""

    index: int
    leaf_hash: LeafHash
    body: bytes


def _lock_key(organization_id: str) -> int:
    # A stable signed 64-bit key per organization for pg_advisory_xact_lock.
    return int.from_bytes(
        hashlib.sha256(b"offboard-ledger:" + organization_id.encode()).digest()[:8], "big", signed=True
    )


def lock_log(session: Session, organization_id: str) -> None:
    """Serialize with every other writer of this organization's log until the transaction ends."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.exec(text("SELECT pg_advisory_xact_lock(:k)").bindparams(k=_lock_key(organization_id)))  # type: ignore[call-overload]


def append(session: Session, draft: EntryDraft, *, clock: Clock = system_clock) -> Appended:
    """Append one entry in the caller's transaction; the caller commits."""
    return append_many(session, [draft], clock=clock)[0]


def append_many(session: Session, drafts: Sequence[EntryDraft], *, clock: Clock = system_clock) -> list[Appended]:
    """Append entries of one organization, in order, with a fixed number of statements for the whole batch.

    Core statements rather than ORM units of work: this is the hot path, and a batch costs the same six
    round trips (lock, head, siblings, entries, nodes, head update) whatever its length.
    """
    if not drafts:
        return []
    organization_id = drafts[0].organization_id
    if any(d.organization_id != organization_id for d in drafts):
        raise InvalidInput("one append batch must stay within one organization's log")
    lock_log(session, organization_id)
    head = _HEAD.c
    current = session.execute(
        sa.select(head.size).where(head.organization_id == organization_id).with_for_update()
    ).scalar_one_or_none()
    first = current or 0
    # Every left sibling an entry of this batch can need lies either inside the batch (computed below) or
    # in the perfect subtrees that make up the tree before it: exactly the nodes of its root.
    known = fetch_nodes(session, organization_id, root_nodes_needed(first))
    entries: list[dict[str, object]] = []
    nodes: list[dict[str, object]] = []
    appended: list[Appended] = []
    for offset, draft in enumerate(drafts):
        index = first + offset
        now = clock()
        body = encode_entry(draft, now)
        leaf = leaf_hash(body)
        completed = nodes_completed_by_append(index, leaf, known)
        known.update(completed)
        entries.append(
            {
                "organization_id": organization_id,
                "idx": index,
                "leaf_hash": leaf,
                "body": body,
                "entry_type": draft.type,
                "case_id": draft.case_id,
                "created_at": now,
            }
        )
        nodes.extend(
            {"organization_id": organization_id, "level": level, "idx": idx, "hash": value}
            for (level, idx), value in completed.items()
        )
        appended.append(Appended(index=index, leaf_hash=leaf, body=body))
    session.execute(sa.insert(_ENTRY), entries)
    session.execute(sa.insert(_NODE), nodes)
    if current is None:
        session.execute(sa.insert(_HEAD).values(organization_id=organization_id, size=first + len(drafts)))
    else:
        session.execute(
            sa.update(_HEAD).where(head.organization_id == organization_id).values(size=first + len(drafts))
        )
    return appended


def fetch_nodes(session: Session, organization_id: str, wanted: Iterable[NodeId]) -> dict[NodeId, bytes]:
    """Stored perfect-subtree hashes for ``wanted``, in one query; missing ones are an integrity failure."""
    wanted = list(dict.fromkeys(wanted))
    if not wanted:
        return {}
    levels = {level for level, _ in wanted}
    indexes = {idx for _, idx in wanted}
    rows = session.exec(
        select(LedgerNode).where(
            LedgerNode.organization_id == organization_id,
            col(LedgerNode.level).in_(levels),
            col(LedgerNode.idx).in_(indexes),
        )
    ).all()
    found = {(row.level, row.idx): bytes(row.hash) for row in rows}
    missing = [node for node in wanted if node not in found]
    if missing:
        raise NotFound(f"ledger nodes missing from storage: {missing[:5]}")
    return {node: found[node] for node in wanted}


def size(session: Session, organization_id: str) -> int:
    """The committed size (or, inside a writing transaction, the size including its own appends)."""
    head = _HEAD.c
    value = session.execute(sa.select(head.size).where(head.organization_id == organization_id)).scalar_one_or_none()
    return int(value or 0)


def entry(session: Session, organization_id: str, index: int) -> LedgerEntry:
    if index < 0:
        raise InvalidInput(f"index must be >= 0; got {index}")
    row = session.get(LedgerEntry, (organization_id, index))
    if row is None:
        raise InvalidInput(f"index {index} is beyond the log (size {size(session, organization_id)})")
    return row
