"""The organization's append-only log: sequence and integrate in one database transaction.

Appending runs inside the caller's transaction, so a domain row and its ledger entry commit together or
not at all. Appends of one organization are serialized: SQLite takes the write lock at ``BEGIN IMMEDIATE``
(``vault/db.py``); PostgreSQL takes a transaction-scoped advisory lock keyed by the organization. The
index is ``ledger_head.size`` read under that lock, so indexes are contiguous and never reused: a rolled
back transaction leaves neither the entry nor the size increment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel import Session, col, select

from vault.clock import Clock, system_clock
from vault.errors import InvalidInput, NotFound
from vault.ledger.entries import EntryDraft, encode_entry
from vault.ledger.hashing import LeafHash, leaf_hash
from vault.ledger.tree import NodeId, left_siblings_needed, nodes_completed_by_append
from vault.models import LedgerEntry, LedgerHead, LedgerNode


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
    lock_log(session, draft.organization_id)
    head = session.get(LedgerHead, draft.organization_id, with_for_update=True)
    if head is None:
        head = LedgerHead(organization_id=draft.organization_id, size=0)
        session.add(head)
    index = head.size
    body = encode_entry(draft, clock())
    leaf = leaf_hash(body)
    siblings = fetch_nodes(session, draft.organization_id, left_siblings_needed(index))
    completed = nodes_completed_by_append(index, leaf, siblings)
    session.add(
        LedgerEntry(
            organization_id=draft.organization_id,
            idx=index,
            leaf_hash=leaf,
            body=body,
            entry_type=draft.type,
            case_id=draft.case_id,
        )
    )
    for (level, idx), value in completed.items():
        session.add(LedgerNode(organization_id=draft.organization_id, level=level, idx=idx, hash=value))
    head.size = index + 1
    session.add(head)
    session.flush()
    return Appended(index=index, leaf_hash=leaf, body=body)


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
    head = session.get(LedgerHead, organization_id)
    return head.size if head is not None else 0


def entry(session: Session, organization_id: str, index: int) -> LedgerEntry:
    if index < 0:
        raise InvalidInput(f"index must be >= 0; got {index}")
    row = session.get(LedgerEntry, (organization_id, index))
    if row is None:
        raise InvalidInput(f"index {index} is beyond the log (size {size(session, organization_id)})")
    return row
