"""The job queue's tables: due work kept in the database (``vault/jobs``), and the SQLite worker's lease."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from vault.clock import system_clock
from vault.models.core import new_id

#: Jobs not yet finished either way: the rows a worker looks at (a partial index on both backends).
_OPEN = text("done_at IS NULL AND failed_at IS NULL")


class Job(SQLModel, table=True):
    """One piece of due work: a kind (which handler runs it), a key unique per kind (enqueueing it again is a
    no-op), a JSON payload and a time to run at; a worker leases it while it runs it."""

    __tablename__ = "job"
    __table_args__ = (
        UniqueConstraint("kind", "key", name="uq_job_kind_key"),
        Index("ix_job_open_run_at", "run_at", postgresql_where=_OPEN, sqlite_where=_OPEN),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    kind: str = Field(max_length=64)
    key: str = Field(max_length=300)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    run_at: datetime
    #: How many times a worker has claimed it (a claim by a worker killed mid-run counts).
    attempts: int = 0
    #: The worker holding it and until when; an expired lease is claimed again.
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = None
    done_at: datetime | None = None
    #: Set when its handler gave up, or its attempts ran out: it is never run again.
    failed_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=system_clock)


class WorkerLease(SQLModel, table=True):
    """On SQLite, which worker may run jobs now (one row per ``name``): SQLite has no ``SKIP LOCKED``, so one
    worker at a time holds this lease and renews it each tick; a killed worker's lease simply expires."""

    __tablename__ = "worker_lease"

    name: str = Field(primary_key=True, max_length=32)
    owner: str = Field(max_length=100)
    expires_at: datetime
