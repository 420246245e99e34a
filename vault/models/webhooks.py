"""Webhooks: an organization's endpoints, its ledger cursor, deliveries and their attempts (``docs/webhooks.md``).

The endpoint's signing secret is needed in the clear to sign, so it is kept sealed (AES-256-GCM under a key
derived from the deployment's webhook key file, ``vault.webhooks.secret_box.py``), never as plain text.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from vault.clock import system_clock
from vault.models.core import new_id
from vault.states import DeliveryStatus


class WebhookEndpoint(SQLModel, table=True):
    """A URL of a system the organization runs, the events it wants, and its sealed secret."""

    __tablename__ = "webhook_endpoint"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    url: str = Field(max_length=2048)
    #: ``v1.<base64 nonce || AES-GCM ciphertext>`` of the ``whsec_...`` secret, bound to this row's id.
    secret_sealed: str = Field(max_length=512)
    #: JSON list of the event names delivered to this endpoint.
    events: str
    allow_loopback_http: bool = False
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=system_clock)
    #: False once removed; the row stays so its deliveries remain readable.
    active: bool = True
    removed_at: datetime | None = None


class WebhookCursor(SQLModel, table=True):
    """How far the sweep has read an organization's ledger: every entry below ``next_index`` was considered."""

    __tablename__ = "webhook_cursor"

    organization_id: str = Field(foreign_key="organization.id", primary_key=True)
    next_index: int = 0
    updated_at: datetime = Field(default_factory=system_clock)


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint. Its id is the ``webhook-id`` header, the same on every attempt."""

    __tablename__ = "webhook_delivery"
    # One delivery per (endpoint, ledger entry): a sweep run twice over the same entries cannot double it.
    __table_args__ = (Index("ix_webhook_delivery_endpoint_entry", "endpoint_id", "ledger_index", unique=True),)

    id: str = Field(primary_key=True, max_length=64)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    endpoint_id: str = Field(foreign_key="webhook_endpoint.id", index=True)
    event: str = Field(max_length=64)
    #: The ledger entry it announces; ``None`` for a ``webhook.test``.
    ledger_index: int | None = None
    #: The exact JSON body sent (and signed) on every attempt.
    payload: str
    status: str = Field(default=DeliveryStatus.PENDING.value, max_length=16)
    attempts: int = 0
    created_at: datetime = Field(default_factory=system_clock)
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None


class WebhookAttempt(SQLModel, table=True):
    """One HTTP request of a delivery and what came back (or why nothing did)."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(foreign_key="webhook_delivery.id", index=True, max_length=64)
    #: 1 for the first attempt; replays continue the count.
    number: int
    #: ``scheduled`` (first try and retries), ``replay`` (asked by staff) or ``test``.
    trigger: str = Field(max_length=16)
    started_at: datetime
    latency_ms: int
    status_code: int | None = None
    #: The first bytes of the response body (decoded leniently), at most 2,000 characters.
    response_excerpt: str = ""
    #: How many body bytes were read (never more than 64 KiB) and whether the body went on beyond them.
    response_bytes: int = 0
    response_truncated: bool = False
    #: Why the attempt failed (a network error, a redirect, a non-2xx status); empty when it succeeded.
    error: str = Field(default="", max_length=500)
