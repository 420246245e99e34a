"""The worker's speed (issue 15): 10,000 due reminder-like ``mail.send`` jobs across 1,000 cases, run by
``offboard worker --once``'s code (claim, render, send, ``email.sent`` entry and completion), against the
same worker sending 10,000 emails to the same local SMTP sink with nothing else to do (render and send, in
the worker's batches over one connection each). Target: the jobs at >= 0.5x the bare sending rate.

The sink is aiosmtpd on loopback in this process, counting messages without parsing them; the home is the
embedded default (SQLite + local folder). Building the cases and enqueueing the jobs is not timed.

    .venv/bin/python bench/worker.py [--cases 1000] [--jobs 10000] [--json]
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


def build(home: Path, smtp_url: str, cases: int, jobs: int) -> Any:
    from templates.render import Renderer
    from vault.cases.lifecycle import open_case
    from vault.config import Settings
    from vault.jobs import enqueue_mail
    from vault.orgs.organizations import Principal, Role
    from vault.orgs.staff import add_staff
    from vault.services import build_services
    from vault.setup import initialize

    services = build_services(Settings(home=home, smtp_url=smtp_url), renderer=Renderer())
    init = initialize(services)
    principal = Principal(init.organization_id, Role.ADMIN, "cli:bench")
    services.transact(lambda s: add_staff(s, principal, email=OWNER, name="Bench owner", role=Role.ADMIN))
    case_ids = [
        services.transact(lambda s, n=n: open_case(s, principal, client_name=f"Client {n:04d}", owner_email=OWNER).id)
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


def bare_send(services: Any, count: int) -> float:
    from vault.jobs.runner import BATCH
    from vault.mail import Message

    started = time.perf_counter()
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        messages = [
            Message(f"bare{start + i}@client.example", services.templates.email("owner_disputed", CONTEXT))
            for i in range(size)
        ]
        assert services.mailer.deliver(messages) == [None] * size  # noqa: S101 - a bench that sent nothing lies
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
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
    finally:
        controller.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    ratio = bare / worker
    figures = [
        Figure("bare sending", args.jobs / bare, "emails/s"),
        Figure("worker: due mail jobs", args.jobs / worker, "jobs/s"),
        Figure("worker / bare sending", ratio, "x", f">= {TARGET}x", ratio >= TARGET),
    ]
    print_figures(figures, as_json=args.json, extra={"cases": args.cases, "jobs": args.jobs})


if __name__ == "__main__":
    main()
