"""Group commit: many concurrent writers, one transaction and one durable commit per batch.

Callers hand a unit of work (a function of a session) to ``Sequencer.run`` and block until it is
committed. A single writer thread, on a connection it keeps, takes every unit waiting and runs them in one
transaction, then commits once. If a unit raises, the batch is rolled back and run again with a savepoint
per unit, so the failure reaches its own caller alone. Under load the fsync and the log lock are paid
once per batch instead of once per request; with one writer a batch is a single unit.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from vault.ledger import log

T = TypeVar("T")

#: The longest the writer waits for the previous batch's callers to queue their next units (seconds).
GATHER_WAIT = 0.0005


class _Unit:
    """One caller's work and, once its batch is done, its outcome. The caller waits on a bare lock that the
    writer releases: a fraction of the CPU a ``Future`` (a Python condition variable) costs per unit."""

    __slots__ = ("work", "_done", "_settled", "_ok", "_value")

    def __init__(self, work: Callable[[Session], Any]) -> None:
        self.work = work
        self._done = threading.Lock()
        self._done.acquire()
        self._settled = False  # written by the writer thread only
        self._ok = False
        self._value: Any = None

    def settle(self, ok: bool, value: Any) -> None:
        """Deliver the outcome (the first one only) and wake the caller."""
        if not self._settled:
            self._settled, self._ok, self._value = True, ok, value
            self._done.release()

    def outcome(self) -> Any:
        self._done.acquire()
        if self._ok:
            return self._value
        raise self._value


class Sequencer:
    """One writer thread per engine; ``run`` is safe to call from any thread."""

    def __init__(self, engine: Engine, *, max_batch: int = 256) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Unit | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="offboard-sequencer", daemon=True)
        self._started = False
        self._lock = threading.Lock()
        #: The writer thread's own connection, kept across batches: no pool checkout (and, on PostgreSQL, no
        #: pre-ping round trip) per batch. Replaced when the database drops it.
        self._connection: Connection | None = None
        self.batches = 0
        self.units = 0

    def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in the next batch and return its result once the batch has committed."""
        with self._lock:
            if not self._started:
                self._thread.start()
                self._started = True
        unit = _Unit(work)
        self._queue.put(unit)
        result: T = unit.outcome()
        return result

    def close(self) -> None:
        with self._lock:
            if self._started:
                self._queue.put(None)
                self._thread.join(timeout=10)
                self._started = False

    def _loop(self) -> None:
        expected = 1
        while True:
            first = self._queue.get()
            if first is None:
                self._drop_connection()
                return
            batch = [first]
            self._gather(batch, expected)
            self._commit(batch)
            expected = len(batch)

    def _gather(self, batch: list[_Unit], expected: int) -> None:
        """Take every waiting unit; while fewer than the last batch's callers are back, wait a little.

        Callers released by the last commit need the interpreter to queue their next unit. Without a short
        wait the writer commits whoever made it first and the batches alternate between large and small;
        with it, a steady set of writers shares one commit. The wait ends as soon as the previous batch's
        number of units is queued, and after ``GATHER_WAIT`` seconds at most (when load falls).
        """
        deadline = 0.0
        while len(batch) < self._max_batch:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                if len(batch) >= expected:
                    return
                now = time.monotonic()
                if not deadline:
                    deadline = now + GATHER_WAIT
                elif now >= deadline:
                    return
                time.sleep(0)  # let released callers run
                continue
            if more is None:
                self._queue.put(None)  # finish this batch, then stop
                return
            batch.append(more)

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
        if self._connection is not None:
            self._connection.close()
        self._connection = None

    def _session(self) -> Session:
        if self._connection is None or self._connection.invalidated or self._connection.closed:
            self._connection = self._engine.connect()
        return Session(bind=self._connection, expire_on_commit=False)

    def _run(self, batch: list[_Unit], *, isolate: bool) -> list[tuple[_Unit, bool, Any]]:
        results: list[tuple[_Unit, bool, Any]] = []
        with self._session() as session:
            for unit in batch:
                if not isolate:
                    try:
                        results.append((unit, True, unit.work(session)))
                    except BaseException as exc:
                        try:
                            session.rollback()
                        except DBAPIError:
                            pass  # the connection is gone (and invalidated): nothing of the batch committed
                        raise _UnitFailed from exc
                    continue
                savepoint = session.begin_nested()
                position = log.mark(session)
                try:
                    value = unit.work(session)
                    savepoint.commit()
                    results.append((unit, True, value))
                except BaseException as exc:  # noqa: BLE001 - delivered to the unit's caller
                    savepoint.rollback()
                    log.rewind(session, position)
                    results.append((unit, False, exc))
            session.commit()
        return results

    @staticmethod
    def _fail(batch: list[_Unit], exc: BaseException) -> None:
        for unit in batch:
            unit.settle(False, exc)


class _UnitFailed(Exception):
    """A unit raised on the fast path; the batch is retried with one savepoint per unit."""
