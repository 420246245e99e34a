"""Scheduled RFC 3161 timestamping of checkpoints, as due work of the worker (issue 15, requirement 1;
``docs/timestamps.md``, ``docs/worker.md`` "Checkpoint timestamping").

Each tick, the sweep looks at every organization: when no timestamp job of the organization ran within
``OFFBOARD_TSA_INTERVAL_SECONDS`` of ``now`` and its newest checkpoint has no token, it enqueues a
``ledger.timestamp`` job keyed by that checkpoint. The job table is the claim: a key is unique, so two
workers sweeping at once enqueue one job, and a claimed job belongs to one worker (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, the worker lease on SQLite). The handler asks the TSA outside any transaction,
then stores the verified token and completes the job in one unit, guarded by its lease and by a check that
the checkpoint has no token yet: one checkpoint never gets two tokens, and a TSA that is down leaves
nothing written; the job is tried again after its backoff.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from sqlmodel import Session, col, select

from signing.errors import TimestampError
from signing.timestamps import load_pem_roots, request_timestamp
from vault.config import Settings
from vault.db import Unit
from vault.errors import ConfigurationError, GiveUp, RetryLater
from vault.jobs import queue
from vault.jobs.queue import ClaimedJob
from vault.jobs.registry import Registry, Retries
from vault.models import Checkpoint, Job, Organization, TimestampToken

if TYPE_CHECKING:
    from vault.services import Services

LEDGER_TIMESTAMP = "ledger.timestamp"
#: A TSA that is down is asked again after 1, 2, 4 ... minutes, at most hourly (the default interval), for
#: about a day; by then newer checkpoints wait, and the next interval's sweep picks the newest of them.
TSA_RETRIES = Retries(max_attempts=30, base=timedelta(minutes=1), ceiling=timedelta(hours=1))


def tsa_roots(settings: Settings) -> list[x509.Certificate]:
    path: Path | None = settings.tsa_roots_file
    if path is None:
        raise ConfigurationError("OFFBOARD_TSA_URL is set but OFFBOARD_TSA_ROOTS_FILE (PEM roots) is not")
    try:
        return load_pem_roots(path.read_bytes())
    except (OSError, TimestampError) as exc:
        raise ConfigurationError(f"cannot read TSA roots from {path}: {exc}") from exc


def due_checkpoints(session: Session, *, now: datetime, interval: timedelta) -> list[Checkpoint]:
    """Per organization, its newest checkpoint when it has no token and no timestamp job of the
    organization ran (or waits to run) within ``interval`` before ``now``."""
    due = []
    for org_id in session.exec(select(Organization.id).order_by(col(Organization.created_at))).all():
        recent = select(Job.id).where(
            Job.kind == LEDGER_TIMESTAMP, Job.organization_id == org_id, col(Job.run_at) > now - interval
        )
        if session.exec(recent.limit(1)).first() is not None:
            continue
        newest = session.exec(
            select(Checkpoint).where(Checkpoint.organization_id == org_id).order_by(col(Checkpoint.size).desc())
        ).first()
        if newest is not None and newest.id is not None and not _has_token(session, newest.id):
            due.append(newest)
    return due


def _has_token(session: Session, checkpoint_id: int) -> bool:
    query = select(TimestampToken.id).where(TimestampToken.checkpoint_id == checkpoint_id)
    return session.exec(query.limit(1)).first() is not None


def sweep(services: Services, now: datetime) -> None:
    """Enqueue the due checkpoints' timestamp jobs (nothing without ``OFFBOARD_TSA_URL``)."""
    if not services.settings.tsa_url:
        return
    interval = timedelta(seconds=services.settings.tsa_interval_seconds)
    due = services.read(lambda session: due_checkpoints(session, now=now, interval=interval))

    def enqueue_all(unit: Unit) -> None:
        for checkpoint in due:
            queue.enqueue(
                unit,
                organization_id=checkpoint.organization_id,
                kind=LEDGER_TIMESTAMP,
                key=f"checkpoint:{checkpoint.id}",
                payload={"checkpoint_id": checkpoint.id},
                run_at=now,
            )

    if due:
        services.transact(enqueue_all)


def timestamp(services: Services, job: ClaimedJob, now: datetime) -> None:
    """The ``ledger.timestamp`` handler: ask the TSA for the checkpoint's note, then store the token."""
    url = services.settings.tsa_url
    if not url:
        raise GiveUp("OFFBOARD_TSA_URL is no longer set: the checkpoint is not timestamped")
    checkpoint_id = int(job.payload["checkpoint_id"])
    note = services.read(
        lambda session: session.exec(select(Checkpoint.note).where(Checkpoint.id == checkpoint_id)).first()
    )
    if note is None:
        raise GiveUp(f"checkpoint {checkpoint_id} is gone")
    try:
        # Outside any transaction: a slow TSA holds no lock, and a failed request writes nothing.
        record = request_timestamp(url, note.encode("utf-8"), roots=tsa_roots(services.settings))
    except TimestampError as exc:
        raise RetryLater(TSA_RETRIES.delay(job.attempts), f"timestamping checkpoint {checkpoint_id}: {exc}") from exc

    def store(unit: Unit) -> None:
        # The lease first: a worker whose lease ran out writes nothing (the job's new holder will).
        if queue.complete(unit, job=job, now=now) and not _has_token(unit, checkpoint_id):
            unit.add(
                TimestampToken(
                    checkpoint_id=checkpoint_id, token=record.token_der, gen_time=record.gen_time, tsa_url=url
                )
            )

    services.transact(store)


def register(registry: Registry) -> None:
    """The sweep and the handler of checkpoint timestamping (``vault/jobs/catalog.py``)."""
    registry.register_sweep("checkpoint-timestamps", sweep)
    registry.register_handler(LEDGER_TIMESTAMP, timestamp, retries=TSA_RETRIES)
