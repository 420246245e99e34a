"""``/api/v1/webhooks``: an organization's webhook endpoints, their deliveries, and replays. Admins only."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlmodel import Session

from api.deps import PrincipalDep, ServicesDep, SessionDep
from api.errors import COMMON_RESPONSES, responses
from api.schemas.webhook_bodies import AttemptPublic, DeliveryPublic, WebhookCreate, WebhookPublic
from vault.db import Unit
from vault.webhooks import delivery, endpoints

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], responses=COMMON_RESPONSES)


@router.get("", responses=responses(403))
def list_webhooks(principal: PrincipalDep, session: SessionDep) -> list[WebhookPublic]:
    return [WebhookPublic.of(row) for row in endpoints.list_endpoints(session, principal)]


@router.post("", status_code=status.HTTP_201_CREATED, responses=responses(403))
def add_webhook(body: WebhookCreate, principal: PrincipalDep, services: ServicesDep) -> WebhookPublic:
    def work(unit: Unit) -> WebhookPublic:
        added = endpoints.add_endpoint(
            unit,
            services.settings,
            principal,
            url=body.url,
            events=body.events,
            secret=body.secret,
            allow_loopback_http=body.allow_loopback_http,
            clock=services.clock,
        )
        return WebhookPublic.of(added.endpoint, added.secret)

    return services.transact(work)


@router.delete("/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(403))
def remove_webhook(endpoint_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    services.transact(lambda unit: endpoints.remove_endpoint(unit, principal, endpoint_id, clock=services.clock))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{endpoint_id}/deliveries", responses=responses(403))
def list_deliveries(endpoint_id: str, principal: PrincipalDep, session: SessionDep) -> list[DeliveryPublic]:
    return _deliveries(session, principal, endpoint_id)


def _deliveries(session: Session, principal: PrincipalDep, endpoint_id: str) -> list[DeliveryPublic]:
    rows = delivery.deliveries_of(session, principal, endpoint_id)
    attempts = delivery.attempts_of(session, [row.id for row in rows])
    return [DeliveryPublic.of(row, attempts[row.id]) for row in rows]


@router.post("/deliveries/{delivery_id}/replay", responses=responses(403, 409))
def replay_delivery(delivery_id: str, principal: PrincipalDep, services: ServicesDep) -> AttemptPublic:
    """A new attempt now, with the same webhook-id and body; answers the attempt's outcome."""
    result = delivery.replay(services, principal, delivery_id, now=services.clock())
    return AttemptPublic.of(result.attempt)
