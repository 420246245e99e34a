"""The organization's append-only log: sequence and integrate in one database transaction.

Appending runs inside the caller's transaction, so a domain row and its ledger entry commit together or
not at all. Appends of one organization are serialized: SQLite takes the write lock at ``BEGIN IMMEDIATE``
(``vault/db.py``); PostgreSQL takes a transaction-scoped advisory lock keyed by the organization. The
next index is one past the last stored entry, read under that lock, so indexes are contiguous and never
reused by a committed entry. Within a transaction, appends are integrated in memory and written in one
statement (write-behind, see ``_Cursor``); each append writes exactly one row, which carries the interior
nodes it completes (``LedgerEntry.parents``). With group commit (``sequencer.py``) many requests share one
transaction, one lock and one fsync.

An entry of a case links to the case's previous entry (``entries.CaseLink``), read under the same lock, so
each case is a hash chain through the log and a bundle can prove that none of its entries is missing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, Table, event, text
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

from vault.clock import Clock, system_clock
from vault.errors import IntegrityFailure, InvalidInput
from vault.ledger.entries import CaseLink, EntryDraft, encode_entry
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

    @classmethod
    def of(cls, session: Session) -> _Driver:
        """The driver of the session's current transaction (begun if need be), made once per transaction."""
        driver: _Driver | None = session.info.get(_DRIVER)
        if driver is None:
            connection = session.connection()  # joins (or begins) the session's transaction
            dialect = connection.dialect
            processor = _ENTRY.c.created_at.type.bind_processor(dialect)
            driver = cls(
                cursor=connection.connection.cursor(),
                qmark=dialect.paramstyle == "qmark",
                postgres=dialect.name == "postgresql",
                time=processor if processor is not None else (lambda value: value),
            )
            session.info[_DRIVER] = driver
        return driver


@dataclass(frozen=True, slots=True)
class _Edge:
    """A committed state of one organization's log as this process last wrote it: the size, the last leaf,
    and the nodes the root folds (exactly the left siblings any later append can need)."""

    size: int
    last_leaf: bytes | None
    nodes: dict[NodeId, bytes]
    #: The last entry of recently written cases, at this size (valid exactly when the edge is).
    case_heads: dict[str, CaseLink]


#: Case heads an edge remembers: enough for the cases being worked on at once; others cost one query.
EDGE_CASE_HEADS = 1024


#: Per engine and organization, the edge left by this process's last committed append. A writer that finds
#: the log (under its lock) still at that size and last leaf skips reading the right edge from the
#: database; anything else (another process appended, a restore) reads it again. An edge is published
#: only after its transaction committed, and a committed (size, last leaf) never changes its nodes.
_EDGES: WeakKeyDictionary[Engine, dict[str, _Edge]] = WeakKeyDictionary()


@dataclass(slots=True)
class _Cursor:
    """One organization's log as this transaction sees it: the next index, the right edge of the tree, and
    rows sequenced but not yet written. Appends are integrated in memory and written in one statement
    before anything reads the ledger tables and before commit."""

    organization_id: str
    size: int
    last_leaf: bytes | None
    known: dict[NodeId, bytes]
    #: The last entry of each case this transaction has looked up or appended to.
    case_heads: dict[str, CaseLink] = field(default_factory=dict)
    #: ``ledger_entry`` rows in column order (organization_id, idx, leaf_hash, parents, body, entry_type,
    #: case_id, created_at), written by ``flush``.
    entries: list[tuple[object, ...]] = field(default_factory=list)

    def edge(self) -> _Edge:
        heads = dict(list(self.case_heads.items())[-EDGE_CASE_HEADS:])
        return _Edge(self.size, self.last_leaf, {n: self.known[n] for n in root_nodes_needed(self.size)}, heads)


_CURSORS = "offboard.ledger.cursors"
_DRIVER = "offboard.ledger.driver"

_INSERT = (
    "INSERT INTO ledger_entry (organization_id, idx, leaf_hash, parents, body, entry_type, case_id, created_at) "
    "VALUES "
)
#: Rows per INSERT statement: 8 parameters each stays far below both drivers' parameter limits.
INSERT_CHUNK = 500


def _cursors(session: Session) -> dict[str, _Cursor]:
    cursors: dict[str, _Cursor] = session.info.setdefault(_CURSORS, {})
    return cursors


