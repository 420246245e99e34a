"""Group commit: many concurrent writers, one transaction and one durable commit per batch.

Callers hand a unit of work (a function of a session) to ``Sequencer.run`` and block until it is
committed. There is no writer thread: the first caller to find no batch in progress becomes the leader
and, on its own thread and on the one connection the sequencer keeps, runs every unit waiting (its own
first) in one transaction and commits once; then it hands leadership to the oldest caller still waiting,
if any, and returns. A lone writer therefore commits on its own thread with no hand-off at all (a thread
wake-up costs about as much as the append itself); under load the fsync and the log lock are paid once
per batch instead of once per request. This is the write-group scheme of LevelDB and RocksDB. If a unit
raises, the batch is rolled back and run again with a savepoint per unit, so the failure reaches its own
caller alone.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from vault.db import Unit, WriteConnection
from vault.errors import WritePathMisuse
from vault.ledger.log import Edges

T = TypeVar("T")

#: The longest a leader waits for the previous batch's callers to queue their next units (seconds).
GATHER_WAIT = 0.0005


class _Unit:
    """One caller's work and, once its batch is done, its outcome. The caller waits on a bare lock: a
    fraction of the CPU a ``Future`` (a Python condition variable) costs per unit. The lock is released
    either when the outcome is settled or when the caller is made the next leader."""

    __slots__ = ("work", "promoted", "_wake", "_settled", "_ok", "_value")

    def __init__(self, work: Callable[[Unit], Any]) -> None:
        self.work = work
        #: Made the next leader; set under the sequencer's mutex, before the caller is woken.
        self.promoted = False
        self._wake = threading.Lock()
        self._wake.acquire()
        self._settled = False  # written by the leader of the unit's batch only
        self._ok = False
        self._value: Any = None

    def settle(self, ok: bool, value: Any) -> None:
        """Deliver the outcome (the first one only) and wake the caller."""
        if not self._settled:
            self._settled, self._ok, self._value = True, ok, value
            self._wake.release()

    def promote(self) -> None:
        """Wake the caller, unsettled: it leads the next batch (``promoted`` is already set)."""
        self._wake.release()

    def wait(self) -> bool:
        """Block until settled (True) or promoted to leader (False)."""
        self._wake.acquire()
        return self._settled

    def outcome(self) -> Any:
        if self._ok:
            return self._value
        raise self._value


class Sequencer:
    """Group commit for one engine; ``run`` is safe to call from any thread."""

    def __init__(self, engine: Engine, *, max_batch: int = 256) -> None:
        self._engine = engine
        self._max_batch = max_batch
        #: Guards ``_waiting`` and ``_leading``; held only for list operations, never across SQL.
        self._mutex = threading.Lock()
        self._waiting: deque[_Unit] = deque()
        self._leading = False
        #: How many units the last batch had: the next leader waits (briefly) for as many.
        self._expected = 1
        #: Held by a leader waiting for units (``_gather``); released by the caller whose unit makes the
        #: batch full, so the leader sleeps rather than spins while the callers it released queue again.
        self._gate: threading.Lock | None = None
        #: The kept connection and its unit of work, used by one leader at a time: no pool checkout (and,
        #: on PostgreSQL, no pre-ping round trip) and no new session per batch. Replaced when the database
        #: drops it.
        self._writer: WriteConnection | None = None
        #: The edges of the log this write path last committed (see ``log.Edges``).
        self._edges = Edges()
        #: Set on the leader's thread while it runs a batch: a unit asking for another unit would wait
        #: on its own batch forever.
        self._inside = threading.local()
        self.batches = 0
        self.units = 0

    def run(self, work: Callable[[Unit], T]) -> T:
        """Run ``work`` in the next batch and return its result once the batch has committed."""
        if getattr(self._inside, "active", False):
            raise NestedUnitOfWork(
                "a unit of work asked for another one (Services.transact inside Services.transact); "
                "pass the unit's session down instead"
            )
        unit = _Unit(work)
        gate = None
        with self._mutex:
            self._waiting.append(unit)
            lead = not self._leading
            self._leading = True
            if self._gate is not None and len(self._waiting) >= self._expected:
                gate, self._gate = self._gate, None
        if gate is not None:
            gate.release()
        if not lead:
            try:
                lead = not unit.wait()
            except BaseException:
                self._withdraw(unit)
                raise
        if lead:
            self._lead()
        result: T = unit.outcome()
        return result

    def close(self) -> None:
        """Drop the kept connection once no batch is in progress (a later ``run`` opens a new one)."""
        while True:
            with self._mutex:
                if not self._leading:
                    self._leading = True
                    break
            time.sleep(0.001)
        try:
            self._drop_connection()
        finally:
            self._pass_leadership()

    def _lead(self) -> None:
        """Run one batch as leader, then pass leadership on."""
        try:
            batch = self._gather()
            self._commit(batch)
            self._expected = len(batch)
        finally:
            self._pass_leadership()

    def _pass_leadership(self) -> None:
        """Wake the oldest waiting caller to lead the next batch, or give leadership up when nobody waits."""
        with self._mutex:
            successor = self._waiting[0] if self._waiting else None
            self._leading = successor is not None
            if successor is not None:
                successor.promoted = True
        if successor is not None:
            successor.promote()

    def _withdraw(self, unit: _Unit) -> None:
        """A caller stopped waiting (an exception raised in its thread). Its unit is taken back if no batch
        has taken it yet (one that has will settle it unheard); if the caller had just been made leader,
        leadership passes on, so the callers behind it are not left without one."""
        with self._mutex:
            if unit not in self._waiting:
                return
            self._waiting.remove(unit)
            promoted = unit.promoted
        if promoted:
            self._pass_leadership()

    def _gather(self) -> list[_Unit]:
        """Take every waiting unit; while fewer than the last batch's callers are back, wait a little.

        Callers released by the last commit need the interpreter to queue their next unit. Without a short
        wait the leader commits whoever made it first and the batches alternate between large and small;
        with it, a steady set of writers shares one commit. The wait ends as soon as the previous batch's
        number of units is queued, and after ``GATHER_WAIT`` seconds at most (when load falls). The leader
        sleeps on a lock meanwhile rather than polling: a poll competes with those very callers for the
        interpreter lock, and cost about as much per batch as the batch's own statements.
        """
        with self._mutex:
            gate = None
            if len(self._waiting) < min(self._expected, self._max_batch):
                gate = self._gate = threading.Lock()
                gate.acquire()
        if gate is not None:
            gate.acquire(timeout=GATHER_WAIT)  # released by the caller that fills the batch
        with self._mutex:
            self._gate = None
            take = min(len(self._waiting), self._max_batch)
            return [self._waiting.popleft() for _ in range(take)]

    def _commit(self, batch: list[_Unit]) -> None:
        # Fast path: the whole batch in one transaction with no savepoints (units rarely fail). If any unit
        # raises, that transaction is rolled back and the batch runs again with a savepoint per unit, so
        # the failure stays with its own caller. Units are functions of the session alone, so running one
        # again after a rollback is safe.
        try:
            results = self._run_once_more_if_disconnected(batch)
        except _UnitFailed:
            try:
                results = self._run(batch, isolate=True)
            except BaseException as exc:  # noqa: BLE001 - the batch failed to commit: every unit fails
                self._fail(batch, exc)
                return
        except BaseException as exc:  # noqa: BLE001 - the batch failed to commit: every unit fails
            self._fail(batch, exc)
            return
        self.batches += 1
        self.units += len(batch)
        for unit, ok, value in results:
            unit.settle(ok, value)

    def _run_once_more_if_disconnected(self, batch: list[_Unit]) -> list[tuple[_Unit, bool, Any]]:
        # The kept connection may have been dropped (a database restart); nothing of the batch committed
        # then, so it runs again once on a new connection.
        try:
            return self._run(batch, isolate=False)
        except _UnitFailed as failed:
            cause = failed.__cause__
            if not (isinstance(cause, DBAPIError) and cause.connection_invalidated):
                raise
        self._drop_connection()
        return self._run(batch, isolate=False)

    def _drop_connection(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._writer = None

    def _write_connection(self) -> WriteConnection:
        if self._writer is None or not self._writer.usable:
            self._drop_connection()
            self._writer = WriteConnection(self._engine, self._edges)
        return self._writer

    def _run(self, batch: list[_Unit], *, isolate: bool) -> list[tuple[_Unit, bool, Any]]:
        self._inside.active = True
        try:
            return self._run_batch(batch, isolate=isolate)
        finally:
            self._inside.active = False

    def _run_batch(self, batch: list[_Unit], *, isolate: bool) -> list[tuple[_Unit, bool, Any]]:
        results: list[tuple[_Unit, bool, Any]] = []
        writer = self._write_connection()
        session: Unit = writer.unit
        try:
            for unit in batch:
                if not isolate:
                    try:
                        results.append((unit, True, unit.work(session)))
                    except BaseException as exc:
                        writer.end()  # rolls the batch back
                        raise _UnitFailed from exc
                    continue
                savepoint = session.begin_nested()
                # SQLAlchemy sets a savepoint only when the session next needs its connection; the ledger
                # writes through the driver, so without this a unit's appends written before it failed
                # would stay behind its savepoint's rollback.
                session.connection()
                position = session.ledger.mark()
                try:
                    value = unit.work(session)
                    savepoint.commit()
                    results.append((unit, True, value))
                except BaseException as exc:  # noqa: BLE001 - delivered to the unit's caller
                    savepoint.rollback()
                    session.ledger.rewind(position)
                    results.append((unit, False, exc))
            writer.commit()
        finally:
            writer.end()
        return results

    @staticmethod
    def _fail(batch: list[_Unit], exc: BaseException) -> None:
        for unit in batch:
            unit.settle(False, exc)


class NestedUnitOfWork(WritePathMisuse):
    """A unit of work tried to start another from inside its batch: a programming error, never user input
    (the inner unit would wait for the batch it runs in, forever)."""

    code = "nested-unit-of-work"


class _UnitFailed(Exception):
    """A unit raised on the fast path; the batch is retried with one savepoint per unit."""
