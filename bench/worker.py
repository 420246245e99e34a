"""The worker's speed (issue 15): 10,000 due reminder-like ``mail.send`` jobs across 1,000 cases, run by
``offboard worker --once``'s code (claim, render, send, ``email.sent`` entry and completion), against the
same worker sending 10,000 emails to the same local SMTP sink with nothing else to do (render and send, in
the worker's batches over one connection each). Target: the jobs at >= 0.5x the bare sending rate.

``--reminders`` adds the reminder sweep's figure: 10,000 client reminders due across 1,000 cases (a sent,
unanswered receipt per case, 10 contacts with live links, 3 days after sending), found, rendered with each
link's unsealed token, sent and recorded (``reminder_sent`` row and ``email.sent`` entry) by the same
``run_once``, against bare sending of as many ``client_reminder`` emails. Target: >= 0.5x too. The
owner's digest is moved to 23:00 so that the 10,000 are the whole of what is due.

The sink is aiosmtpd on loopback in this process, counting messages without parsing them; the home is the
embedded default (SQLite + local folder). Building the cases and enqueueing the jobs is not timed.

    .venv/bin/python bench/worker.py [--cases 1000] [--jobs 10000] [--reminders] [--json]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from bench.common import SCRATCH, Figure, free_port, note, print_figures  # noqa: E402

TARGET = 0.5
OWNER = "owner@bench.example"
T = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
CONTEXT = {"recipient": "c@client.example", "receipt_id": "r", "case_id": "c", "client_name": "Acme"}
CONTEXT |= {"at": "2027-03-01T09:00:00Z", "ledger_index": 1, "reason": "a reminder-sized body"}


class Counter:
    """aiosmtpd handler that only counts what it accepts."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802, ARG002 - aiosmtpd API
        self.count += 1
        return "250 OK"


def at(moment: datetime) -> Any:
    """A clock stopped at ``moment``."""
    return lambda: moment


def owner(session: Any, principal: Any) -> None:
    """The cases' owner, an admin, whose digest comes at 23:00: at ``T`` (09:00) the reminder sweep finds
    nothing of its own to send for cases opened on ``T``'s day or three days before (nothing is overdue
    by more than the 3 escalation days), so each figure counts only its own emails."""
    from vault.orgs.organizations import Role
    from vault.orgs.staff import add_staff
    from vault.reminders.policy import set_policy

    add_staff(session, principal, email=OWNER, name="Bench owner", role=Role.ADMIN)
    set_policy(session, principal, hour=23, clock=at(T))


def build(home: Path, smtp_url: str, cases: int, jobs: int) -> Any:
    from templates.render import Renderer
    from vault.cases.lifecycle import open_case
    from vault.config import Settings
    from vault.jobs import enqueue_mail
    from vault.orgs.organizations import Principal, Role
    from vault.services import build_services
    from vault.setup import initialize

    services = build_services(Settings(home=home, smtp_url=smtp_url), renderer=Renderer())
    init = initialize(services)
    principal = Principal(init.organization_id, Role.ADMIN, "cli:bench")
    services.transact(lambda s: owner(s, principal))
    case_ids = [
        services.transact(
            lambda s, n=n: open_case(s, principal, client_name=f"Client {n:04d}", owner_email=OWNER, clock=at(T)).id
        )
        for n in range(cases)
    ]

    def add(session: Any) -> None:
        for n in range(jobs):
            enqueue_mail(
                session,
                organization_id=init.organization_id,
                case_id=case_ids[n % cases],
                key=f"reminder-{n}",
                template="owner_disputed",
                to=f"contact{n}@client.example",
                context=CONTEXT | {"case_id": case_ids[n % cases]},
                run_at=T - timedelta(minutes=n % 60),
            )

    services.transact(add)
    return services


def build_reminders(home: Path, smtp_url: str, cases: int, reminders: int) -> Any:
    """``cases`` cases, each with a receipt sent 3 days before ``T`` to ``reminders // cases`` contacts."""
    from templates.render import Renderer
    from vault.cases.lifecycle import open_case
    from vault.config import Settings
    from vault.evidence.ingest import evidence_entry
    from vault.handover.links import issue_links
    from vault.handover.receipts import create_receipt
    from vault.ledger import log
    from vault.models import Evidence
    from vault.orgs.organizations import Principal, Role
    from vault.services import build_services
    from vault.setup import initialize

    settings = Settings(home=home, smtp_url=smtp_url)
    services = build_services(settings, renderer=Renderer())
    init = initialize(services)
    principal = Principal(init.organization_id, Role.ADMIN, "cli:bench")
    clock = at(T - timedelta(days=3))
    services.transact(lambda s: owner(s, principal))
    per_case = reminders // cases

    def one_case(session: Any, n: int) -> None:
        contacts = [f"contact{n}-{k}@client.example" for k in range(per_case)]
        case = open_case(
            session, principal, client_name=f"Client {n:04d}", owner_email=OWNER, contacts=contacts, clock=clock
        )
        row = Evidence(
            organization_id=case.organization_id, case_id=case.id, sha256=f"{n:064x}", size=1000,
            content_type="application/pdf", original_filename="final-report.pdf", kind="deliverable",
            storage_key=f"bench/{n}",
        )  # fmt: skip
        session.add(row)
        session.flush()
        row.ledger_index = log.append(session, evidence_entry(row, principal.actor), clock=clock).index
        receipt = create_receipt(session, settings, principal, case.id, clock=clock)
        issue_links(session, settings, principal, receipt, delivery="manual", clock=clock)

    for n in range(cases):
        services.transact(lambda s, n=n: one_case(s, n))
    return services


