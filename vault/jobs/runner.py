"""``run_due``: one tick of the worker. Run the sweeps, then claim due jobs in batches, run each with its
kind's handler, and record every outcome (done, retried with backoff, failed)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from vault.db import Unit
from vault.errors import GiveUp, OffboardError, RetryLater
from vault.jobs import queue
from vault.jobs.queue import ClaimedJob
from vault.jobs.registry import Kind, Registry

if TYPE_CHECKING:
    from vault.services import Services

logger = logging.getLogger("offboard.worker")

#: Jobs claimed per transaction: large enough that claims cost little per job, small enough that a killed
#: worker leaves few jobs waiting for their lease to expire.
BATCH = 100
#: The shortest retry delay: a handler asking to retry "now" must not spin.
MIN_RETRY = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class RunReport:
    """What one ``run_due`` did."""

    #: Jobs claimed (each ran its handler once).
    claimed: int = 0
    done: int = 0
    retried: int = 0
    failed: int = 0
    #: Sweeps that raised (logged; the tick went on).
    sweep_errors: int = 0
    #: SQLite only: another worker holds the lease, so this one ran nothing.
    lease_held_elsewhere: bool = False

    def plus(self, other: RunReport) -> RunReport:
        return RunReport(
            self.claimed + other.claimed,
            self.done + other.done,
            self.retried + other.retried,
            self.failed + other.failed,
            self.sweep_errors + other.sweep_errors,
            self.lease_held_elsewhere or other.lease_held_elsewhere,
        )


def run_due(
    services: Services,
    *,
    now: datetime,
    worker_id: str,
    limit: int,
    registry: Registry | None = None,
) -> RunReport:
    """Run the sweeps, then up to ``limit`` jobs due at ``now`` (``--at`` passes its instant as ``now``)."""
    if registry is None:
        from vault.jobs.catalog import default_registry

        registry = default_registry()
    lease = timedelta(seconds=services.settings.worker_lease_seconds)
    if services.engine.dialect.name != "postgresql":
        held = services.transact(lambda s: queue.hold_worker_lease(s, worker_id=worker_id, now=now, lease=lease))
        if not held:
            return RunReport(lease_held_elsewhere=True)
    report = RunReport(sweep_errors=_sweep(services, registry, now))
    kinds = list(registry.kinds)
    while report.claimed < limit:
        size = min(BATCH, limit - report.claimed)
        claim = partial(queue.claim, now=now, worker_id=worker_id, kinds=kinds, limit=size, lease=lease)
        jobs = services.transact(claim)
        if not jobs:
            break
        report = report.plus(_run_batch(services, registry, jobs, now))
    return report


def release(services: Services, *, worker_id: str) -> None:
    """A clean exit: give up the SQLite worker lease so the next worker starts at once."""
    if services.engine.dialect.name != "postgresql":
        services.transact(lambda s: queue.release_worker_lease(s, worker_id=worker_id))


def _sweep(services: Services, registry: Registry, now: datetime) -> int:
    errors = 0
    for name, sweep in registry.sweeps.items():
        try:
            sweep(services, now)
        except Exception:  # one broken sweep must not stop the jobs or the other sweeps
            logger.exception("sweep %s failed", name)
            errors += 1
    return errors


def _run_batch(services: Services, registry: Registry, jobs: Sequence[ClaimedJob], now: datetime) -> RunReport:
    failures: dict[str, BaseException] = {}
    by_kind: dict[str, list[ClaimedJob]] = {}
    for job in jobs:
        by_kind.setdefault(job.kind, []).append(job)
    for name, group in by_kind.items():
        failures.update(_run_kind(services, registry.kinds[name], group, now))
    succeeded = [j for j in jobs if j.id not in failures]
    retried = failed = 0

    def record(session: Unit) -> None:
        nonlocal retried, failed
        # Handlers that wrote their effect already completed their jobs in that unit; this is a no-op for them.
        queue.complete_many(session, jobs=succeeded, now=now)
        for job in jobs:
            if job.id in failures:
                if _settle(session, registry.kinds[job.kind], job, failures[job.id], now):
                    retried += 1
                else:
                    failed += 1

    services.transact(record)
    return RunReport(claimed=len(jobs), done=len(succeeded), retried=retried, failed=failed)


def _run_kind(services: Services, kind: Kind, jobs: list[ClaimedJob], now: datetime) -> Mapping[str, BaseException]:
    if kind.run_batch is not None:
        try:
            return kind.run_batch(services, jobs, now)
        except Exception as exc:  # a batch handler that raised failed every job of the batch
            logger.exception("jobs of kind %s failed", kind.name)
            return {job.id: exc for job in jobs}
    assert kind.run is not None  # noqa: S101 - a Kind has exactly one of run and run_batch
    failures: dict[str, BaseException] = {}
    for job in jobs:
        try:
            kind.run(services, job, now)
        except OffboardError as exc:
            failures[job.id] = exc
        except Exception as exc:  # a bug in one handler must not stop the worker; it retries like a failure
            logger.exception("job %s (%s) failed", job.id, job.kind)
            failures[job.id] = exc
    return failures


def _settle(session: Unit, kind: Kind, job: ClaimedJob, exc: BaseException, now: datetime) -> bool:
    """Record a failed attempt: ``True`` when the job will run again, ``False`` when it failed for good."""
    text = exc.message if isinstance(exc, OffboardError) else f"{type(exc).__name__}: {exc}"
    if isinstance(exc, GiveUp) or job.attempts >= kind.retries.max_attempts:
        queue.fail(session, job=job, now=now, error=text)
        logger.warning("job %s (%s) failed for good: %s", job.id, job.kind, text)
        return False
    delay = exc.delay if isinstance(exc, RetryLater) else kind.retries.delay(job.attempts)
    queue.retry(session, job=job, at=now + max(delay, MIN_RETRY), error=text)
    return True
