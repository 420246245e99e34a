"""Issue 15, Tests: two ``offboard worker --once --at DAY`` processes on one PostgreSQL database, started
together each day, send each digest, escalation and client reminder exactly once, and no client reminder
after the acknowledgment (``docs/worker.md``, "Exactly once"; ``docs/cases.md``, "Reminders").

Two cases of one owner, each with a step due two days after the intent date and a receipt sent on day 1
to its own contact. Day by day: the owner's digest (both cases in one email), the contacts' 3-day reminders,
the admin's escalation of each step, then the 7-day reminder to the contact who has not acknowledged.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from tests.integration.cases_helpers import OWNER, add_staff, open_case, upload
from tests.integration.receipts_support import (
    Handover,
    Inbox,
    acknowledge,
    app_client,
    create_receipt,
    link_in,
    path_of,
    smtp_server,
)
from tests.integration.test_reminders import ADMIN, PLAYBOOK, SENT_AT, Clock, day, kinds
from vault.config_file import write_env_file
from vault.db import read_session
from vault.ledger.entries import decode_entry
from vault.models import LedgerEntry, ReminderSent

OFFBOARD = str(Path(sys.executable).parent / "offboard")
ALICE, BOB = "alice@acme.example", "bob@globex.example"
#: What arrives at the sink on each day of March 2027 (the workers run at 09:00 UTC), in any order.
#: Alice acknowledges on day 5, so only Bob hears on day 8 (7 days after sending).
EXPECTED: dict[int, list[tuple[str, str]]] = {
    1: [],
    2: [(OWNER, "digest")],  # both steps due on the 3rd: within 48 hours
    3: [(OWNER, "digest")],
    4: [(OWNER, "digest"), (ALICE, "reminder"), (BOB, "reminder")],  # 3 days after sending
    5: [(OWNER, "digest")],
    6: [(OWNER, "digest")],
    7: [(OWNER, "digest"), (ADMIN, "escalation"), (ADMIN, "escalation")],  # each step overdue 4 days > 3
    8: [(OWNER, "digest"), (BOB, "reminder")],
    9: [(OWNER, "digest")],
}
ACK_DAY = 5


def _env(settings: Any, smtp_url: str) -> dict[str, str]:
    env = {**os.environ, "OFFBOARD_HOME": str(settings.home), "OFFBOARD_SMTP_URL": smtp_url}
    env["OFFBOARD_BASE_URL"] = settings.base_url
    for name in ("database_url", "storage_url", "s3_endpoint_url"):
        env[f"OFFBOARD_{name.upper()}"] = str(getattr(settings, name))
    return env


def _two_workers(env: dict[str, str], at: datetime) -> list[str]:
    """Start two ``offboard worker --once --at`` processes at once; wait for both; their stdout."""
    at_text = at.isoformat().replace("+00:00", "Z")
    argv = [OFFBOARD, "worker", "--once", "--at", at_text]
    workers = [
        subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: S603 - ours
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    return [out.decode() for out, _ in outputs]


def _settled(inbox: Inbox, expected: int) -> list[tuple[str, str]]:
    """The sink's messages once ``expected`` arrived and a moment passed with no more (a late double)."""
    inbox.wait_for(expected)
    time.sleep(0.3)
    return kinds(inbox, 0)


def _send_receipt(client: Any, contact: str, name: str) -> str:
    case = open_case(client, client_name=name, contacts=[contact], service_type="tiny", intent_date="2027-03-01")
    evidence = upload(client, str(case["id"]), f"{name}'s keys".encode(), "deliverable", "keys.txt")
    receipt = create_receipt(client, Handover(str(case["id"]), {"keys.txt": evidence}))
    assert client.post(f"/api/v1/receipts/{receipt['id']}/send").status_code == 200
    return str(case["id"])


@pytest.mark.parametrize("backend", ["postgres-s3"])
def test_two_workers_stepping_days_send_each_reminder_once(services: Any, initialized: Any) -> None:
    write_env_file(services.settings.env_file, {})
    clock = Clock(SENT_AT)
    with smtp_server() as (url, inbox):
        # No worker thread in the app: the two processes below are the only workers.
        with app_client(services, initialized.admin_token.secret, smtp_url=url, clock=clock, worker=False) as client:
            assert client.put("/api/v1/playbooks/tiny", json={"document": PLAYBOOK}).status_code == 201
            add_staff(client, ADMIN, role="admin")
            cases = [_send_receipt(client, ALICE, "Acme"), _send_receipt(client, BOB, "Globex")]
            sent = inbox.wait_for(2)
            alice_link = link_in(next(m for m in sent if m["To"] == ALICE))
            env = _env(services.settings, url)
            expected_total = len(inbox.messages)
            for n, wanted in EXPECTED.items():
                start = len(inbox.messages)
                _two_workers(env, day(n))
                expected_total += len(wanted)
                got = _settled(inbox, expected_total)[start:]
                assert Counter(got) == Counter(wanted), (n, got)
                if n == ACK_DAY:
                    clock.now = day(n, 12)
                    assert acknowledge(client, path_of(alice_link)).status_code == 200
                    expected_total += 2  # Alice's confirmation and the owner's notice, sent by the request
                    inbox.wait_for(expected_total)
            # The last day again, later: each of its emails was sent already.
            _two_workers(env, day(max(EXPECTED), 23))
            received = list(_settled(inbox, expected_total))
            assert len(received) == expected_total
    message_ids = Counter(m["Message-ID"] for m in inbox.messages)
    assert set(message_ids.values()) == {1}
    with read_session(services.engine) as session:
        rows = session.exec(select(LedgerEntry).where(col(LedgerEntry.case_id).in_(cases))).all()
        recorded = [decode_entry(bytes(r.body)) for r in rows]
        keys = session.exec(select(ReminderSent.key)).all()
    reminders = [e["data"] for e in recorded if e["type"] == "email.sent" and "type" in e["data"]]
    # One ledger entry per case an email is about: a digest names both cases, the others one.
    families = Counter(family for wanted in EXPECTED.values() for _to, family in wanted)
    digests, others = families["digest"], families.total() - families["digest"]
    assert len(reminders) == 2 * digests + others
    assert Counter(r["message_id"] for r in reminders).most_common(1)[0][1] <= 2  # a digest: once per case
    assert len(keys) == len(set(keys)) == digests + others
    assert not [r for r in reminders if r["recipient"] == ALICE and r["type"] == "client_reminder"][1:]
