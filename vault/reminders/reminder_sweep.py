"""Sending the reminders due at an instant: render, send, then record (``docs/cases.md``, "Reminders").

Each email is sent, then one unit records it: its ``reminder_sent`` row (unique key) and an ``email.sent``
ledger entry in every case it is about (type, recipient, template, message id), the shape of every email
entry. A key already recorded in that unit is not recorded again. A refused email is logged and stays
due, so the next sweep tries it again. Mail leaves outside any transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import text
from sqlmodel import select

from vault.db import Unit
from vault.handover.links import link_url
from vault.handover.sealed_tokens import open_token
from vault.jobs.registry import Registry
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.mail import Message
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


def _message(services: Services, reminder: Reminder, message_id: str) -> Message | None:
    """The email of ``reminder``; ``None`` for a client reminder whose link's token is not sealed."""
    context: dict[str, Any] = {**reminder.context, "base_url": services.settings.base_url.rstrip("/")}
    context["accent"] = context.get("accent") or DEFAULT_ACCENT
    reply_to = None
    if reminder.link_id is not None:

        def token_of(session: Any) -> tuple[str | None, str | None]:
            link = session.get(ReceiptLink, reminder.link_id)
            org = session.get(Organization, reminder.organization_id)
            return (open_token(session, services.settings, link) if link else None), (org.reply_to if org else None)

        token, reply_to = services.read(token_of)
        if token is None:
            return None  # a link made before tokens were sealed: its token exists nowhere any more
        context["url"] = link_url(services.settings, token)
    body = services.templates.email(reminder.template, context)
    return Message(reminder.recipient, body, reply_to=reply_to, message_id=message_id)


def _record(unit: Unit, *, reminder: Reminder, message_id: str, now: datetime) -> bool:
    if unit.exec(select(ReminderSent).where(ReminderSent.key == reminder.key)).first() is not None:
        return False
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
        draft = EntryDraft("email.sent", reminder.organization_id, case_id, ACTOR, {**data, "message_id": message_id})
        log.append(unit, draft, clock=lambda: now)
    return True


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
    for reminder in due:
        message_id = mailer.new_message_id()
        message = _message(services, reminder, message_id)
        if message is None:
            continue
        if mailer.send([message]):
            logger.warning("reminder %s to %s was refused; it stays due", reminder.key, reminder.recipient)
            failed.append(reminder.key)
            continue
        if services.transact(partial(_record, reminder=reminder, message_id=message_id, now=now)):
            sent.append(reminder.key)
    return SweepResult(tuple(sent), tuple(failed))


def _tick(services: Services, now: datetime) -> None:
    sweep(services, now)


def register(registry: Registry) -> None:
    """The worker runs ``sweep`` once per tick (``vault/jobs/catalog.py``)."""
    registry.register_sweep("reminders", _tick)
