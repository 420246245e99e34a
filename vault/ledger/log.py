"""The organization's append-only log, written through the unit of work's ``LedgerWriter``.

The log follows the split of transparency-dev Tessera. *Sequence*: under the organization's lock, an
entry gets the next index (one past the last stored entry) and, for an entry of a case, a link to the
case's previous entry (``entries.CaseLink``), so each case is a hash chain through the log. *Integrate*:
the entry's leaf and the interior nodes it completes are computed in memory from the tree's right edge.
*Publish* (``publish.py``): a signed checkpoint of the new head, later and separately.

Appends run inside the caller's unit of work (``vault/db.py``'s ``Unit``, from ``Services.transact``),
so a domain row and its ledger entry commit together or not at all. Each unit holds one
``LedgerWriter``: appends are sequenced and integrated in memory and written in one statement per
organization when the unit flushes (before any ORM query, and at commit). Each append writes exactly
one row, which carries the interior nodes it completes (``LedgerEntry.parents``). With group commit
(``sequencer.py``) many requests share one unit, one lock and one fsync.

The lock is taken one way, by the first append or ``lock`` of a unit (``_read_head``): SQLite already
holds its write lock from ``BEGIN IMMEDIATE`` (``vault/db.py``); PostgreSQL takes a transaction-scoped
advisory lock keyed by the organization inside ``offboard_ledger_head``, which also reads the head.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import cast

from sqlmodel import Session

from vault.clock import Clock, system_clock
from vault.errors import InvalidInput, WritePathMisuse
from vault.ledger.driver import Driver, lock_key, read_nodes
from vault.ledger.driver import node_row as node_row  # re-exported: callers ask the log where a node lives
from vault.ledger.entries import CaseLink, EntryDraft, encode_entry
from vault.ledger.hashing import LeafHash, leaf_hash
from vault.ledger.tree import NodeId, nodes_completed_by_append, root_nodes_needed
from vault.models import INT_COLUMN_MAX, LedgerEntry


@dataclass(frozen=True, slots=True)
class Appended:
    """Where an entry landed."""

    index: int
    leaf_hash: LeafHash
    body: bytes


@dataclass(frozen=True, slots=True)
class _Edge:
    """A committed state of one organization's log as a writer last left it: the size, the last leaf,
    and the nodes the root folds (exactly the left siblings any later append can need)."""

    size: int
    last_leaf: bytes | None
    nodes: dict[NodeId, bytes]
    #: The last entry of recently written cases, at this size (valid exactly when the edge is).
    case_heads: dict[str, CaseLink]


#: Case heads an edge remembers: enough for the cases being worked on at once; others cost one query.
EDGE_CASE_HEADS = 1024


class Edges:
    """The edges left by the last committed units of one write path (one ``Sequencer``), per organization.

    A writer that finds the log (under its lock) still at an edge's size and last leaf skips reading the
    right edge and the case heads from the database; anything else (another process appended, a
    restore) reads them again. An edge is stored only after its unit committed, and a committed (size,
    last leaf) never changes its nodes. Owned by the write path, never shared through a global.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._edges: dict[str, _Edge] = {}

    def get(self, organization_id: str) -> _Edge | None:
        with self._lock:
            return self._edges.get(organization_id)

    def store(self, edges: dict[str, _Edge]) -> None:
        with self._lock:
            self._edges.update(edges)


@dataclass(slots=True)
class _Cursor:
    """One organization's log as this unit sees it: the next index, the right edge of the tree, and rows
    sequenced but not yet written."""

    organization_id: str
    size: int
    last_leaf: bytes | None
    known: dict[NodeId, bytes]
    #: The last entry of each case this unit has looked up or appended to.
    case_heads: dict[str, CaseLink] = field(default_factory=dict)
    #: ``ledger_entry`` rows in column order (organization_id, idx, leaf_hash, parents, body, entry_type,
    #: case_id, created_at), written by ``LedgerWriter.flush``.
    entries: list[tuple[object, ...]] = field(default_factory=list)

    def edge(self) -> _Edge:
        """This cursor's state as an edge; called once its unit committed, after which the cursor is dropped
        (so the edge may keep its case heads without a copy)."""
        heads = self.case_heads
        if len(heads) > EDGE_CASE_HEADS:
            heads = dict(list(heads.items())[-EDGE_CASE_HEADS:])
        return _Edge(self.size, self.last_leaf, {n: self.known[n] for n in root_nodes_needed(self.size)}, heads)


_INSERT = (
    "INSERT INTO ledger_entry (organization_id, idx, leaf_hash, parents, body, entry_type, case_id, created_at) VALUES "
)
#: Rows per INSERT statement: 8 parameters each stays far below both drivers' parameter limits.
INSERT_CHUNK = 500


