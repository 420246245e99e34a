"""Sending the reminders due at an instant: render, send, then record (``docs/cases.md``, "Reminders").

The due reminders go out in batches of ``BATCH`` (the worker's job batch): one read renders a batch, one
SMTP connection sends it, then one unit records what the server accepted: each email's ``reminder_sent``
row (unique key) and an ``email.sent`` ledger entry in every case it is about (type, recipient, template,
message id), the shape of every email entry. A key already recorded is not recorded again. A refused email
is logged and stays due, so the next sweep tries it again. Mail leaves outside any transaction, and each
reminder's ``Message-ID`` comes from its key (``reminder_message_id``), so a resend is the same message.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import text
from sqlmodel import col, select

from vault.db import Unit
from vault.handover.links import link_url
from vault.handover.sealed_tokens import open_token
from vault.jobs.registry import Registry
from vault.jobs.runner import BATCH
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.mail import Mailer, Message
from vault.models import Organization, ReceiptLink, ReminderSent
from vault.orgs.branding import DEFAULT_ACCENT
from vault.reminders.rules import Reminder, due_reminders
from vault.services import Services

logger = logging.getLogger("offboard.reminders")

ACTOR = "system:reminders"
#: The advisory lock key of the reminders sweep on PostgreSQL (a fixed signed 64-bit number: "rmndrswp").
SWEEP_LOCK = int.from_bytes(b"rmndrswp", "big", signed=True)


@dataclass(frozen=True, slots=True)
class SweepResult:
    """What one sweep did."""

    #: The keys of the reminders sent and recorded, in sending order.
    sent: tuple[str, ...]
    #: The keys whose email the SMTP server refused (still due).
    failed: tuple[str, ...]


def reminder_message_id(key: str, sender: str) -> str:
    """The ``Message-ID`` of the reminder with ``key``: the same every time it is rendered, so an email the
    server accepted but a crash kept from being recorded goes out again as the same message (receivers drop
    the second), the way ``mail.send`` jobs use their job id. The key is hashed: it holds addresses."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<reminder-{digest}@{sender.rpartition('@')[2] or 'offboard.invalid'}>"


def _messages(services: Services, reminders: Sequence[Reminder], mailer: Mailer) -> list[tuple[Reminder, Message]]:
    """The emails of ``reminders``, in one read; a client reminder whose link's token is not sealed has none."""
    base_url = services.settings.base_url.rstrip("/")

    def build(session: Any) -> list[tuple[Reminder, Message]]:
        reply_to: dict[str, str | None] = {}
        out: list[tuple[Reminder, Message]] = []
        for reminder in reminders:
            context: dict[str, Any] = {**reminder.context, "base_url": base_url}
            context["accent"] = context.get("accent") or DEFAULT_ACCENT
            org_id = reminder.organization_id
            if reminder.link_id is not None:
                link = session.get(ReceiptLink, reminder.link_id)
                token = open_token(session, services.settings, link) if link else None
                if token is None:
                    continue  # a link made before tokens were sealed: its token exists nowhere any more
                context["url"] = link_url(services.settings, token)
                if org_id not in reply_to:
                    org = session.get(Organization, org_id)
                    reply_to[org_id] = org.reply_to if org else None
            body = services.templates.email(reminder.template, context)
            message_id = reminder_message_id(reminder.key, mailer.sender)
            out.append(
                (reminder, Message(reminder.recipient, body, reply_to=reply_to.get(org_id), message_id=message_id))
            )
        return out

    return services.read(build)


def _record(unit: Unit, *, sent: Sequence[tuple[Reminder, Message]], now: datetime) -> list[str]:
    """Record each accepted email once (its ``reminder_sent`` row and its ``email.sent`` entries); the keys
    recorded, in order (a key another sweep recorded first is skipped)."""
    keys = [reminder.key for reminder, _ in sent]
    done = set(unit.exec(select(ReminderSent.key).where(col(ReminderSent.key).in_(keys))).all())
    recorded: list[str] = []
    for reminder, message in sent:
        if reminder.key in done:
            continue
        done.add(reminder.key)
        message_id = str(message.message_id)
        unit.add(
            ReminderSent(
                organization_id=reminder.organization_id,
                key=reminder.key,
                recipient=reminder.recipient,
                template=reminder.template,
                message_id=message_id,
                sent_at=now,
            )
        )
        data = {"type": reminder.type, "recipient": reminder.recipient, "template": reminder.template}
        for case_id in reminder.case_ids:
            draft = EntryDraft(
                "email.sent", reminder.organization_id, case_id, ACTOR, {**data, "message_id": message_id}
            )
            log.append(unit, draft, clock=lambda: now)
        recorded.append(reminder.key)
    return recorded


@contextmanager
def _only_sweeper(services: Services) -> Iterator[bool]:
    """Whether this process may sweep now. Two workers on one PostgreSQL database sweep at once, and a
    reminder is sent before it is recorded, so one session-level advisory lock lets one of them send; on
    SQLite the worker lease already lets only one worker tick."""
    if services.engine.dialect.name != "postgresql":
        yield True
        return
    with services.engine.connect() as connection:
        held = bool(connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": SWEEP_LOCK}).scalar())
        connection.commit()
        try:
            yield held
        finally:
            if held:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": SWEEP_LOCK})
                connection.commit()


def sweep(services: Services, now: datetime) -> SweepResult:
    """Send every reminder due at ``now`` and record each; nothing without an SMTP server configured, or
    while another worker sweeps."""
    if services.mailer is None:
        logger.info("no SMTP configured: reminders are not sent")
        return SweepResult((), ())
    with _only_sweeper(services) as held:
        return _send_due(services, now) if held else SweepResult((), ())


def _send_due(services: Services, now: datetime) -> SweepResult:
    mailer = services.mailer
    assert mailer is not None  # noqa: S101 - checked by sweep
    due = services.read(lambda session: due_reminders(session, now, services.settings.base_url))
    sent: list[str] = []
    failed: list[str] = []
    # In batches, as mail.send jobs are: one SMTP connection and one recording unit per batch.
    for start in range(0, len(due), BATCH):
        prepared = _messages(services, due[start : start + BATCH], mailer)
        outcomes = mailer.deliver([message for _, message in prepared])
        accepted = []
        for (reminder, message), error in zip(prepared, outcomes, strict=True):
            if error is None:
                accepted.append((reminder, message))
            else:
                logger.warning("reminder %s to %s was refused; it stays due", reminder.key, reminder.recipient)
                failed.append(reminder.key)
        if accepted:
            sent.extend(services.transact(partial(_record, sent=accepted, now=now)))
    return SweepResult(tuple(sent), tuple(failed))


def _tick(services: Services, now: datetime) -> None:
    sweep(services, now)


def register(registry: Registry) -> None:
    """The worker runs ``sweep`` once per tick (``vault/jobs/catalog.py``)."""
    registry.register_sweep("reminders", _tick)
