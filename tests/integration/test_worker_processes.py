"""Issue 15: ``offboard worker --once --at T`` processes on one PostgreSQL database run each job once.

Two workers started together over 200 due ``mail.send`` jobs: every email reaches the SMTP sink once and is
recorded once (``email.sent``). A worker killed with SIGKILL in the middle of a batch, then a worker run
after its lease expired: every job is done and recorded once; only messages the killed worker had already
handed to the server arrive a second time, with the same ``Message-ID`` (docs/worker.md, "Exactly once").
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from tests.conftest import create_postgres_database
from tests.integration.receipts_support import Inbox, smtp_server
from tests.services import Postgres
from vault.config import Settings
from vault.config_file import write_env_file
from vault.db import read_session
from vault.jobs import enqueue_mail
from vault.jobs.runner import BATCH
from vault.models import Job, LedgerEntry
from vault.services import build_services
from vault.setup import initialize

OFFBOARD = [str(Path(sys.executable).parent / "offboard")]
T = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
JOBS = 200
CONTEXT = {"recipient": "c@client.example", "receipt_id": "r", "case_id": "c", "client_name": "Acme"}
CONTEXT |= {"at": "2027-03-01T09:00:00Z", "ledger_index": 1, "reason": "missing files"}


@pytest.fixture
def home(postgres_server: Postgres, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """An initialized home on a fresh PostgreSQL database with 200 mail jobs due at ``T``."""
    settings = Settings(home=tmp_path / "home", database_url=create_postgres_database(postgres_server))
    write_env_file(settings.env_file, {})
    services = build_services(settings)
    try:
        org = initialize(services).organization_id

        def add(session: Any) -> None:
            for n in range(JOBS):
                enqueue_mail(
                    session,
                    organization_id=org,
                    case_id=None,
                    key=f"mail-{n}",
                    template="owner_disputed",
                    to=f"owner{n}@agency.example",
                    context=CONTEXT,
                    run_at=T,
                )

        services.transact(add)
        yield {"settings": settings, "services": services}
    finally:
        services.close()


def _env(settings: Settings, smtp_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "OFFBOARD_HOME": str(settings.home),
        "OFFBOARD_DATABASE_URL": str(settings.database_url),
        "OFFBOARD_SMTP_URL": smtp_url,
    }


def _worker(env: dict[str, str], at: datetime) -> subprocess.Popen[bytes]:
    at_text = at.isoformat().replace("+00:00", "Z")
    return subprocess.Popen(  # noqa: S603 - our own entry point
        [*OFFBOARD, "worker", "--once", "--at", at_text], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _recorded(services: Any) -> tuple[list[Job], Counter[str]]:
    with read_session(services.engine) as session:
        jobs = list(session.exec(select(Job)).all())
        entries = session.exec(select(LedgerEntry).where(col(LedgerEntry.entry_type) == "email.sent")).all()
        per_job = Counter(json.loads(e.body)["data"]["job"] for e in entries)
    return jobs, per_job


def test_two_workers_at_once_send_every_email_exactly_once(home: dict[str, Any]) -> None:
    with smtp_server() as (url, inbox):
        env = _env(home["settings"], url)
        workers = [_worker(env, T), _worker(env, T)]
        outputs = [w.communicate(timeout=120) for w in workers]
        assert [w.returncode for w in workers] == [0, 0], outputs
        received = inbox.wait_for(JOBS)
        time.sleep(0.3)
        received = list(inbox.messages)
    jobs, per_job = _recorded(home["services"])
    assert all(j.done_at is not None for j in jobs)
    assert len(received) == JOBS
    assert sorted(m["Message-ID"] for m in received) == sorted(f"<job-{j.id}@localhost>" for j in jobs)
    assert set(per_job.values()) == {1} and len(per_job) == JOBS
    # Both took part (SKIP LOCKED hands each its own rows) or one ran all: never the same job twice.
    assert sum(int(out.split()[1]) for out, _ in outputs) == JOBS


class SlowInbox(Inbox):
    """A sink that takes 10 ms per message, so a worker can be killed in the middle of a batch."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        await asyncio.sleep(0.01)
        return await super().handle_DATA(server, session, envelope)


def test_a_worker_killed_mid_batch_leaves_no_job_undone_and_none_recorded_twice(
    home: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tests.integration.receipts_support.Inbox", SlowInbox)
    with smtp_server() as (url, inbox):
        env = _env(home["settings"], url)
        first = _worker(env, T)
        inbox.wait_for(30, timeout=60)
        first.kill()
        first.wait(timeout=30)
        before = len(inbox.messages)
        assert before < JOBS, "the worker finished before it could be killed"
        lease = timedelta(seconds=home["settings"].worker_lease_seconds)
        second = _worker(env, T + lease + timedelta(seconds=1))
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0, err
        time.sleep(0.3)
        received = list(inbox.messages)
    jobs, per_job = _recorded(home["services"])
    assert len(jobs) == JOBS and all(j.done_at is not None for j in jobs)
    assert len(per_job) == JOBS and set(per_job.values()) == {1}
    ids = Counter(m["Message-ID"] for m in received)
    assert set(ids) == {f"<job-{j.id}@localhost>" for j in jobs}
    # Re-sent: at most the killed worker's batch in flight, each under its first Message-ID.
    assert sum(ids.values()) - JOBS <= BATCH
