"""Communications (email, call, meeting) logged as evidence of kind ``communication``.

The text is rendered into a small UTF-8 document and stored through the normal evidence ingest, so it is
hashed, stored and recorded (``evidence.stored``) exactly like any uploaded file. The rendering is
deterministic: logging the same communication twice stores it once.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from storage.base import ObjectStore
from vault.clock import Clock, rfc3339, system_clock
from vault.db import Transact
from vault.errors import InvalidInput
from vault.evidence.ingest import EvidenceIngest, IngestLimits, IngestResult
from vault.orgs.organizations import Principal

MAX_TEXT = 200_000


class Channel(StrEnum):
    EMAIL = "email"
    CALL = "call"
    MEETING = "meeting"


def render(
    *,
    channel: Channel,
    subject: str,
    text: str,
    occurred_at: datetime,
    participants: list[str],
    recorded_by: str,
) -> bytes:
    header = [
        f"Channel: {channel.value}",
        f"Occurred-At: {rfc3339(occurred_at)}",
        f"Subject: {subject}",
        f"Participants: {', '.join(participants)}",
        f"Recorded-By: {recorded_by}",
    ]
    return ("\n".join(header) + "\n\n" + text.rstrip("\n") + "\n").encode("utf-8")


def log_communication(
    session: Session,
    transact: Transact,
    store: ObjectStore,
    principal: Principal,
    case_id: str,
    limits: IngestLimits,
    *,
    channel: str,
    text: str,
    subject: str = "",
    occurred_at: datetime | None = None,
    participants: list[str] | None = None,
    clock: Clock = system_clock,
) -> IngestResult:
    """Store the communication's text as evidence of kind ``communication`` in ``case_id``.

    ``session`` (a read session) checks the case; the row and its entry are written through ``transact``.
    """
    try:
        parsed = Channel(channel.strip().lower())
    except ValueError:
        raise InvalidInput(f"channel must be one of email, call, meeting; got {channel!r}") from None
    if not text.strip() or len(text) > MAX_TEXT:
        raise InvalidInput(f"a communication needs its text (1 to {MAX_TEXT} characters)")
    subject = " ".join(subject.split())[:300]
    people = [" ".join(p.split()) for p in participants or [] if p.strip()]
    when = occurred_at or clock()
    body = render(
        channel=parsed,
        subject=subject,
        text=text,
        occurred_at=when,
        participants=people,
        recorded_by=principal.actor,
    )
    ingest = EvidenceIngest.begin(session, store, principal, case_id, limits, transact=transact, clock=clock)
    ingest.feed(body)
    filename = f"{parsed.value}-{when.strftime('%Y%m%dT%H%M%SZ')}.txt"
    return ingest.finish(
        filename=filename,
        kind="communication",
        content_type="text/plain; charset=utf-8",
        description=subject or None,
    )
