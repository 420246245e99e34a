"""The organization's append-only log: sequence and integrate in one database transaction.

Appending runs inside the caller's transaction, so a domain row and its ledger entry commit together or
not at all. Appends of one organization are serialized: SQLite takes the write lock at ``BEGIN IMMEDIATE``
(``vault/db.py``); PostgreSQL takes a transaction-scoped advisory lock keyed by the organization. The
index is ``ledger_head.size`` read under that lock, so indexes are contiguous and never reused: a rolled
back transaction leaves neither the entry nor the size increment. Within a transaction, appends are
integrated in memory and written in one batch (write-behind, see ``_Cursor``); with group commit
(``sequencer.py``) many requests share one transaction, one lock and one fsync.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, event, text
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

from vault.clock import Clock, system_clock
from vault.errors import InvalidInput, NotFound
from vault.ledger.entries import EntryDraft, encode_entry
from vault.ledger.hashing import LeafHash, leaf_hash
from vault.ledger.tree import NodeId, nodes_completed_by_append, root_nodes_needed
from vault.models import LedgerEntry

_ENTRY: Table = LedgerEntry.__table__  # type: ignore[attr-defined]


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


@dataclass(frozen=True, slots=True)
class _Driver:
    """The transaction's own DB-API cursor. The append path speaks plain SQL through the driver: the same
    statements through SQLAlchemy cost several times more CPU than the database needs to run them, and
    this path runs once per recorded event."""

    cursor: Any
    #: Whether the driver's placeholder is ``?`` (sqlite3) rather than ``%s`` (psycopg).
    qmark: bool
    postgres: bool
    time: Callable[[object], object]

    def _sql(self, statement: str) -> str:
        # Statements are written with ``?`` placeholders and no literal question marks.
        return statement if self.qmark else statement.replace("?", "%s")

    def execute(self, statement: str, params: Sequence[object]) -> None:
        self.cursor.execute(self._sql(statement), params)

    def executemany(self, statement: str, rows: Sequence[Sequence[object]]) -> None:
        self.cursor.executemany(self._sql(statement), rows)

    @classmethod
    def of(cls, session: Session) -> _Driver:
        connection = session.connection()  # joins (or begins) the session's transaction
        dialect = connection.dialect
        processor = _ENTRY.c.created_at.type.bind_processor(dialect)
        return cls(
            cursor=connection.connection.cursor(),
            qmark=dialect.paramstyle == "qmark",
            postgres=dialect.name == "postgresql",
            time=processor if processor is not None else (lambda value: value),
        )


@dataclass(slots=True)
class _Cursor:
    """One organization's log as this transaction sees it: the next index, the right edge of the tree, and
    rows sequenced but not yet written. Appends are integrated in memory and written in one go (a few
    statements per transaction, whatever the number of entries) before anything reads the ledger tables
    and before commit."""

    organization_id: str
    size: int
    head_exists: bool
    known: dict[NodeId, bytes]
    #: ``ledger_entry`` rows in column order (organization_id, idx, leaf_hash, body, entry_type, case_id,
    #: created_at), ready for ``executemany``.
    entries: list[tuple[object, ...]] = field(default_factory=list)
    #: ``ledger_node`` rows (organization_id, level, idx, hash).
    nodes: list[tuple[object, ...]] = field(default_factory=list)


_CURSORS = "offboard.ledger.cursors"


def _cursors(session: Session) -> dict[str, _Cursor]:
    cursors: dict[str, _Cursor] = session.info.setdefault(_CURSORS, {})
    return cursors


def _cursor(session: Session, organization_id: str) -> _Cursor:
    cursor = _cursors(session).get(organization_id)
    if cursor is None:
        lock_log(session, organization_id)
        db = _Driver.of(session)
        select_head = "SELECT size FROM ledger_head WHERE organization_id = ?"
        db.execute(select_head + (" FOR UPDATE" if db.postgres else ""), (organization_id,))
        row = db.cursor.fetchone()
        current = None if row is None else int(row[0])
        first = current or 0
        # Every left sibling a later append can need lies either among this transaction's own appends or
        # in the perfect subtrees that make up the tree before them: exactly the nodes of its root.
        known = fetch_nodes(session, organization_id, root_nodes_needed(first), flush=False)
        cursor = _Cursor(organization_id, first, current is not None, known)
        _cursors(session)[organization_id] = cursor
    return cursor


def append(session: Session, draft: EntryDraft, *, clock: Clock = system_clock) -> Appended:
    """Append one entry in the caller's transaction; the caller commits."""
    return append_many(session, [draft], clock=clock)[0]


def append_many(session: Session, drafts: Sequence[EntryDraft], *, clock: Clock = system_clock) -> list[Appended]:
    """Sequence entries of one organization, in order, in the caller's transaction.

    The first append of a transaction takes the log's lock and reads the head; the rows are written by
    ``flush`` (called before any ledger read and before commit), so a transaction of many appends costs
    a fixed number of statements. Core statements rather than ORM units of work: this is the hot path.
    """
    if not drafts:
        return []
    organization_id = drafts[0].organization_id
    if any(d.organization_id != organization_id for d in drafts):
        raise InvalidInput("one append batch must stay within one organization's log")
    cursor = _cursor(session, organization_id)
    appended: list[Appended] = []
    for draft in drafts:
        index = cursor.size
        now = clock()
        body = encode_entry(draft, now)
        leaf = leaf_hash(body)
        completed = nodes_completed_by_append(index, leaf, cursor.known)
        cursor.known.update(completed)
        cursor.entries.append((organization_id, index, leaf, body, draft.type, draft.case_id, now))
        cursor.nodes.extend((organization_id, level, idx, value) for (level, idx), value in completed.items())
        cursor.size = index + 1
        appended.append(Appended(index=index, leaf_hash=leaf, body=body))
    return appended


