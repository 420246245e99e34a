"""The worker's loop: ``run_due`` every ``worker_poll_seconds`` until told to stop, in a thread of
``offboard serve`` (``api/app.py``) or in the foreground of ``offboard worker``."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from vault.errors import OffboardError
from vault.jobs.registry import Registry
from vault.jobs.runner import RunReport, release, run_due

if TYPE_CHECKING:
    from vault.services import Services

logger = logging.getLogger("offboard.worker")

#: Jobs one tick runs at most: the loop goes round again at once while ticks come back full.
TICK_LIMIT = 1000
#: ``--once`` runs everything due: a bound no queue reaches, so a handler that keeps re-enqueueing cannot spin.
ONCE_LIMIT = 10_000_000


def new_worker_id() -> str:
    """A name unique to this worker's run (host, process, random), written in the leases it holds."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_once(services: Services, *, now: datetime, registry: Registry | None = None) -> RunReport:
    """Everything due at ``now`` (``offboard worker --once [--at]``), then the lease is given back."""
    worker_id = new_worker_id()
    try:
        return run_due(services, now=now, worker_id=worker_id, limit=ONCE_LIMIT, registry=registry)
    finally:
        release(services, worker_id=worker_id)


class Worker:
    """Runs ``run_due`` until ``stop()``: in a daemon thread (``start``) or on the caller's (``run``)."""

    def __init__(self, services: Services, *, registry: Registry | None = None) -> None:
        self._services = services
        self._registry = registry
        self.worker_id = new_worker_id()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.run, name="offboard-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop_soon(self) -> None:
        """Ask the loop to stop after the batch it is running (a signal handler's call: it does not wait)."""
        self._stop.set()

    def stop(self) -> None:
        """Ask the loop to stop after the batch it is running, wait for it, and give its lease back."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def run(self) -> None:
        poll = self._services.settings.worker_poll_seconds
        try:
            while not self._stop.is_set():
                if not self._tick() and self._stop.wait(poll):
                    break
        finally:
            try:
                release(self._services, worker_id=self.worker_id)
            except OffboardError as exc:  # the lease then expires by itself
                logger.warning("could not release the worker lease: %s", exc.message)

    def _tick(self) -> bool:
        """One ``run_due``; ``True`` when it came back full (more is due: go round again at once)."""
        try:
            report = run_due(
                self._services,
                now=self._services.clock(),
                worker_id=self.worker_id,
                limit=TICK_LIMIT,
                registry=self._registry,
            )
        except OffboardError as exc:
            logger.error("worker tick refused: %s", exc.message)
            return False
        except Exception:  # a database hiccup must not kill the worker; the next tick tries again
            logger.exception("worker tick failed")
            return False
        return report.claimed >= TICK_LIMIT
