"""The ``mail.send`` job: one prepared email to one recipient, recorded as an ``email.sent`` ledger entry.

Exactly once, as far as email allows: SMTP cannot be part of a database transaction, so a worker killed
after the server accepted a message and before its commit sends it again when the job is claimed again.
Two things make that harmless. The message's ``Message-ID`` is derived from the job (``<job-ID@domain>``),
the same on every attempt, so the receiving side sees one message however often it arrives; and the
``email.sent`` entry and the job's completion commit in one transaction, guarded by the worker's lease, so
the ledger records each message once even when two workers raced for a job whose lease expired.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from vault.db import Unit
from vault.errors import InvalidInput, MailError, OffboardError, RetryLater
from vault.jobs import queue
from vault.jobs.queue import ClaimedJob
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.mail import Message

if TYPE_CHECKING:
    from vault.services import Services

MAIL_SEND = "mail.send"
#: The ledger entry type of every email the worker sends.
EMAIL_SENT = "email.sent"
#: Without SMTP configured, look again after this long (someone may configure it).
NO_MAILER_RETRY = timedelta(hours=1)


def enqueue_mail(
    session: Session,
    *,
    organization_id: str,
    case_id: str | None,
    key: str,
    template: str,
    to: str,
    context: Mapping[str, Any],
    run_at: datetime,
    reply_to: str | None = None,
) -> bool:
    """Enqueue one email (``templates/email/<template>.*`` rendered with ``context``, JSON values only) to
    ``to``, in the caller's unit of work. ``key`` deduplicates it (``False``: already enqueued)."""
    if not to or "@" not in to:
        raise InvalidInput(f"a mail job needs a recipient address; got {to!r}")
    payload = {"case_id": case_id, "template": template, "to": to, "context": dict(context), "reply_to": reply_to}
    return queue.enqueue(
        session, organization_id=organization_id, kind=MAIL_SEND, key=key, payload=payload, run_at=run_at
    )


def message_id(job: ClaimedJob, sender: str) -> str:
    return f"<job-{job.id}@{sender.rpartition('@')[2] or 'offboard.invalid'}>"


def send_mail_jobs(services: Services, jobs: Sequence[ClaimedJob], now: datetime) -> Mapping[str, OffboardError]:
    """The batch handler of ``mail.send``: render, send over one connection, then record what was accepted."""
    mailer = services.mailer
    if mailer is None:
        return {j.id: RetryLater(NO_MAILER_RETRY, "no OFFBOARD_SMTP_URL is set: email cannot be sent") for j in jobs}
    messages = []
    for job in jobs:
        p = job.payload
        body = services.templates.email(str(p["template"]), p.get("context") or {})
        messages.append(
            Message(str(p["to"]), body, reply_to=p.get("reply_to"), message_id=message_id(job, mailer.sender))
        )
    outcomes = mailer.deliver(messages)
    failures: dict[str, OffboardError] = {
        job.id: MailError(error) for job, error in zip(jobs, outcomes, strict=True) if error is not None
    }
    sent = [(job, m) for job, m, error in zip(jobs, messages, outcomes, strict=True) if error is None]

    def record(session: Unit) -> None:
        for job, message in sent:
            # Completion first: a worker that lost its lease records nothing (the job's new holder will).
            if queue.complete(session, job=job, now=now):
                data = {
                    "to": message.to,
                    "template": job.payload["template"],
                    "message_id": message.message_id,
                    "job": job.id,
                }
                draft = EntryDraft(EMAIL_SENT, job.organization_id, job.payload.get("case_id"), "worker", data)
                log.append(session, draft, clock=lambda: now)

    if sent:
        services.transact(record)
    return failures
