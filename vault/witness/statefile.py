"""The witness's own state: per log (origin), the size, root and note of the last checkpoint it cosigned.

One SQLite file in the witness's folder, never Offboard's database. ``advance`` reads a log's record,
lets the caller decide the next one, and writes it in one ``BEGIN IMMEDIATE`` transaction: the check of
the old size and the write of the new state are atomic (the race tlog-witness warns of cannot happen,
not even between two processes on one file), and the commit is fsynced (``synchronous=FULL``) before
``advance`` returns, so a cosignature is only ever made for a state already on disk.

Sizes are stored as decimal text: C2SP sizes go to 2^64 - 1, SQLite integers stop at 2^63 - 1.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from vault.errors import ConfigurationError
from vault.ledger.hashing import HASH_SIZE, RootHash

SCHEMA = """
CREATE TABLE IF NOT EXISTS log_state (
    origin TEXT PRIMARY KEY,
    size TEXT NOT NULL,
    root_hash BLOB NOT NULL,
    note TEXT NOT NULL,
    cosigned_at INTEGER NOT NULL
)
"""
#: How long a submission waits for another process's transaction on the same file.
BUSY_TIMEOUT_SECONDS = 10.0


class WitnessStateError(ConfigurationError):
    """The witness's state file cannot be opened, or holds a record no witness wrote."""

    code = "witness-state-error"


@dataclass(frozen=True, slots=True)
class LogRecord:
    """The last checkpoint cosigned for one log."""

    #: The log's origin line.
    origin: str
    #: Its tree size.
    size: int
    #: Its root hash (32 bytes).
    root_hash: RootHash
    #: The checkpoint note as submitted, with the witness's cosignature line appended.
    note: str
    #: POSIX seconds of that cosignature.
    cosigned_at: int


class WitnessState:
    """The state file at ``path``; each call opens its own connection, so threads may share one instance."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            with closing(self._connect()) as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(SCHEMA)
        except sqlite3.Error as exc:
            raise WitnessStateError(f"cannot open the witness state file {path}: {exc}") from exc

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: transactions are begun explicitly (BEGIN IMMEDIATE), never implicitly.
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        db.execute("PRAGMA synchronous=FULL")
        return db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def get(self, origin: str) -> LogRecord | None:
        """The record of ``origin``, or None if this witness never cosigned for it."""
        with closing(self._connect()) as db:
            return _record(db, origin)

    def advance(self, origin: str, decide: Callable[[LogRecord | None], LogRecord]) -> LogRecord:
        """Write ``decide(current)`` as the log's record in one durable transaction; ``decide`` raising
        leaves the record as it was."""
        try:
            with self._transaction() as db:
                new = decide(_record(db, origin))
                db.execute(
                    "INSERT INTO log_state (origin, size, root_hash, note, cosigned_at) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root_hash = excluded.root_hash, "
                    "note = excluded.note, cosigned_at = excluded.cosigned_at",
                    (new.origin, str(new.size), bytes(new.root_hash), new.note, new.cosigned_at),
                )
        except sqlite3.Error as exc:
            raise WitnessStateError(f"cannot update the witness state file {self.path}: {exc}") from exc
        return new


def _record(db: sqlite3.Connection, origin: str) -> LogRecord | None:
    row = db.execute("SELECT size, root_hash, note, cosigned_at FROM log_state WHERE origin = ?", (origin,)).fetchone()
    if row is None:
        return None
    size, root, note, cosigned_at = row
    if not isinstance(root, bytes) or len(root) != HASH_SIZE or not str(size).isdigit():
        raise WitnessStateError(f"the witness state of {origin!r} is damaged (size {size!r})")
    return LogRecord(origin=origin, size=int(size), root_hash=RootHash(root), note=note, cosigned_at=cosigned_at)
