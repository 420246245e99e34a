"""Delivering webhooks: one attempt at a time, each logged, retried with exponential backoff for over 24 h.

``run_due(services, now=...)`` is the worker's step: it sweeps the ledger into deliveries, then attempts
every pending delivery due at ``now``. A delivery is claimed before its request (its next attempt moved a
minute on, conditionally on the value read), so two workers never send the same attempt. The request runs
outside any transaction; its outcome is recorded in one unit of work afterwards. The signature's
``webhook-timestamp`` is the real time of sending (``services.clock``), while ``now`` schedules; so a worker
stepping days ahead (``--at``) still sends timestamps a receiver accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from vault.db import Unit
from vault.errors import Conflict, NotFound
from vault.handover.links import aware
from vault.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from vault.orgs.organizations import Principal, Role
from vault.services import Services
from vault.states import DeliveryStatus
from vault.webhooks.endpoints import endpoint_secret, get_endpoint
from vault.webhooks.events import TEST_EVENT, probe_payload
from vault.webhooks.transport import Outcome, post, signed_headers
from vault.webhooks.webhook_sweep import new_delivery_id, sweep

#: Waits after the 1st, 2nd, ... failed attempt; after the last, the delivery is failed (about 27.6 h in all).
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
#: How long a claimed delivery is kept from other workers while its request runs.
CLAIM = timedelta(minutes=1)

SCHEDULED = "scheduled"
REPLAY = "replay"
TEST = "test"


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """A finished attempt and the delivery's status after it."""

    attempt: WebhookAttempt
    status: DeliveryStatus


def _claim(unit: Unit, delivery_id: str, seen: datetime | None, now: datetime) -> bool:
    statement = (
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.id) == delivery_id,
            col(WebhookDelivery.status) == DeliveryStatus.PENDING.value,
            col(WebhookDelivery.next_attempt_at) == seen,
        )
        .values(next_attempt_at=now + CLAIM)
    )
    return bool(unit.execute(statement).rowcount == 1)  # type: ignore[attr-defined]


def due_deliveries(session: Session, now: datetime, limit: int) -> list[tuple[str, datetime | None]]:
    query = (
        select(WebhookDelivery.id, WebhookDelivery.next_attempt_at)
        .where(
            col(WebhookDelivery.status) == DeliveryStatus.PENDING.value,
            col(WebhookDelivery.next_attempt_at) <= now,
        )
        .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
        .limit(limit)
    )
    return [(str(i), at) for i, at in session.exec(query)]


def run_due(services: Services, *, now: datetime, limit: int = 100) -> list[AttemptResult]:
    """Sweep new ledger entries into deliveries, then attempt every delivery due at ``now``."""
    sweep(services, now)
    results = []
    for delivery_id, seen in services.read(lambda s: due_deliveries(s, now, limit)):

        def claim(unit: Unit, d: str = delivery_id, t: datetime | None = seen) -> bool:
            return _claim(unit, d, t, now)

        if services.transact(claim):
            result = attempt(services, delivery_id, now=now, trigger=SCHEDULED)
            if result is not None:
                results.append(result)
    return results


WEBHOOKS_SWEEP = "webhooks"


def deliver_due(services: Services, now: datetime) -> None:
    """The worker's sweep (``vault/jobs/catalog.py``): each tick, ``run_due`` at the tick's ``now``."""
    run_due(services, now=now)


def attempt(services: Services, delivery_id: str, *, now: datetime, trigger: str) -> AttemptResult | None:
    """Send one attempt of a delivery and record it; ``None`` when its endpoint was removed meanwhile."""

    def load(session: Session) -> tuple[WebhookDelivery, WebhookEndpoint, str]:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            raise NotFound(f"no webhook delivery {delivery_id}")
        endpoint = get_endpoint(session, delivery.organization_id, delivery.endpoint_id)
        return delivery, endpoint, endpoint_secret(services.settings, endpoint)

    delivery, endpoint, secret = services.read(load)
    if not endpoint.active:
        services.transact(lambda unit: _abandon(unit, delivery_id))
        return None
    sent_at = services.clock()
    outcome = post(endpoint.url, signed_headers(secret, delivery.id, sent_at, delivery.payload), delivery.payload)
    return services.transact(lambda unit: _record(unit, delivery_id, outcome, sent_at, now, trigger))


