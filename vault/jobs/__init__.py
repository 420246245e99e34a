"""The job queue and its worker: due work kept in the database with a run-at time, attempts and a lease, so
nothing is lost on a restart and two workers never run one job at once (``docs/worker.md``).

Enqueue with ``enqueue`` (or ``enqueue_mail``) inside the unit of work that causes the job; handlers and
sweeps are composed in ``vault/jobs/catalog.py``; ``run_due`` runs what is due.
"""

from __future__ import annotations

from vault.errors import GiveUp, RetryLater
from vault.jobs.mailing import MAIL_SEND, enqueue_mail
from vault.jobs.queue import ClaimedJob, complete, enqueue
from vault.jobs.registry import Registry
from vault.jobs.runner import RunReport, run_due

__all__ = [
    "MAIL_SEND",
    "ClaimedJob",
    "GiveUp",
    "Registry",
    "RetryLater",
    "RunReport",
    "complete",
    "enqueue",
    "enqueue_mail",
    "run_due",
]