@lru_cache(maxsize=64)
def _insert(rows: int) -> str:
    """The INSERT of ``rows`` entries, made once per row count: the same text each time, so both drivers
    reuse the statement they prepared for it."""
    return _INSERT + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * rows)  # placeholders only; values are bound


@dataclass(frozen=True, slots=True)
class Mark:
    """Where each organization's cursor stood, so a failed piece of a unit can be undone (``rewind``)."""

    positions: dict[str, tuple[int, int, bytes | None]]


class LedgerWriter:
    """The ledger appends of one unit of work: sequenced and integrated in memory, written by ``flush``.

    Made by the unit (``vault/db.py``), which calls ``flush`` before ORM queries and at commit,
    ``committed`` after its commit and ``reset`` when its transaction ends; domain code reaches it
    through ``append``/``lock_log`` below.
    """

    def __init__(self, session: Session, edges: Edges | None = None, begin: Callable[[], Driver] | None = None) -> None:
        self._session = session
        self._edges = edges
        #: The write path's kept cursor, its transaction begun (``vault/db.py``'s ``WriteConnection``);
        #: without it, a cursor is made per transaction from the session's connection.
        self._begin = begin
        self._cursors: dict[str, _Cursor] = {}
        self._driver: Driver | None = None

    # -- the driver ---------------------------------------------------------------------------------

    def driver(self) -> Driver:
        """The DB-API cursor of the unit's current transaction (begun if need be)."""
        if self._driver is None:
            self._driver = self._begin() if self._begin is not None else Driver.of(self._session)
        return self._driver

    # -- sequence and integrate ---------------------------------------------------------------------

    def lock(self, organization_id: str) -> None:
        """Serialize with every other writer of this organization's log until the unit commits."""
        self._cursor(organization_id)

    def append(self, draft: EntryDraft, *, clock: Clock = system_clock) -> Appended:
        return self.append_many([draft], clock=clock)[0]

    def append_many(self, drafts: Sequence[EntryDraft], *, clock: Clock = system_clock) -> list[Appended]:
        """Sequence and integrate entries of one organization, in order; ``flush`` writes them."""
        if not drafts:
            return []
        organization_id = drafts[0].organization_id
        if any(d.organization_id != organization_id for d in drafts):
            raise InvalidInput("one append batch must stay within one organization's log")
        cursor = self._cursor(organization_id)
        appended: list[Appended] = []
        for draft in drafts:
            index = cursor.size
            now = clock()
            prev = self._case_head(cursor, draft.case_id) if draft.case_id is not None else None
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

    def _cursor(self, organization_id: str) -> _Cursor:
        cursor = self._cursors.get(organization_id)
        if cursor is None:
            size, last_leaf = self._read_head(organization_id)
            edge = self._edges.get(organization_id) if self._edges is not None else None
            if edge is not None and edge.size == size and edge.last_leaf == last_leaf:
                known, heads = dict(edge.nodes), dict(edge.case_heads)
            else:
                # Every left sibling a later append can need lies either among this unit's own appends or
                # in the perfect subtrees that make up the tree before them: exactly the nodes of its root.
                known, heads = read_nodes(self.driver(), organization_id, root_nodes_needed(size)), {}
            cursor = _Cursor(organization_id, size, last_leaf, known, heads)
            self._cursors[organization_id] = cursor
        return cursor

    def _read_head(self, organization_id: str) -> tuple[int, bytes | None]:
        """Take the log's lock and read its last entry: (size, last leaf hash). One round trip on PostgreSQL."""
        db = self.driver()
        if db.postgres:
            db.execute(
                "SELECT last_idx, last_leaf FROM offboard_ledger_head(?, ?)",
                (lock_key(organization_id), organization_id),
            )
        else:  # BEGIN IMMEDIATE already holds the write lock
            db.execute(
                "SELECT idx, leaf_hash FROM ledger_entry WHERE organization_id = ? ORDER BY idx DESC LIMIT 1",
                (organization_id,),
            )
        row = db.cursor.fetchone()
        return (0, None) if row is None else (int(row[0]) + 1, bytes(row[1]))

    def _case_head(self, cursor: _Cursor, case_id: str) -> CaseLink | None:
        """The case's last entry as this unit sees it (``None``: the case has none yet).

        Read under the log's lock, so no other writer can append to the case in between. Entries this
        unit sequenced are always in ``case_heads``; flushed ones are visible to the query.
        """
        head = cursor.case_heads.get(case_id)
        if head is None:
            db = self.driver()
            db.execute(
                "SELECT idx, leaf_hash FROM ledger_entry WHERE organization_id = ? AND case_id = ? "
                "ORDER BY idx DESC LIMIT 1",
                (cursor.organization_id, case_id),
            )
            row = db.cursor.fetchone()
            if row is not None:
                head = CaseLink(int(row[0]), bytes(row[1]))
        return head

    # -- write, commit, undo --------------------------------------------------------------------------

    @property
    def pending(self) -> bool:
        return any(cursor.entries for cursor in self._cursors.values())

    def flush(self) -> None:
        """Write every sequenced entry: one multi-row INSERT per organization (and per ``INSERT_CHUNK``).

        Multi-row rather than ``executemany``: one round trip on PostgreSQL, where ``executemany`` goes
        through pipeline mode and costs several times more.
        """
        for cursor in self._cursors.values():
            if not cursor.entries:
                continue
            db = self.driver()
            rows = cursor.entries
            for start in range(0, len(rows), INSERT_CHUNK):
                chunk = rows[start : start + INSERT_CHUNK]
                params = [value for row in chunk for value in (*row[:-1], db.time(row[-1]))]
                db.execute(_insert(len(chunk)), params)
            cursor.entries = []

    def committed(self) -> None:
        """The unit committed: leave its edges for the next units of the same write path."""
        if self._edges is not None and self._cursors:
            self._edges.store({org: cursor.edge() for org, cursor in self._cursors.items()})
        self.reset()

    def reset(self) -> None:
        """The transaction ended (committed or rolled back): forget its cursors and its driver cursor."""
        self._cursors = {}
        self._driver = None

    def mark(self) -> Mark:
        return Mark({org: (c.size, len(c.entries), c.last_leaf) for org, c in self._cursors.items()})

    def rewind(self, to: Mark) -> None:
        """Forget appends made after ``to`` that were not flushed; cursors created since are dropped.

        Flushed rows belong to the enclosing SQL savepoint and roll back with it; a cursor that flushed
        after the mark is dropped entirely, so the next append re-reads the head inside the transaction.
        """
        for org in list(self._cursors):
            cursor = self._cursors[org]
            position = to.positions.get(org)
            if (
                position is None
                or position[1] > len(cursor.entries)
                or cursor.size - len(cursor.entries) != (position[0] - position[1])
            ):
                del self._cursors[org]
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