def _engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def _read_head(session: Session, organization_id: str) -> tuple[int, bytes | None]:
    """Take the log's lock and read its last entry: (size, last leaf hash). One round trip on PostgreSQL."""
    db = _Driver.of(session)
    if db.postgres:
        db.execute(
            "SELECT last_idx, last_leaf FROM offboard_ledger_head(?, ?)", (_lock_key(organization_id), organization_id)
        )
    else:  # BEGIN IMMEDIATE already holds the write lock
        db.execute(
            "SELECT idx, leaf_hash FROM ledger_entry WHERE organization_id = ? ORDER BY idx DESC LIMIT 1",
            (organization_id,),
        )
    row = db.cursor.fetchone()
    return (0, None) if row is None else (int(row[0]) + 1, bytes(row[1]))


def _cursor(session: Session, organization_id: str) -> _Cursor:
    cursor = _cursors(session).get(organization_id)
    if cursor is None:
        size, last_leaf = _read_head(session, organization_id)
        edge = _EDGES.get(_engine_of(session), {}).get(organization_id)
        if edge is not None and edge.size == size and edge.last_leaf == last_leaf:
            known, heads = dict(edge.nodes), dict(edge.case_heads)
        else:
            # Every left sibling a later append can need lies either among this transaction's own appends
            # or in the perfect subtrees that make up the tree before them: exactly the nodes of its root.
            known, heads = fetch_nodes(session, organization_id, root_nodes_needed(size), flush=False), {}
        cursor = _Cursor(organization_id, size, last_leaf, known, heads)
        _cursors(session)[organization_id] = cursor
    return cursor


def _case_head(session: Session, cursor: _Cursor, case_id: str) -> CaseLink | None:
    """The case's last entry as this transaction sees it (``None``: the case has none yet).

    Read under the log's lock, so no other writer can append to the case in between. Entries this
    transaction sequenced are always in ``case_heads``; flushed ones are visible to the query.
    """
    head = cursor.case_heads.get(case_id)
    if head is None:
        db = _Driver.of(session)
        db.execute(
            "SELECT idx, leaf_hash FROM ledger_entry WHERE organization_id = ? AND case_id = ? "
            "ORDER BY idx DESC LIMIT 1",
            (cursor.organization_id, case_id),
        )
        row = db.cursor.fetchone()
        if row is not None:
            head = CaseLink(int(row[0]), bytes(row[1]))
    return head


def append(session: Session, draft: EntryDraft, *, clock: Clock = system_clock) -> Appended:
    """Append one entry in the caller's transaction; the caller commits."""
    return append_many(session, [draft], clock=clock)[0]


def append_many(session: Session, drafts: Sequence[EntryDraft], *, clock: Clock = system_clock) -> list[Appended]:
    """Sequence entries of one organization, in order, in the caller's transaction.

    The first append of a transaction takes the log's lock and reads the head; the rows are written by
    ``flush`` (called before any ledger read and before commit), so a transaction of many appends costs
    a fixed number of statements. Plain driver statements rather than ORM units of work: this is the hot
    path.
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
        prev = _case_head(session, cursor, draft.case_id) if draft.case_id is not None else None
        body = encode_entry(draft, now, prev)
        leaf = leaf_hash(body)
        completed = nodes_completed_by_append(index, leaf, cursor.known)
        cursor.known.update(completed)
        parents = b"".join(completed[(level, index >> level)] for level in range(1, len(completed)))
        cursor.entries.append((organization_id, index, leaf, parents, body, draft.type, draft.case_id, now))
        cursor.size = index + 1
        cursor.last_leaf = leaf
        if draft.case_id is not None:
            cursor.case_heads.pop(draft.case_id, None)  # re-inserted last: the edge keeps the most recent
            cursor.case_heads[draft.case_id] = CaseLink(index, leaf)
        appended.append(Appended(index=index, leaf_hash=leaf, body=body))
    return appended


def flush(session: Session) -> None:
    """Write every sequenced entry of this transaction: one statement per organization."""
    for cursor in _cursors(session).values():
        if not cursor.entries:
            continue
        db = _Driver.of(session)
        rows = cursor.entries
        # One multi-row INSERT per chunk: one round trip on PostgreSQL, where ``executemany`` goes through
        # pipeline mode and costs several times more.
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start : start + INSERT_CHUNK]
            params = [value for row in chunk for value in (*row[:-1], db.time(row[-1]))]
            values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))  # placeholders only; values are bound
            db.execute(_INSERT + values, params)
        cursor.entries = []


@dataclass(frozen=True, slots=True)
class Mark:
    """Where each organization's cursor stood, so a failed unit of work can be undone (see ``rewind``)."""

    positions: dict[str, tuple[int, int, bytes | None]]