def bare_send(services: Any, count: int, template: str = "owner_disputed", context: dict[str, Any] = CONTEXT) -> float:
    from vault.jobs.runner import BATCH
    from vault.mail import Message

    started = time.perf_counter()
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        messages = [
            Message(f"bare{start + i}@client.example", services.templates.email(template, context)) for i in range(size)
        ]
        assert services.mailer.deliver(messages) == [None] * size  # noqa: S101 - a bench that sent nothing lies
    return time.perf_counter() - started


REMINDER_CONTEXT = {
    **CONTEXT,
    "organization": "Bench",
    "accent": "#1d70b8",
    "days": 3,
    "url": "http://localhost:8000/ack/" + "x" * 43,
}
REMINDER_CONTEXT |= {"expires_at": "2027-03-31T09:00:00Z", "base_url": "http://localhost:8000"}


def reminders_figures(scratch: Path, smtp_url: str, sink: Counter, cases: int, reminders: int) -> list[Figure]:
    """Bare sending of ``reminders`` client reminders, then the worker sweeping as many due ones."""
    from sqlmodel import select

    from vault.jobs.loop import run_once
    from vault.models import ReminderSent

    note(f"building {cases} cases with {reminders} due client reminders (not timed)")
    services = build_reminders(scratch / "reminders-home", smtp_url, cases, reminders)
    try:
        note("bare sending of client reminders")
        before = sink.count
        bare = bare_send(services, reminders, "client_reminder", REMINDER_CONTEXT)
        note("the worker: the reminder sweep")
        started = time.perf_counter()
        report = run_once(services, now=T)
        worker = time.perf_counter() - started
        recorded = services.read(lambda s: len(s.exec(select(ReminderSent.key)).all()))
    finally:
        services.close()
    assert report.sweep_errors == 0, report  # noqa: S101 - a bench that sent nothing lies
    assert recorded == reminders and sink.count - before == 2 * reminders, (recorded, sink.count)  # noqa: S101
    ratio = bare / worker
    return [
        Figure("bare sending (client reminders)", reminders / bare, "emails/s"),
        Figure("worker: due reminders", reminders / worker, "reminders/s"),
        Figure("reminders / bare sending", ratio, "x", f">= {TARGET}x", ratio >= TARGET),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--reminders", action="store_true", help="also measure the reminder sweep")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.reminders and (args.jobs % args.cases or args.jobs < args.cases):
        parser.error("--reminders needs --jobs a multiple of --cases (contacts per case)")
    from aiosmtpd.controller import Controller

    from vault.jobs.loop import run_once

    SCRATCH.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="worker-", dir=SCRATCH))
    sink = Counter()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        note(f"building {args.cases} cases and {args.jobs} due mail jobs (not timed)")
        services = build(scratch / "home", f"smtp://127.0.0.1:{port}", args.cases, args.jobs)
        note("bare sending")
        bare = bare_send(services, args.jobs)
        note("the worker")
        started = time.perf_counter()
        report = run_once(services, now=T)
        worker = time.perf_counter() - started
        services.close()
        assert report.done == args.jobs, report  # noqa: S101
        assert sink.count == 2 * args.jobs, sink.count  # noqa: S101
        if args.reminders:
            more = reminders_figures(scratch, f"smtp://127.0.0.1:{port}", sink, args.cases, args.jobs)
    finally:
        controller.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    ratio = bare / worker
    figures = [
        Figure("bare sending", args.jobs / bare, "emails/s"),
        Figure("worker: due mail jobs", args.jobs / worker, "jobs/s"),
        Figure("worker / bare sending", ratio, "x", f">= {TARGET}x", ratio >= TARGET),
    ]
    extra: dict[str, Any] = {"cases": args.cases, "jobs": args.jobs}
    if args.reminders:
        figures += more
        extra |= {"reminders": args.jobs, "reminders_per_s": more[1].value, "reminders_to_bare": more[2].value}
    print_figures(figures, as_json=args.json, extra=extra)


if __name__ == "__main__":
    main()