def writer(session: Session) -> LedgerWriter:
    """The ledger writer of the unit of work ``session`` belongs to; a plain session cannot append."""
    found = getattr(session, "ledger", None)
    if not isinstance(found, LedgerWriter):
        raise WritePathMisuse("ledger appends need a unit of work (Services.transact); this session only reads")
    return found


def append(session: Session, draft: EntryDraft, *, clock: Clock = system_clock) -> Appended:
    """Append one entry in the caller's unit of work; it is written and committed with the unit."""
    return writer(session).append(draft, clock=clock)


def append_many(session: Session, drafts: Sequence[EntryDraft], *, clock: Clock = system_clock) -> list[Appended]:
    """Sequence entries of one organization, in order, in the caller's unit of work."""
    return writer(session).append_many(drafts, clock=clock)


def lock_log(session: Session, organization_id: str) -> None:
    """Serialize with every other writer of this organization's log until the unit commits."""
    writer(session).lock(organization_id)


def mark(session: Session) -> Mark:
    return writer(session).mark()


def rewind(session: Session, to: Mark) -> None:
    writer(session).rewind(to)


def _pending_written(session: Session) -> Driver:
    """The driver to read the ledger through, after writing the unit's own appends (if it is a unit)."""
    found = getattr(session, "ledger", None)
    if isinstance(found, LedgerWriter):
        found.flush()
        return found.driver()
    return Driver.of(session)


#: For ``bench/ledger.py``, which takes the same advisory lock through the bare driver.
_lock_key = lock_key


def fetch_nodes(session: Session, organization_id: str, wanted: Iterable[NodeId]) -> dict[NodeId, bytes]:
    """Stored perfect-subtree hashes for ``wanted``, in one query; missing ones are an integrity failure.

    Inside a unit of work its own appends are written first, so they are found too.
    """
    return read_nodes(_pending_written(session), organization_id, wanted)


def size(session: Session, organization_id: str) -> int:
    """The committed size (or, inside a unit of work, the size including its own appends)."""
    db = _pending_written(session)
    db.execute("SELECT idx FROM ledger_entry WHERE organization_id = ? ORDER BY idx DESC LIMIT 1", (organization_id,))
    row = db.cursor.fetchone()
    return int(row[0]) + 1 if row is not None else 0


def entry(session: Session, organization_id: str, index: int) -> LedgerEntry:
    if index < 0:
        raise InvalidInput(f"index must be >= 0; got {index}")
    _pending_written(session)
    row = session.get(LedgerEntry, (organization_id, index)) if index <= INT_COLUMN_MAX else None
    if row is None:
        raise InvalidInput(f"index {index} is beyond the log (size {size(session, organization_id)})")
    return row
