"""The job queue on both backends (issue 15, requirement 1): enqueue deduplicates by key, handlers' failures
retry with exponential backoff, ``GiveUp`` fails a job for good, a killed worker's lease expires and its jobs
are claimed again, and ``mail.send`` sends each email once and records it as ``email.sent``."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from tests.helpers import cli_json, run_cli
from tests.integration.receipts_support import smtp_server
from vault.db import read_session
from vault.errors import GiveUp, InvalidInput, RetryLater
from vault.jobs import ClaimedJob, Registry, enqueue, enqueue_mail, queue, run_due
from vault.jobs.catalog import build_registry
from vault.mail import mailer_from_settings
from vault.models import Job, LedgerEntry

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
MAIL_CONTEXT = {"recipient": "c@client.example", "receipt_id": "r", "case_id": "c", "client_name": "Acme"}
MAIL_CONTEXT |= {"at": "2027-03-01T09:00:00Z", "ledger_index": 1, "reason": "missing files"}


def _jobs(services: Any) -> dict[str, Job]:
    with read_session(services.engine) as session:
        return {j.key: j for j in session.exec(select(Job)).all()}


def _enqueue(services: Any, org: str, key: str, *, kind: str = "test.echo", at: datetime = T0) -> bool:
    return bool(
        services.transact(
            lambda s: enqueue(s, organization_id=org, kind=kind, key=key, payload={"key": key}, run_at=at)
        )
    )


def _registry(ran: list[str], fn: Any = None) -> Registry:
    registry = Registry()

    def echo(services: Any, job: ClaimedJob, now: datetime) -> None:
        del services, now
        ran.append(job.key)
        if fn is not None:
            fn(job)

    registry.register_handler("test.echo", echo)
    return registry


def test_enqueue_deduplicates_by_kind_and_key_and_runs_only_what_is_due(services: Any, initialized: Any) -> None:
    org = initialized.organization_id
    assert _enqueue(services, org, "a") is True
    assert _enqueue(services, org, "a") is False
    assert _enqueue(services, org, "b", at=T0 + timedelta(hours=1)) is True
    ran: list[str] = []
    report = run_due(services, now=T0, worker_id="w1", limit=1000, registry=_registry(ran))
    assert (report.claimed, report.done, ran) == (1, 1, ["a"])
    assert _enqueue(services, org, "a") is False  # a done key stays taken
    report = run_due(services, now=T0 + timedelta(hours=1), worker_id="w1", limit=1000, registry=_registry(ran))
    assert ran == ["a", "b"]
    jobs = _jobs(services)
    assert all(j.done_at is not None and j.attempts == 1 for j in jobs.values())


def test_enqueue_refuses_a_naive_time(services: Any, initialized: Any) -> None:
    naive = datetime(2027, 3, 1, 9, 0)  # noqa: DTZ001 - the mistake under test
    try:
        _enqueue(services, initialized.organization_id, "x", at=naive)
    except InvalidInput as exc:
        assert "aware" in exc.message
    else:
        raise AssertionError("a naive run_at was accepted")


def test_failures_retry_with_exponential_backoff_and_give_up_fails_for_good(services: Any, initialized: Any) -> None:
    org = initialized.organization_id
    _enqueue(services, org, "flaky")
    _enqueue(services, org, "hopeless")
    _enqueue(services, org, "later")

    def outcome(job: ClaimedJob) -> None:
        if job.key == "flaky":
            raise InvalidInput("not yet")
        if job.key == "hopeless":
            raise GiveUp("never")
        raise RetryLater(timedelta(minutes=10))

    ran: list[str] = []
    registry = _registry(ran, outcome)
    report = run_due(services, now=T0, worker_id="w1", limit=1000, registry=registry)
    assert (report.claimed, report.retried, report.failed) == (3, 2, 1)
    jobs = _jobs(services)
    assert jobs["flaky"].run_at == T0 + timedelta(seconds=30) and jobs["flaky"].last_error == "not yet"
    assert jobs["later"].run_at == T0 + timedelta(minutes=10)
    assert jobs["hopeless"].failed_at == T0 and jobs["hopeless"].last_error == "never"
    second = T0 + timedelta(seconds=30)
    run_due(services, now=second, worker_id="w1", limit=1000, registry=registry)
    jobs = _jobs(services)
    assert jobs["flaky"].attempts == 2 and jobs["flaky"].run_at == second + timedelta(seconds=60)
    assert ran.count("hopeless") == 1  # failed for good: never claimed again
    run_due(services, now=T0 + timedelta(days=30), worker_id="w1", limit=1000, registry=_registry(ran))
    assert _jobs(services)["hopeless"].done_at is None and _jobs(services)["later"].done_at is not None


def test_a_killed_workers_lease_expires_and_its_jobs_are_claimed_again(services: Any, initialized: Any) -> None:
    org = initialized.organization_id
    for key in ("a", "b"):
        _enqueue(services, org, key)
    lease = timedelta(seconds=services.settings.worker_lease_seconds)
    # A worker that claimed both and died: its leases stand until they expire.
    services.transact(lambda s: queue.claim(s, now=T0, worker_id="dead", kinds=["test.echo"], limit=10, lease=lease))
    ran: list[str] = []
    registry = _registry(ran)
    if services.engine.dialect.name != "postgresql":
        # SQLite: the dead worker also held the one worker lease.
        services.transact(lambda s: queue.hold_worker_lease(s, worker_id="dead", now=T0, lease=lease))
        assert run_due(services, now=T0, worker_id="w2", limit=10, registry=registry).lease_held_elsewhere
    assert run_due(services, now=T0 + lease / 2, worker_id="w2", limit=10, registry=registry).claimed == 0
    report = run_due(services, now=T0 + lease, worker_id="w2", limit=10, registry=registry)
    assert (report.claimed, report.done, sorted(ran)) == (2, 2, ["a", "b"])
    assert {j.attempts for j in _jobs(services).values()} == {2}


def test_mail_jobs_send_each_email_once_with_a_stable_message_id(services: Any, initialized: Any) -> None:
    from templates.render import Renderer

    org = initialized.organization_id
    context = {"recipient": "c@client.example", "receipt_id": "r", "case_id": "c", "client_name": "Acme"}
    context |= {"at": "2027-03-01T09:00:00Z", "ledger_index": 1, "reason": "missing files"}
    with smtp_server() as (url, inbox):
        services.mailer = mailer_from_settings(services.settings.model_copy(update={"smtp_url": url}))
        services.renderer = Renderer()
        for n in range(5):
            services.transact(
                lambda s, n=n: enqueue_mail(
                    s,
                    organization_id=org,
                    case_id=None,
                    key=f"m{n}",
                    template="owner_disputed",
                    to=f"owner{n}@agency.example",
                    context=context,
                    run_at=T0,
                )
            )
        report = run_due(services, now=T0, worker_id="w1", limit=100, registry=build_registry())
        assert (report.claimed, report.done) == (5, 5)
        received = inbox.wait_for(5)
    jobs = _jobs(services)
    assert sorted(m["Message-ID"] for m in received) == sorted(f"<job-{j.id}@localhost>" for j in jobs.values())
    with read_session(services.engine) as session:
        entries = session.exec(select(LedgerEntry).where(col(LedgerEntry.entry_type) == "email.sent")).all()
    assert len(entries) == 5


def test_mail_jobs_wait_while_no_smtp_is_configured(services: Any, initialized: Any) -> None:
    org = initialized.organization_id
    services.transact(
        lambda s: enqueue_mail(
            s,
            organization_id=org,
            case_id=None,
            key="m",
            template="owner_disputed",
            to="o@agency.example",
            context={},
            run_at=T0,
        )
    )
    report = run_due(services, now=T0, worker_id="w1", limit=100, registry=build_registry())
    assert report.retried == 1
    job = _jobs(services)["m"]
    assert job.run_at == T0 + timedelta(hours=1) and "OFFBOARD_SMTP_URL" in (job.last_error or "")


def test_worker_once_at_runs_exactly_what_is_due_then(
    services: Any, initialized: Any, cli_env: Any, capsys: Any, monkeypatch: Any
) -> None:
    org = initialized.organization_id
    for key, at in (("early", T0), ("late", T0 + timedelta(hours=1))):
        services.transact(
            lambda s, key=key, at=at: enqueue_mail(
                s,
                organization_id=org,
                case_id=None,
                key=key,
                template="owner_disputed",
                to=f"{key}@agency.example",
                context=MAIL_CONTEXT,
                run_at=at,
            )
        )
    with smtp_server() as (url, inbox):
        monkeypatch.setenv("OFFBOARD_SMTP_URL", url)
        first = cli_json(capsys, "worker", "--once", "--at", "2027-03-01T09:59:59Z")
        assert (first["claimed"], first["done"]) == (1, 1)
        assert [m["To"] for m in inbox.wait_for(1)] == ["early@agency.example"]
        second = cli_json(capsys, "worker", "--once", "--at", "2027-03-01T11:00:00+01:00")
        assert (second["claimed"], second["done"]) == (1, 1)
        assert sorted(m["To"] for m in inbox.wait_for(2)) == ["early@agency.example", "late@agency.example"]
        assert cli_json(capsys, "worker", "--once", "--at", "2027-03-02T00:00:00Z")["claimed"] == 0


def test_worker_refuses_a_bad_at_with_one_usage_line(cli_env: Any, capsys: Any) -> None:
    for args in (
        ["--once", "--at", "tomorrow"],
        ["--once", "--at", "2027-03-01T09:00:00"],
        ["--at", "2027-03-01T09:00:00Z"],
    ):
        code, out, err = run_cli(capsys, "worker", *args)
        assert code == 2 and out == "", (args, err)
        assert "--at" in err and len(err.strip().splitlines()) == 1, err


def test_serve_runs_the_worker_in_process_unless_it_is_off(services: Any, initialized: Any) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from vault.clock import system_clock

    org = initialized.organization_id
    services.transact(
        lambda s: enqueue_mail(
            s,
            organization_id=org,
            case_id=None,
            key="now",
            template="owner_disputed",
            to="o@agency.example",
            context=MAIL_CONTEXT,
            run_at=system_clock(),
        )
    )
    with smtp_server() as (url, inbox):
        services.mailer = mailer_from_settings(services.settings.model_copy(update={"smtp_url": url}))
        off = services.settings.model_copy(update={"worker": False})
        services.settings = off
        with TestClient(create_app(off, services=services)):
            time.sleep(1.0)
        assert inbox.messages == [] and _jobs(services)["now"].done_at is None
        services.settings = off.model_copy(update={"worker": True})
        with TestClient(create_app(services.settings, services=services)):
            assert [m["To"] for m in inbox.wait_for(1)] == ["o@agency.example"]
    assert _jobs(services)["now"].done_at is not None
