"""The job table's operations: enqueue (deduplicated by kind and key), claim with a lease, complete, retry,
fail, and the SQLite worker's lease row.

Why no library: the well-kept Python queues that live in the database either speak PostgreSQL only
(procrastinate, pgqueuer, beanqueue) or keep their own storage beside ours (huey's SQLite, dramatiq's and
rq's brokers); none enqueues inside our unit of work on both SQLite and PostgreSQL. What is needed here is
one table and four statements, so they are written out.

Claims: PostgreSQL selects due rows ``FOR UPDATE SKIP LOCKED``, so concurrent workers take disjoint jobs
without waiting on each other; SQLite has no row locks, so only the holder of the ``worker_lease`` row claims
(``hold_worker_lease``), and its write transactions (``BEGIN IMMEDIATE``) serialize the rest. Either way the
claim writes a lease (``lease_owner``, ``lease_until``) that outlives the claiming transaction: a worker killed
mid-run leaves it to expire, and the job is claimed again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from vault.clock import system_clock
from vault.errors import InvalidInput
from vault.models import Job, WorkerLease, new_id

#: The longest ``last_error`` kept (the column's width).
ERROR_CHARS = 500
#: The one SQLite worker lease's name.
SQLITE_LEASE = "worker"


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """A job as its handler sees it, once a worker has claimed it."""

    id: str
    organization_id: str
    kind: str
    key: str
    payload: dict[str, Any]
    run_at: datetime
    #: Claims so far, this one included (1 on the first run).
    attempts: int
    #: The worker holding the lease: ``complete`` checks it, so a worker whose lease ran out writes nothing.
    lease_owner: str


def enqueue(
    session: Session,
    *,
    organization_id: str,
    kind: str,
    key: str,
    payload: dict[str, Any],
    run_at: datetime,
) -> bool:
    """Add a job in the caller's unit of work, so it commits (or not) with the change that causes it.

    ``key`` is unique per ``kind``: enqueueing a key that exists (done or not) changes nothing and returns
    ``False``; that makes sweeps and retried requests safe to run again.
    """
    if not kind or len(kind) > 64 or not key or len(key) > 300:
        raise InvalidInput(f"a job needs a kind (1-64 characters) and a key (1-300); got {kind!r}, {key!r}")
    if run_at.tzinfo is None:
        raise InvalidInput("a job's run_at must be an aware UTC datetime")
    values = {
        "id": new_id(),
        "organization_id": organization_id,
        "kind": kind,
        "key": key,
        "payload": payload,
        "run_at": run_at,
        "attempts": 0,
        "created_at": system_clock(),
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(Job).values(**values).on_conflict_do_nothing(index_elements=["kind", "key"]).returning(col(Job.id))
    )
    # RETURNING, not the row count: the ORM's INSERT path does not report one on every driver.
    return session.execute(statement).first() is not None


def claim(
    session: Session, *, now: datetime, worker_id: str, kinds: Iterable[str], limit: int, lease: timedelta
) -> list[ClaimedJob]:
    """Lease up to ``limit`` due jobs of ``kinds`` to ``worker_id`` until ``now + lease``, oldest first.

    Due: not done, not failed, ``run_at <= now`` and no lease, or an expired one. Each claim counts an attempt.
    """
    wanted = sorted(set(kinds))
    if not wanted or limit < 1:
        return []
    due = (
        select(col(Job.id))
        .where(
            col(Job.done_at).is_(None),
            col(Job.failed_at).is_(None),
            col(Job.run_at) <= now,
            or_(col(Job.lease_until).is_(None), col(Job.lease_until) <= now),
            col(Job.kind).in_(wanted),
        )
        .order_by(col(Job.run_at), col(Job.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    statement = (
        update(Job)
        .where(col(Job.id).in_(due.scalar_subquery()))
        .values(lease_owner=worker_id, lease_until=now + lease, attempts=col(Job.attempts) + 1)
        .returning(
            col(Job.id),
            col(Job.organization_id),
            col(Job.kind),
            col(Job.key),
            col(Job.payload),
            col(Job.run_at),
            col(Job.attempts),
        )
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(statement).all()
    jobs = [ClaimedJob(r[0], r[1], r[2], r[3], dict(r[4] or {}), r[5], r[6], worker_id) for r in rows]
    return sorted(jobs, key=lambda j: (j.run_at, j.id))


def _held(job_ids: Sequence[str], worker_id: str) -> Any:
    return and_(
        col(Job.id).in_(list(job_ids)),
        col(Job.lease_owner) == worker_id,
        col(Job.done_at).is_(None),
        col(Job.failed_at).is_(None),
    )


def complete(session: Session, *, job: ClaimedJob, now: datetime) -> bool:
    """Mark ``job`` done in the caller's unit of work, if its worker still holds it.

    A handler whose work is a database write calls this in the same unit, so the write and the completion
    commit together. ``False``: the lease ran out and another worker took the job (write nothing then).
    """
    return complete_many(session, jobs=[job], now=now) == 1


def complete_many(session: Session, *, jobs: Sequence[ClaimedJob], now: datetime) -> int:
    """``complete`` for several jobs of one worker; returns how many it marked done."""
    if not jobs:
        return 0
    statement = (
        update(Job)
        .where(_held([j.id for j in jobs], jobs[0].lease_owner))
        .values(done_at=now, lease_until=None, last_error=None)
        .execution_options(synchronize_session=False)
    )
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return int(result.rowcount)


def retry(session: Session, *, job: ClaimedJob, at: datetime, error: str) -> None:
    """Release ``job`` to run again at ``at``, keeping why this attempt failed."""
    statement = (
        update(Job)
        .where(_held([job.id], job.lease_owner))
        .values(run_at=at, lease_owner=None, lease_until=None, last_error=error[:ERROR_CHARS])
        .execution_options(synchronize_session=False)
    )
    session.execute(statement)


def fail(session: Session, *, job: ClaimedJob, now: datetime, error: str) -> None:
    """Fail ``job`` for good: it stays in the table, with its error, and never runs again."""
    statement = (
        update(Job)
        .where(_held([job.id], job.lease_owner))
        .values(failed_at=now, lease_owner=None, lease_until=None, last_error=error[:ERROR_CHARS])
        .execution_options(synchronize_session=False)
    )
    session.execute(statement)


def hold_worker_lease(session: Session, *, worker_id: str, now: datetime, lease: timedelta) -> bool:
    """Take or renew the SQLite worker lease for ``worker_id`` until ``now + lease``; ``False`` while another
    worker holds an unexpired one. (PostgreSQL needs none: its claims skip locked rows.)"""
    row = session.get(WorkerLease, SQLITE_LEASE)
    if row is None:
        session.add(WorkerLease(name=SQLITE_LEASE, owner=worker_id, expires_at=now + lease))
        return True
    if row.owner != worker_id and row.expires_at > now:
        return False
    row.owner, row.expires_at = worker_id, now + lease
    session.add(row)
    return True


def release_worker_lease(session: Session, *, worker_id: str) -> None:
    """Give the SQLite worker lease up (a clean exit), so the next worker need not wait for it to expire."""
    row = session.get(WorkerLease, SQLITE_LEASE)
    if row is not None and row.owner == worker_id:
        session.delete(row)
