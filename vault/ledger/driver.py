"""The ledger's SQL through the transaction's own DB-API cursor, and where each tree node is stored.

The append path and the node lookups speak plain SQL through the driver: the same statements through
SQLAlchemy cost several times more CPU than the database needs to run them, and this path runs once per
recorded event. Each ``ledger_entry`` row stores its leaf hash and the interior nodes its append
completed (``parents``), so node (L, i) lives in the row of the last leaf of its range (``node_row``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table
from sqlmodel import Session

from vault.errors import IntegrityFailure
from vault.ledger.tree import NodeId
from vault.models import LedgerEntry

_ENTRY: Table = LedgerEntry.__table__  # type: ignore[attr-defined]


def lock_key(organization_id: str) -> int:
    # A stable signed 64-bit key per organization for pg_advisory_xact_lock.
    return int.from_bytes(
        hashlib.sha256(b"offboard-ledger:" + organization_id.encode()).digest()[:8], "big", signed=True
    )


@dataclass(frozen=True, slots=True)
class Driver:
    """The transaction's own DB-API cursor. The append path speaks plain SQL through the driver: the same
    statements through SQLAlchemy cost several times more CPU than the database needs to run them, and
    this path runs once per recorded event."""

    cursor: Any
    #: Whether the driver's placeholder is ``?`` (sqlite3) rather than ``%s`` (psycopg).
    qmark: bool
    postgres: bool
    time: Callable[[object], object]

    def execute(self, statement: str, params: Sequence[object]) -> None:
        self.cursor.execute(statement if self.qmark else _format_style(statement), params)

    @classmethod
    def of(cls, session: Session) -> Driver:
        """A cursor on the session's current transaction (begun if need be)."""
        return cls.on(session.connection())  # joins (or begins) the session's transaction

    @classmethod
    def on(cls, connection: Connection) -> Driver:
        """A cursor on ``connection``: the write path keeps one for as long as it keeps the connection (a
        cursor outlives transactions in both drivers); the caller begins each transaction first."""
        dialect = connection.dialect
        processor = _ENTRY.c.created_at.type.bind_processor(dialect)
        return cls(
            cursor=connection.connection.cursor(),
            qmark=dialect.paramstyle == "qmark",
            postgres=dialect.name == "postgresql",
            time=processor if processor is not None else (lambda value: value),
        )


@lru_cache(maxsize=256)
def _format_style(statement: str) -> str:
    # Statements are written with ``?`` placeholders and no literal question marks; psycopg wants ``%s``.
    # Converted once per statement: the same text then also hits psycopg's prepared-statement cache.
    return statement.replace("?", "%s")


def node_row(node: NodeId) -> int:
    """The entry row that stores ``node``: the last leaf of its range, the append that completed it."""
    level, idx = node
    return ((idx + 1) << level) - 1


def read_nodes(db: Driver, organization_id: str, wanted: Iterable[NodeId]) -> dict[NodeId, bytes]:
    """Node (0, i) is the leaf hash of entry i; node (L, i) for L >= 1 is slice L - 1 of ``parents`` in the
    row that completed it (``node_row``)."""
    wanted = list(dict.fromkeys(wanted))
    if not wanted:
        return {}
    rows_needed = sorted({node_row(node) for node in wanted})
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
