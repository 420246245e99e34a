"""Webhook endpoints, deliveries and attempts at the HTTP edge."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from api.schemas.wire_times import optional_rfc3339
from vault.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from vault.webhooks.endpoints import endpoint_events


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=1, max_length=2048, description="https://..., or http:// on loopback with allow_loopback_http."
    )
    events: list[str] = Field(min_length=1, max_length=20, description="Event names, e.g. case.opened.")
    secret: str | None = Field(default=None, max_length=200, description="whsec_...; generated when omitted.")
    allow_loopback_http: bool = False


class WebhookPublic(BaseModel):
    id: str
    url: str
    events: list[str]
    created_by: str
    created_at: datetime
    active: bool
    secret: str | None = Field(default=None, description="Only in the creation response; shown once.")

    @field_serializer("created_at")
    def _time(self, value: datetime) -> str | None:
        return optional_rfc3339(value)

    @classmethod
    def of(cls, row: WebhookEndpoint, secret: str | None = None) -> WebhookPublic:
        return cls(
            id=row.id,
            url=row.url,
            events=endpoint_events(row),
            created_by=row.created_by,
            created_at=row.created_at,
            active=row.active,
            secret=secret,
        )


class AttemptPublic(BaseModel):
    number: int
    trigger: str
    started_at: datetime
    latency_ms: int
    status_code: int | None
    response_excerpt: str
    response_bytes: int
    response_truncated: bool
    error: str

    @field_serializer("started_at")
    def _time(self, value: datetime) -> str | None:
        return optional_rfc3339(value)

    @classmethod
    def of(cls, row: WebhookAttempt) -> AttemptPublic:
        return cls.model_validate(row, from_attributes=True)


class DeliveryPublic(BaseModel):
    id: str = Field(description="The webhook-id header, the same on every attempt.")
    event: str
    ledger_index: int | None
    status: str
    attempts: list[AttemptPublic]
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None

    @field_serializer("created_at", "next_attempt_at", "delivered_at")
    def _time(self, value: datetime | None) -> str | None:
        return optional_rfc3339(value)

    @classmethod
    def of(cls, row: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryPublic:
        return cls(
            id=row.id,
            event=row.event,
            ledger_index=row.ledger_index,
            status=row.status,
            attempts=[AttemptPublic.of(a) for a in attempts],
            created_at=row.created_at,
            next_attempt_at=row.next_attempt_at,
            delivered_at=row.delivered_at,
        )
