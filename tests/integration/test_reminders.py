"""Reminders end to end on both backends, stepping through days with ``sweep(services, now)`` against a
loopback SMTP server: each digest, escalation and client reminder arrives once and in order, the client's
reminder carries the very link of the first email, none follows the acknowledgment, and an organization's
time zone moves its digest to another UTC instant."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from templates.render import Renderer
from tests.integration.cases_helpers import OWNER, add_staff, open_case, upload
from tests.integration.receipts_support import (
    CONTACT,
    Handover,
    Inbox,
    acknowledge,
    app_client,
    create_receipt,
    link_in,
    path_of,
    smtp_server,
    text_body,
    timeline_types,
)
from vault.db import read_session
from vault.ledger.entries import decode_entry
from vault.models import LedgerEntry, ReminderSent
from vault.reminders.reminder_sweep import reminder_message_id, sweep
from vault.services import Services

ADMIN = "boss@agency.example"
PLAYBOOK = {
    "key": "tiny",
    "version": 1,
    "title": "Tiny",
    "steps": [{"key": "only", "title": "Hand over the keys", "criteria": ["note"], "due_days": 2}],
}
SENT_AT = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def world(services: Any, initialized: Any) -> Iterator[tuple[TestClient, Services, Inbox, Clock]]:
    clock = Clock(SENT_AT)
    with (
        smtp_server() as (url, inbox),
        app_client(services, initialized.admin_token.secret, smtp_url=url, clock=clock) as client,
    ):
        settings = services.settings.model_copy(update={"smtp_url": url})
        worker = Services(settings=settings, engine=services.engine, store=services.store, renderer=Renderer())
        assert client.put("/api/v1/playbooks/tiny", json={"document": PLAYBOOK}).status_code == 201
        yield client, worker, inbox, clock


def tiny_case(client: TestClient) -> str:
    case = open_case(client, contacts=[CONTACT], service_type="tiny", intent_date="2027-03-01")
    return str(case["id"])


def kinds(inbox: Inbox, start: int) -> list[tuple[str, str]]:
    """(recipient, template family) of the emails received from ``start`` on, in arrival order."""
    out = []
    for message in inbox.messages[start:]:
        subject = str(message["Subject"])
        family = (
            "digest"
            if "need you today" in subject
            else "escalation"
            if "overdue" in subject
            else "reminder"
            if "a reminder to confirm" in subject
            else "expired"
            if "expired unanswered" in subject
            else subject
        )
        out.append((str(message["To"]), family))
    return out


def day(n: int, hour: int = 9) -> datetime:
    return datetime(2027, 3, n, hour, 0, tzinfo=UTC)


def test_days_bring_each_email_once_in_order_and_none_after_the_acknowledgment(services: Any, initialized: Any) -> None:
    with world(services, initialized) as (client, worker, inbox, clock):
        add_staff(client, ADMIN, role="admin")
        case_id = tiny_case(client)
        evidence = upload(client, case_id, b"the keys, handed over", "deliverable", "keys.txt")
        receipt = create_receipt(client, Handover(case_id, {"keys.txt": evidence}))
        assert client.post(f"/api/v1/receipts/{receipt['id']}/send").status_code == 200
        first_link = link_in(inbox.wait_for(1)[0])

        expected = {
            1: [],
            2: [(OWNER, "digest")],  # due on the 3rd: within 48 hours
            3: [(OWNER, "digest")],
            4: [(OWNER, "digest"), (CONTACT, "reminder")],  # 3 days after sending
            5: [(OWNER, "digest")],
            6: [(OWNER, "digest")],
            7: [(OWNER, "digest"), (ADMIN, "escalation")],  # overdue 4 days > 3
        }
        for n, wanted in expected.items():
            start = len(inbox.messages)
            result = sweep(worker, day(n))
            assert len(result.sent) == len(wanted), (n, result)
            assert kinds(inbox, start) == wanted, n
            assert sweep(worker, day(n, 23)).sent == (), n  # the same local day again: nothing twice

        reminder = [m for m in inbox.to(CONTACT) if "a reminder to confirm" in m["Subject"]][0]
        assert link_in(reminder) == first_link  # the same personal link, no new token
        digest = inbox.to(OWNER)[-1]
        assert f"http://testserver/cases/{case_id}" in text_body(digest) and "Hand over the keys" in text_body(digest)

        clock.now = day(7, 12)
        before = len(inbox.messages)
        assert acknowledge(client, path_of(first_link)).status_code == 200
        start = len(inbox.wait_for(before + 2))  # the confirmation and the owner's notice
        for n in (8, 9, 10):
            sweep(worker, day(n))
        assert (CONTACT, "reminder") not in kinds(inbox, start)
        assert kinds(inbox, start) == [(OWNER, "digest")] * 3

        types = timeline_types(client, case_id)
        assert types.count("email.sent") == 6 + 1 + 1 + 3  # digests, the reminder, the escalation, 3 digests
        with read_session(services.engine) as session:
            rows = session.exec(select(LedgerEntry).where(LedgerEntry.case_id == case_id)).all()
            sent = [decode_entry(bytes(r.body)) for r in rows]
            kept = session.exec(select(ReminderSent).where(ReminderSent.template == "client_reminder")).one()
        # The Message-ID comes from the reminder's key: a resend after a lost record is the same message.
        sender = parseaddr(str(reminder["From"]))[1]
        assert reminder["Message-ID"] == kept.message_id == reminder_message_id(kept.key, sender)
        assert reminder_message_id(kept.key + "x", sender) != kept.message_id
        reminders = [e["data"] for e in sent if e["type"] == "email.sent" and e["data"]["type"] == "client_reminder"]
        assert reminders == [
            {
                "type": "client_reminder",
                "recipient": CONTACT,
                "template": "client_reminder",
                "message_id": reminder["Message-ID"],
            }
        ]


def test_an_expired_link_brings_the_owner_a_final_notice_once(services: Any, initialized: Any) -> None:
    with world(services, initialized) as (client, worker, inbox, _clock):
        case_id = tiny_case(client)
        evidence = upload(client, case_id, b"files", "deliverable", "files.txt")
        receipt = create_receipt(client, Handover(case_id, {"files.txt": evidence}))
        assert client.post(f"/api/v1/receipts/{receipt['id']}/send").status_code == 200
        inbox.wait_for(1)
        expiry = SENT_AT + timedelta(days=services.settings.ack_link_days)
        start = len(inbox.messages)
        sweep(worker, expiry - timedelta(hours=1))
        assert (OWNER, "expired") not in kinds(inbox, start)
        sweep(worker, expiry + timedelta(hours=1))
        sweep(worker, expiry + timedelta(days=1))
        got = kinds(inbox, start)
        assert got.count((OWNER, "expired")) == 1
        assert got.index((OWNER, "expired")) > got.index((CONTACT, "reminder"))  # the 7-day reminder came first
        notice = [m for m in inbox.to(OWNER) if "expired unanswered" in m["Subject"]][0]
        assert CONTACT in text_body(notice) and receipt["id"] in text_body(notice)


@pytest.mark.parametrize(
    ("zone", "first"),
    [("UTC", datetime(2027, 3, 2, 8, 0, tzinfo=UTC)), ("Pacific/Auckland", datetime(2027, 3, 1, 19, 0, tzinfo=UTC))],
)
def test_the_digest_comes_at_the_local_hour_of_the_organization(
    services: Any, initialized: Any, zone: str, first: datetime
) -> None:
    with world(services, initialized) as (client, worker, inbox, _clock):
        assert client.patch("/api/v1/organization", json={"timezone": zone, "digest_hour": 8}).status_code == 200
        tiny_case(client)
        before = len(inbox.messages)
        assert sweep(worker, first - timedelta(minutes=1)).sent == ()
        assert len(sweep(worker, first).sent) == 1
        assert kinds(inbox, before) == [(OWNER, "digest")]


def test_offboard_worker_once_at_sends_the_due_reminders_once(
    services: Any, initialized: Any, cli_env: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.helpers import run_cli

    with world(services, initialized) as (client, worker, inbox, _clock):
        monkeypatch.setenv("OFFBOARD_SMTP_URL", str(worker.settings.smtp_url))
        monkeypatch.setenv("OFFBOARD_BASE_URL", "http://testserver")
        case_id = tiny_case(client)
        evidence = upload(client, case_id, b"the keys", "deliverable", "keys.txt")
        receipt = create_receipt(client, Handover(case_id, {"keys.txt": evidence}))
        assert client.post(f"/api/v1/receipts/{receipt['id']}/send").status_code == 200
        first_link = link_in(inbox.wait_for(1)[0])
        for n, wanted in {1: [], 2: [(OWNER, "digest")], 4: [(OWNER, "digest"), (CONTACT, "reminder")]}.items():
            start = len(inbox.messages)
            for _ in range(2):  # the same instant twice: each email once
                code, _out, err = run_cli(capsys, "worker", "--once", "--at", day(n).isoformat().replace("+00:00", "Z"))
                assert code == 0, err
            assert kinds(inbox, start) == wanted, n
        assert link_in(inbox.to(CONTACT)[-1]) == first_link


def test_on_postgresql_a_second_worker_does_not_sweep_while_one_sweeps(services: Any, initialized: Any) -> None:
    """On PostgreSQL the sweep's advisory lock; on SQLite the worker lease lets one worker tick, so there
    the sweep takes no lock."""
    from sqlalchemy import text

    from vault.reminders.reminder_sweep import SWEEP_LOCK

    with world(services, initialized) as (client, worker, inbox, _clock):
        tiny_case(client)
        if services.engine.dialect.name != "postgresql":
            assert len(sweep(worker, day(2)).sent) == 1
            return
        with services.engine.connect() as other:
            assert other.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": SWEEP_LOCK}).scalar()
            assert sweep(worker, day(2)).sent == ()  # the other worker is sweeping
            other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": SWEEP_LOCK})
            other.commit()
        assert len(sweep(worker, day(2)).sent) == 1
        assert kinds(inbox, 0) == [(OWNER, "digest")]
