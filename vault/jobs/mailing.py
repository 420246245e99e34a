"""The ``mail.send`` job: one prepared email to one recipient, recorded as an ``email.sent`` ledger entry.

Exactly once, as far as email allows: SMTP cannot be part of a database transaction, so a worker killed
after the server accepted a message and before its commit sends it again when the job is claimed again.
Two things make that harmless. The message's ``Message-ID`` is derived from the job (``<job-ID@domain>``),
the same on every attempt, so the receiving side sees one message however often it arrives; and the
``email.sent`` entry and the job's completion commit in one transaction, guarded by the worker's lease, so
the ledger records each message once even when two workers raced for a job whose lease expired.

Attachments are a reference in the payload (``attach: {"source": ..., ...}``), never bytes: the source
registered for it (``vault/jobs/catalog.py``) reads the files when the email is sent, outside any
transaction, so an email sent after a PDF was re-timestamped carries its newest version. Above
``OFFBOARD_MAIL_ATTACHMENTS_MAX_BYTES`` in all, the email goes out without them and its template says so.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from vault.db import Unit
from vault.errors import GiveUp, InvalidInput, MailError, OffboardError, RetryLater
from vault.jobs import queue
from vault.jobs.queue import ClaimedJob
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.mail import Attachment, Message

if TYPE_CHECKING:
    from vault.services import Services

MAIL_SEND = "mail.send"
#: The ledger entry type of every email the worker sends.
EMAIL_SENT = "email.sent"
#: Without SMTP configured, look again after this long (someone may configure it).
NO_MAILER_RETRY = timedelta(hours=1)

#: ``fn(services, organization_id, ref) -> files``: what an ``attach`` reference of the organization's job
#: names, read when the email is sent; raises ``OffboardError`` (``GiveUp`` when it can never be found).
AttachmentSource = Callable[["Services", str, Mapping[str, Any]], Sequence[Attachment]]


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
    attach: Mapping[str, str] | None = None,
) -> bool:
    """Enqueue one email (``templates/email/<template>.*`` rendered with ``context``, JSON values only) to
    ``to``, in the caller's unit of work. ``key`` deduplicates it (``False``: already enqueued). ``attach``
    names the files to attach (``{"source": <registered source>, ...}``), read when it is sent."""
    if not to or "@" not in to:
        raise InvalidInput(f"a mail job needs a recipient address; got {to!r}")
    payload: dict[str, Any] = {
        "case_id": case_id,
        "template": template,
        "to": to,
        "context": dict(context),
        "reply_to": reply_to,
    }
    if attach is not None:
        payload["attach"] = dict(attach)
    return queue.enqueue(
        session, organization_id=organization_id, kind=MAIL_SEND, key=key, payload=payload, run_at=run_at
    )


def message_id(job: ClaimedJob, sender: str) -> str:
    return f"<job-{job.id}@{sender.rpartition('@')[2] or 'offboard.invalid'}>"


@dataclass(frozen=True, slots=True)
class Resolved:
    """A job's attachments as sent, and what its template and ``email.sent`` entry say about them."""

    files: tuple[Attachment, ...] = ()
    #: Template context: ``attached`` (the file names) or ``attachments_omitted`` (``bytes``, ``limit``).
    context: Mapping[str, Any] | None = None
    #: What the ``email.sent`` entry adds: ``attachments`` (name and SHA-256 of each) or ``attachments_omitted``.
    recorded: Mapping[str, Any] | None = None


class _Attachments:
    """Resolves the ``attach`` references of one batch, reading and hashing each referenced set of files once
    (a certificate goes to the owner and every contact: one read, one hash, for all of them)."""

    def __init__(self, services: Services, sources: Mapping[str, AttachmentSource]) -> None:
        self.services, self.sources = services, sources
        self.read: dict[str, Resolved] = {}

    def of(self, job: ClaimedJob) -> Resolved:
        ref = job.payload.get("attach")
        if not ref:
            return Resolved()
        if not isinstance(ref, Mapping):
            raise GiveUp(f"expected the mail job's 'attach' to be an object naming a source; found {ref!r}")
        source = self.sources.get(str(ref.get("source")))
        if source is None:
            raise GiveUp(f"the email attaches files from {ref.get('source')!r}, which no attachment source provides")
        key = json.dumps([job.organization_id, ref], sort_keys=True)
        if key not in self.read:
            self.read[key] = self._resolve(tuple(source(self.services, job.organization_id, ref)))
        return self.read[key]

    def _resolve(self, files: tuple[Attachment, ...]) -> Resolved:
        total, limit = sum(len(f.content) for f in files), self.services.settings.mail_attachments_max_bytes
        if total > limit:
            omitted = {"attachments_omitted": {"bytes": total, "limit": limit}}
            return Resolved(context=omitted, recorded=omitted)
        hashed = [{"name": f.filename, "sha256": hashlib.sha256(f.content).hexdigest()} for f in files]
        return Resolved(files, {"attached": [f.filename for f in files]}, {"attachments": hashed} if files else None)


def send_mail_jobs(
    services: Services,
    jobs: Sequence[ClaimedJob],
    now: datetime,
    *,
    sources: Mapping[str, AttachmentSource] | None = None,
) -> Mapping[str, OffboardError]:
    """The batch handler of ``mail.send``: resolve the attachments and render, send over one connection, then
    record what was accepted. ``sources``: the attachment sources by name (``vault/jobs/catalog.py``)."""
    mailer = services.mailer
    if mailer is None:
        return {j.id: RetryLater(NO_MAILER_RETRY, "no OFFBOARD_SMTP_URL is set: email cannot be sent") for j in jobs}
    attachments = _Attachments(services, sources or {})
    failures: dict[str, OffboardError] = {}
    prepared: list[tuple[ClaimedJob, Message, Resolved]] = []
    for job in jobs:
        p = job.payload
        try:
            resolved = attachments.of(job)  # outside any transaction: a source may read the object store
        except OffboardError as exc:
            failures[job.id] = exc
            continue
        body = services.templates.email(str(p["template"]), {**(p.get("context") or {}), **(resolved.context or {})})
        message = Message(
            str(p["to"]), body, resolved.files, reply_to=p.get("reply_to"), message_id=message_id(job, mailer.sender)
        )
        prepared.append((job, message, resolved))
    outcomes = mailer.deliver([m for _, m, _ in prepared]) if prepared else []
    sent = []
    for item, error in zip(prepared, outcomes, strict=True):
        if error is None:
            sent.append(item)
        else:
            failures[item[0].id] = MailError(error)

    def record(session: Unit) -> None:
        for job, message, resolved in sent:
            # Completion first: a worker that lost its lease records nothing (the job's new holder will).
            if queue.complete(session, job=job, now=now):
                data = {
                    "to": message.to,
                    "template": job.payload["template"],
                    "message_id": message.message_id,
                    "job": job.id,
                    **(resolved.recorded or {}),
                }
                draft = EntryDraft(EMAIL_SENT, job.organization_id, job.payload.get("case_id"), "worker", data)
                log.append(session, draft, clock=lambda: now)

    if sent:
        services.transact(record)
    return failures
