"""Checkpoint timestamping as a worker sweep (issue 15, requirement 1; ``vault/ledger/anchoring.py``), with
the local RFC 3161 TSA of ``tests/tsa.py`` and ``offboard worker --once --at``: the newest checkpoint of an
organization gets exactly one token, the next one only after ``OFFBOARD_TSA_INTERVAL_SECONDS``; a TSA that
is down leaves nothing written and is asked again on a later tick; two worker processes on PostgreSQL
started together store one token."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from sqlmodel import select

from signing.timestamps import verify_token
from tests.helpers import run_cli
from tests.tsa import LocalTSA, Mode
from vault.db import read_session
from vault.ledger import log
from vault.ledger.anchoring import LEDGER_TIMESTAMP
from vault.ledger.entries import EntryDraft
from vault.ledger.publish import publish_all
from vault.models import Checkpoint, Job, TimestampToken

T = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
INTERVAL = timedelta(seconds=3600)


@pytest.fixture
def tsa(
    services: Any, initialized: Any, cli_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LocalTSA]:
    """A running local TSA that ``offboard`` is configured with, and the deployment's first checkpoint."""
    with LocalTSA() as local:
        roots = tmp_path / "tsa-roots.pem"
        roots.write_bytes(local.root_certificate.public_bytes(Encoding.PEM))
        monkeypatch.setenv("OFFBOARD_TSA_URL", local.url)
        monkeypatch.setenv("OFFBOARD_TSA_ROOTS_FILE", str(roots))
        monkeypatch.setenv("OFFBOARD_TSA_INTERVAL_SECONDS", str(int(INTERVAL.total_seconds())))
        assert len(publish_all(services.read, services.transact, services.settings)) == 1
        yield local


def _at(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _tick(capsys: pytest.CaptureFixture[str], moment: datetime) -> None:
    code, _out, err = run_cli(capsys, "worker", "--once", "--at", _at(moment))
    assert code == 0, err


def _new_checkpoint(services: Any, organization_id: str) -> Checkpoint:
    services.transact(lambda s: log.append(s, EntryDraft("test.entry", organization_id, None, "test", {})))
    (signed,) = publish_all(services.read, services.transact, services.settings)
    return signed


def _tokens(services: Any) -> list[tuple[TimestampToken, Checkpoint]]:
    with read_session(services.engine) as session:
        query = select(TimestampToken, Checkpoint).join(Checkpoint).order_by(TimestampToken.id)  # type: ignore[arg-type]
        return [(token, checkpoint) for token, checkpoint in session.exec(query).all()]


def _jobs(services: Any) -> list[Job]:
    with read_session(services.engine) as session:
        return list(session.exec(select(Job).where(Job.kind == LEDGER_TIMESTAMP)).all())


def test_the_newest_checkpoint_gets_one_token_and_the_next_one_an_interval_later(
    services: Any, initialized: Any, tsa: LocalTSA, capsys: pytest.CaptureFixture[str]
) -> None:
    _tick(capsys, T)
    _tick(capsys, T)  # the same instant again: nothing more
    ((token, first),) = _tokens(services)
    record = verify_token(bytes(token.token), first.note.encode("utf-8"), [tsa.root_certificate])
    assert record.gen_time == token.gen_time.replace(tzinfo=UTC) and token.tsa_url == tsa.url
    assert len(tsa.requests) == 1

    second = _new_checkpoint(services, initialized.organization_id)
    _tick(capsys, T + INTERVAL - timedelta(seconds=1))  # within the interval: the new checkpoint waits
    assert len(_tokens(services)) == 1
    _tick(capsys, T + INTERVAL)
    _tick(capsys, T + INTERVAL + timedelta(minutes=5))
    stamped = [checkpoint.id for _token, checkpoint in _tokens(services)]
    assert stamped == [first.id, second.id] and len(tsa.requests) == 2
    assert all(job.done_at is not None for job in _jobs(services))


def test_a_tsa_that_is_down_leaves_nothing_written_and_is_asked_again_later(
    services: Any, tsa: LocalTSA, capsys: pytest.CaptureFixture[str]
) -> None:
    tsa.mode = Mode.HTTP_500
    _tick(capsys, T)
    assert _tokens(services) == [] and len(tsa.requests) == 1
    (job,) = _jobs(services)
    assert job.done_at is None and job.failed_at is None and job.attempts == 1
    assert "timestamping checkpoint" in str(job.last_error) and "500" in str(job.last_error)

    tsa.mode = Mode.GRANT
    _tick(capsys, T + timedelta(seconds=30))  # before the first retry's minute: the TSA is not asked
    assert _tokens(services) == [] and len(tsa.requests) == 1
    _tick(capsys, T + timedelta(minutes=2))
    ((token, checkpoint),) = _tokens(services)
    verify_token(bytes(token.token), checkpoint.note.encode("utf-8"), [tsa.root_certificate])
    (job,) = _jobs(services)
    assert job.done_at is not None and job.attempts == 2 and len(tsa.requests) == 2


def test_the_sweep_asks_nothing_without_a_tsa(
    services: Any, initialized: Any, cli_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    publish_all(services.read, services.transact, services.settings)
    _tick(capsys, T)
    assert _jobs(services) == [] and _tokens(services) == []


@pytest.mark.parametrize("backend", ["postgres-s3"])
def test_two_workers_on_postgresql_store_one_token(services: Any, tsa: LocalTSA, monkeypatch: Any) -> None:
    del monkeypatch  # the tsa fixture set the TSA variables; the processes inherit them
    tsa.delay = 0.5  # both workers sweep while the first request is in flight
    settings = services.settings
    env = {**os.environ, "OFFBOARD_HOME": str(settings.home)}
    for name in ("database_url", "storage_url", "s3_endpoint_url"):
        env[f"OFFBOARD_{name.upper()}"] = str(getattr(settings, name))
    argv = [str(Path(sys.executable).parent / "offboard"), "worker", "--once", "--at", _at(T)]
    workers = [
        subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: S603 - ours
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    assert len(_tokens(services)) == 1 and len(_jobs(services)) == 1
    assert len(tsa.requests) == 1