def flush(session: Session) -> None:
    """Write every sequenced entry of this transaction (entries, nodes, head size)."""
    for cursor in _cursors(session).values():
        if not cursor.entries:
            continue
        db = _Driver.of(session)
        db.executemany(
            "INSERT INTO ledger_entry (organization_id, idx, leaf_hash, body, entry_type, case_id, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(*row[:-1], db.time(row[-1])) for row in cursor.entries],
        )
        db.executemany(
            "INSERT INTO ledger_node (organization_id, level, idx, hash) VALUES (?, ?, ?, ?)",
            cursor.nodes,
        )
        if cursor.head_exists:
            db.execute(
                "UPDATE ledger_head SET size = ? WHERE organization_id = ?", (cursor.size, cursor.organization_id)
            )
        else:
            db.execute(
                "INSERT INTO ledger_head (organization_id, size) VALUES (?, ?)", (cursor.organization_id, cursor.size)
            )
            cursor.head_exists = True
        cursor.entries = []
        cursor.nodes = []


@dataclass(frozen=True, slots=True)
class Mark:
    """Where each organization's cursor stood, so a failed unit of work can be undone (see ``rewind``)."""

    positions: dict[str, tuple[int, int, int]]


def mark(session: Session) -> Mark:
    return Mark({org: (c.size, len(c.entries), len(c.nodes)) for org, c in _cursors(session).items()})


def rewind(session: Session, to: Mark) -> None:
    """Forget appends made after ``to`` that were not flushed; cursors created since are dropped.

    Flushed rows belong to the enclosing SQL savepoint and roll back with it; a cursor that flushed after
    the mark is dropped entirely, so the next append re-reads the head inside the transaction.
    """
    cursors = _cursors(session)
    for org in list(cursors):
        cursor = cursors[org]
        position = to.positions.get(org)
        if (
            position is None
            or position[1] > len(cursor.entries)
            or cursor.size - len(cursor.entries) != (position[0] - position[1])
        ):
            del cursors[org]
            continue
        size, n_entries, n_nodes = position
        del cursor.entries[n_entries:]
        del cursor.nodes[n_nodes:]
        cursor.size = size
        cursor.known = {k: v for k, v in cursor.known.items() if ((k[1] + 1) << k[0]) <= size}


@event.listens_for(Session, "before_commit")
def _flush_before_commit(session: Session) -> None:
    flush(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_after_transaction(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_CURSORS, None)


def fetch_nodes(
    session: Session, organization_id: str, wanted: Iterable[NodeId], *, flush: bool = True
) -> dict[NodeId, bytes]:
    """Stored perfect-subtree hashes for ``wanted``, in one query; missing ones are an integrity failure."""
    if flush:
        _flush(session)
    wanted = list(dict.fromkeys(wanted))
    if not wanted:
        return {}
    by_level: dict[int, list[int]] = {}
    for level, idx in wanted:
        by_level.setdefault(level, []).append(idx)
    # One query of exactly the wanted keys: a UNION ALL of one primary-key lookup per level (an OR, or a
    # row-value IN, makes SQLite scan every node of the organization).
    db = _Driver.of(session)
    params: list[object] = []
    parts = []
    lookup = "SELECT level, idx, hash FROM ledger_node WHERE organization_id = ? AND level = ? AND idx IN "
    for level, idxs in by_level.items():
        params.extend((organization_id, level, *idxs))
        parts.append(lookup + "(" + ", ".join("?" * len(idxs)) + ")")
    db.execute(" UNION ALL ".join(parts), params)
    rows = db.cursor.fetchall()
    found = {(int(level), int(idx)): bytes(value) for level, idx, value in rows}
    missing = [node for node in wanted if node not in found]
    if missing:
        raise NotFound(f"ledger nodes missing from storage: {missing[:5]}")
    return {node: found[node] for node in wanted}


def size(session: Session, organization_id: str) -> int:
    """The committed size (or, inside a writing transaction, the size including its own appends)."""
    _flush(session)
    db = _Driver.of(session)
    db.execute("SELECT size FROM ledger_head WHERE organization_id = ?", (organization_id,))
    row = db.cursor.fetchone()
    return int(row[0]) if row is not None else 0


def entry(session: Session, organization_id: str, index: int) -> LedgerEntry:
    if index < 0:
        raise InvalidInput(f"index must be >= 0; got {index}")
    _flush(session)
    row = session.get(LedgerEntry, (organization_id, index))
    if row is None:
        raise InvalidInput(f"index {index} is beyond the log (size {size(session, organization_id)})")
    return row


_flush = flush  # module-level alias: ``fetch_nodes`` has a parameter named ``flush``