def mark(session: Session) -> Mark:
    return Mark({org: (c.size, len(c.entries), c.last_leaf) for org, c in _cursors(session).items()})


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
        size, n_entries, last_leaf = position
        del cursor.entries[n_entries:]
        cursor.size = size
        cursor.last_leaf = last_leaf
        cursor.known = {k: v for k, v in cursor.known.items() if ((k[1] + 1) << k[0]) <= size}
        _rewind_case_heads(cursor)


def _rewind_case_heads(cursor: _Cursor) -> None:
    """Drop case heads the rewind undid; a case whose later entry is still sequenced points at that one."""
    for case_id, head in list(cursor.case_heads.items()):
        if head.index < cursor.size:
            continue
        del cursor.case_heads[case_id]
        for row in reversed(cursor.entries):
            if row[6] == case_id:
                cursor.case_heads[case_id] = CaseLink(cast(int, row[1]), cast(bytes, row[2]))
                break
        # Not found: the case's head is flushed or committed, and the next lookup reads it.


@event.listens_for(Session, "before_commit")
def _flush_before_commit(session: Session) -> None:
    flush(session)


@event.listens_for(Session, "after_commit")
def _publish_edges_after_commit(session: Session) -> None:
    cursors = session.info.get(_CURSORS)
    if cursors:
        edges = _EDGES.setdefault(_engine_of(session), {})
        for org, cursor in cursors.items():
            edges[org] = cursor.edge()


@event.listens_for(Session, "after_transaction_end")
def _forget_after_transaction(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_CURSORS, None)
        session.info.pop(_DRIVER, None)


def node_row(node: NodeId) -> int:
    """The entry row that stores ``node``: the last leaf of its range, the append that completed it."""
    level, idx = node
    return ((idx + 1) << level) - 1


def fetch_nodes(
    session: Session, organization_id: str, wanted: Iterable[NodeId], *, flush: bool = True
) -> dict[NodeId, bytes]:
    """Stored perfect-subtree hashes for ``wanted``, in one query; missing ones are an integrity failure.

    Node (0, i) is the leaf hash of entry i; node (L, i) for L >= 1 is slice L - 1 of ``parents`` in the
    row that completed it (``node_row``).
    """
    if flush:
        _flush(session)
    wanted = list(dict.fromkeys(wanted))
    if not wanted:
        return {}
    rows_needed = sorted({node_row(node) for node in wanted})
    db = _Driver.of(session)
    placeholders = ", ".join("?" * len(rows_needed))  # only placeholders are spliced in; values are bound
    lookup = "SELECT idx, leaf_hash, parents FROM ledger_entry WHERE organization_id = ? AND idx IN "
    db.execute(lookup + "(" + placeholders + ")", (organization_id, *rows_needed))
    rows = {int(idx): (bytes(leaf), bytes(parents)) for idx, leaf, parents in db.cursor.fetchall()}
    found: dict[NodeId, bytes] = {}
    missing: list[NodeId] = []
    for node in wanted:
        level = node[0]
        stored = rows.get(node_row(node))
        if stored is not None and level == 0:
            found[node] = stored[0]
        elif stored is not None and len(stored[1]) >= 32 * level:
            found[node] = stored[1][32 * (level - 1) : 32 * level]
        else:
            missing.append(node)
    if missing:
        raise IntegrityFailure(
            f"the stored ledger lacks {len(missing)} needed tree node(s), first {missing[0]}",
            details={"missing": [list(node) for node in missing]},
        )
    return found


def size(session: Session, organization_id: str) -> int:
    """The committed size (or, inside a writing transaction, the size including its own appends)."""
    _flush(session)
    db = _Driver.of(session)
    db.execute("SELECT idx FROM ledger_entry WHERE organization_id = ? ORDER BY idx DESC LIMIT 1", (organization_id,))
    row = db.cursor.fetchone()
    return int(row[0]) + 1 if row is not None else 0


def entry(session: Session, organization_id: str, index: int) -> LedgerEntry:
    if index < 0:
        raise InvalidInput(f"index must be >= 0; got {index}")
    _flush(session)
    row = session.get(LedgerEntry, (organization_id, index))
    if row is None:
        raise InvalidInput(f"index {index} is beyond the log (size {size(session, organization_id)})")
    return row


_flush = flush  # module-level alias: ``fetch_nodes`` has a parameter named ``flush``
