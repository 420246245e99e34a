"""The sweep: new ledger entries of each organization become deliveries, one per matching endpoint.

Per organization, one unit of work signs a checkpoint covering the log (so every payload carries a
checkpoint that includes its entry), reads the entries from the organization's cursor up to that size,
creates the deliveries and advances the cursor: the three commit together, so an entry is never skipped
nor delivered twice (the unique (endpoint, ledger index) index backs this up).
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlmodel import Session, col, select

from vault.db import Unit
from vault.handover.links import aware
from vault.ledger import keyring, log
from vault.ledger.publish import publish
from vault.models import LedgerEntry, Organization, WebhookCursor, WebhookDelivery, WebhookEndpoint
from vault.services import Services
from vault.webhooks.endpoints import endpoint_events
from vault.webhooks.events import ENTRY_TYPES, event_of, event_payload

#: Entries read per organization per sweep; the rest wait for the next tick.
BATCH = 500


def new_delivery_id() -> str:
    """A Standard Webhooks message id (``msg_`` + random), sent as ``webhook-id`` on every attempt."""
    return "msg_" + secrets.token_hex(16)


def _organizations_with_endpoints(session: Session) -> list[str]:
    query = select(WebhookEndpoint.organization_id).where(col(WebhookEndpoint.active).is_(True)).distinct()
    return sorted(str(org_id) for org_id in session.exec(query))


def sweep(services: Services, now: datetime) -> int:
    """Turn every organization's new entries into pending deliveries due at ``now``; returns how many."""
    created = 0
    for org_id in services.read(_organizations_with_endpoints):

        def work(unit: Unit, org_id: str = org_id) -> int:
            return sweep_organization(unit, services, org_id, now)

        created += services.transact(work)
    return created


def sweep_organization(unit: Unit, services: Services, organization_id: str, now: datetime) -> int:
    """One organization's part of the sweep, in the caller's unit of work."""
    org = unit.get(Organization, organization_id)
    if org is None:
        return 0
    cursor = unit.get(WebhookCursor, organization_id) or WebhookCursor(organization_id=organization_id)
    checkpoint = publish(unit, services.settings, org, clock=services.clock) if keyring.keys_of(unit, org.id) else None
    end = checkpoint.size if checkpoint is not None else log.size(unit, org.id)
    end = min(end, cursor.next_index + BATCH)
    if end <= cursor.next_index:
        return 0
    endpoints = list(
        unit.exec(
            select(WebhookEndpoint).where(
                WebhookEndpoint.organization_id == organization_id, col(WebhookEndpoint.active).is_(True)
            )
        )
    )
    entries = unit.exec(
        select(LedgerEntry)
        .where(
            LedgerEntry.organization_id == organization_id,
            col(LedgerEntry.idx) >= cursor.next_index,
            col(LedgerEntry.idx) < end,
            col(LedgerEntry.entry_type).in_(ENTRY_TYPES),
        )
        .order_by(col(LedgerEntry.idx))
    )
    created = 0
    note = checkpoint.note if checkpoint is not None else None
    for entry in entries:
        event = event_of(entry)
        if event is None:
            continue
        for endpoint in endpoints:
            # An endpoint hears of what happened after it was added, not of the log's history.
            if event not in endpoint_events(endpoint) or aware(entry.created_at) < aware(endpoint.created_at):
                continue
            unit.add(
                WebhookDelivery(
                    id=new_delivery_id(),
                    organization_id=organization_id,
                    endpoint_id=endpoint.id,
                    event=event,
                    ledger_index=entry.idx,
                    payload=event_payload(event, entry, note),
                    created_at=now,
                    next_attempt_at=now,
                )
            )
            created += 1
    cursor.next_index = end
    cursor.updated_at = now
    unit.add(cursor)
    return created
