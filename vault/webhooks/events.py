"""Which ledger entries are webhook events, and the JSON payload each delivery carries.

An event is named after what happened to the case, not after the entry type: ``step.completed`` is
``case.step_completed``, and a ``case.status_changed`` into the final state is ``case.fully_offboarded``.
The payload carries what a receiver needs to check the event against the ledger: the entry's index and leaf
hash, and the signed checkpoint (note text) that covers it (``docs/webhooks.md``).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from vault import canonical
from vault.clock import rfc3339
from vault.models import LedgerEntry
from vault.states import CaseStatus

TEST_EVENT = "webhook.test"

#: Entry type -> event, for the entries that are an event whatever their data.
_BY_TYPE = {
    "case.opened": "case.opened",
    "step.completed": "case.step_completed",
    "access.revoked": "case.access_revoked",
    "evidence.stored": "evidence.stored",
    "receipt.sent": "receipt.sent",
    "receipt.opened": "receipt.opened",
    "receipt.acknowledged": "receipt.acknowledged",
    "receipt.disputed": "receipt.disputed",
    "bundle.exported": "bundle.exported",
}
_STATUS_CHANGED = "case.status_changed"
FULLY_OFFBOARDED = "case.fully_offboarded"

#: Every event an endpoint may ask for, in the order of a case's life.
EVENTS: tuple[str, ...] = (
    "case.opened",
    "case.step_completed",
    "case.access_revoked",
    "evidence.stored",
    "receipt.sent",
    "receipt.opened",
    "receipt.acknowledged",
    "receipt.disputed",
    FULLY_OFFBOARDED,
    "bundle.exported",
)

#: The entry types the sweep needs to read (the rest of the log is skipped in SQL).
ENTRY_TYPES: tuple[str, ...] = (*_BY_TYPE, _STATUS_CHANGED)


def event_of(entry: LedgerEntry) -> str | None:
    """The event this entry is, or ``None``."""
    if entry.entry_type == _STATUS_CHANGED:
        data = json.loads(entry.body).get("data", {})
        return FULLY_OFFBOARDED if CaseStatus.FULLY_OFFBOARDED == data.get("to") else None
    return _BY_TYPE.get(entry.entry_type)


def event_payload(event: str, entry: LedgerEntry, checkpoint: str | None) -> str:
    """The delivery body (RFC 8785 JSON), the same bytes on every attempt."""
    document: dict[str, Any] = {
        "event": event,
        "organization": entry.organization_id,
        "case": entry.case_id,
        "entry_type": entry.entry_type,
        "ledger_index": entry.idx,
        "leaf_hash": base64.b64encode(bytes(entry.leaf_hash)).decode("ascii"),
        "timestamp": json.loads(entry.body)["time"],
        "checkpoint": checkpoint,
    }
    return canonical.dumps(document).decode("utf-8")


def probe_payload(organization_id: str, endpoint_id: str, at: datetime) -> str:
    """The body of a ``webhook.test`` delivery: no case and no ledger entry."""
    document = {"event": TEST_EVENT, "organization": organization_id, "endpoint": endpoint_id, "timestamp": rfc3339(at)}
    return canonical.dumps(document).decode("utf-8")