def _abandon(unit: Unit, delivery_id: str) -> None:
    delivery = unit.get(WebhookDelivery, delivery_id)
    if delivery is not None and DeliveryStatus.PENDING == delivery.status:
        delivery.status = DeliveryStatus.FAILED.value
        delivery.next_attempt_at = None
        unit.add(delivery)


def _record(
    unit: Unit, delivery_id: str, outcome: Outcome, sent_at: datetime, now: datetime, trigger: str
) -> AttemptResult:
    delivery = unit.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound(f"no webhook delivery {delivery_id}")
    delivery.attempts += 1
    row = WebhookAttempt(
        delivery_id=delivery.id,
        number=delivery.attempts,
        trigger=trigger,
        started_at=sent_at,
        latency_ms=outcome.latency_ms,
        status_code=outcome.status_code,
        response_excerpt=outcome.excerpt,
        response_bytes=outcome.body_bytes,
        response_truncated=outcome.truncated,
        error=outcome.error,
    )
    if outcome.ok:
        delivery.status = DeliveryStatus.DELIVERED.value
        delivery.delivered_at = sent_at
        delivery.next_attempt_at = None
    elif DeliveryStatus.PENDING == delivery.status and trigger == SCHEDULED:
        failures = delivery.attempts
        if failures <= len(RETRY_DELAYS):
            delivery.next_attempt_at = aware(now) + RETRY_DELAYS[failures - 1]
        else:
            delivery.status = DeliveryStatus.FAILED.value
            delivery.next_attempt_at = None
    unit.add(delivery)
    unit.add(row)
    unit.flush()
    return AttemptResult(row, DeliveryStatus(delivery.status))


def replay(services: Services, principal: Principal, delivery_id: str, *, now: datetime) -> AttemptResult:
    """A new attempt of a delivery now (admins only), with the same ``webhook-id`` and body."""
    principal.require(Role.ADMIN)

    def check(session: Session) -> None:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.organization_id != principal.organization_id:
            raise NotFound(f"no webhook delivery {delivery_id}")
        if not get_endpoint(session, principal.organization_id, delivery.endpoint_id).active:
            raise Conflict(f"the endpoint of delivery {delivery_id} was removed; nothing to replay to")

    services.read(check)
    result = attempt(services, delivery_id, now=now, trigger=REPLAY)
    if result is None:
        raise Conflict(f"the endpoint of delivery {delivery_id} was removed; nothing to replay to")
    return result


def send_test(services: Services, principal: Principal, endpoint_id: str, *, now: datetime) -> AttemptResult:
    """Send a signed ``webhook.test`` event to an endpoint now (admins only) and return the attempt."""
    principal.require(Role.ADMIN)

    def create(unit: Unit) -> str:
        endpoint = get_endpoint(unit, principal.organization_id, endpoint_id)
        if not endpoint.active:
            raise NotFound(f"no webhook endpoint {endpoint_id}")
        delivery = WebhookDelivery(
            id=new_delivery_id(),
            organization_id=principal.organization_id,
            endpoint_id=endpoint.id,
            event=TEST_EVENT,
            payload=probe_payload(principal.organization_id, endpoint.id, now),
            created_at=now,
        )
        unit.add(delivery)
        return delivery.id

    result = attempt(services, services.transact(create), now=now, trigger=TEST)
    if result is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    return result


def deliveries_of(
    session: Session, principal: Principal, endpoint_id: str, *, limit: int = 100
) -> list[WebhookDelivery]:
    """An endpoint's latest deliveries, newest first (admins only)."""
    principal.require(Role.ADMIN)
    get_endpoint(session, principal.organization_id, endpoint_id)
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    return list(
        session.exec(query.order_by(col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id)).limit(limit))
    )


def attempts_of(session: Session, delivery_ids: list[str]) -> dict[str, list[WebhookAttempt]]:
    """The attempts of these deliveries, oldest first, by delivery id."""
    out: dict[str, list[WebhookAttempt]] = {d: [] for d in delivery_ids}
    query = select(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(delivery_ids))
    for row in session.exec(query.order_by(col(WebhookAttempt.id))):
        out[row.delivery_id].append(row)
    return out
