"""The console's webhooks settings page, for admins only (``docs/console.md``, "Settings"; issue 15, req. 4).

Adapters over ``vault.webhooks`` (the same functions as ``/api/v1/webhooks`` and ``offboard webhook``):
list the organization's endpoints, add one (its ``whsec_...`` secret is shown once, in the answer to the
form itself, never in a redirect, a cookie or a later page), remove one, send a signed ``webhook.test``,
and per endpoint its deliveries with every attempt and a replay button per delivery. The page is admin
only, like the API: endpoint URLs name the organization's internal systems, so members and viewers get 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from api.console.page import ConsolePage, FormDep, PageDep
from api.console.settings import FieldError, admin, render, sentence
from vault.db import Unit
from vault.errors import InvalidInput, UnacceptableWebhookUrl
from vault.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from vault.webhooks import delivery, endpoints
from vault.webhooks.delivery import AttemptResult
from vault.webhooks.endpoints import NewEndpoint, endpoint_events
from vault.webhooks.events import EVENTS

router = APIRouter(prefix="/settings/webhooks")
#: A form's ``events`` list can hold no more than the catalogue (each name once) plus some slack.
MAX_EVENT_FIELDS = 2 * len(EVENTS)


@dataclass(frozen=True, slots=True)
class EndpointRow:
    """An endpoint as the list shows it."""

    endpoint: WebhookEndpoint
    events: list[str]


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """A delivery with its attempts, oldest first, as the deliveries view shows it."""

    delivery: WebhookDelivery
    attempts: list[WebhookAttempt]


def _rows(session: Session, page: ConsolePage) -> list[EndpointRow]:
    return [EndpointRow(e, endpoint_events(e)) for e in endpoints.list_endpoints(session, page.principal)]


def _webhooks_page(
    page: ConsolePage,
    status: int = 200,
    *,
    errors: list[FieldError] | None = None,
    added: NewEndpoint | None = None,
    **values: Any,
) -> HTMLResponse:
    rows = page.services.read(lambda session: _rows(session, page))
    context = {"url": "", "chosen": [], "loopback": False, **values}
    return render(page, "webhooks", status, errors=errors, rows=rows, added=added, catalogue=EVENTS, **context)


@router.get("", response_class=HTMLResponse)
def webhooks_page(page: PageDep) -> Response:
    return _webhooks_page(admin(page))


@router.post("", response_class=HTMLResponse)
def webhook_add(
    page: FormDep,
    url: Annotated[str, Form(max_length=4096)] = "",
    events: Annotated[list[str], Form(max_length=MAX_EVENT_FIELDS)] = [],  # noqa: B006 (FastAPI copies it)
    allow_loopback_http: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Add an endpoint (``add_endpoint``); the answer is the page with the new secret, shown this once."""
    admin(page)
    loopback = allow_loopback_http == "yes"

    def work(unit: Unit) -> NewEndpoint:
        return endpoints.add_endpoint(
            unit,
            page.services.settings,
            page.principal,
            url=url,
            events=events,
            allow_loopback_http=loopback,
            clock=page.services.clock,
        )

    try:
        added = page.services.transact(work)
    except InvalidInput as exc:
        field = "webhook-url" if isinstance(exc, UnacceptableWebhookUrl) else "webhook-events"
        problem = FieldError(field, sentence(str(exc)))
        return _webhooks_page(page, 422, errors=[problem], url=url, chosen=events, loopback=loopback)
    return _webhooks_page(page, 201, added=added)


@router.post("/{endpoint_id}/remove", response_class=HTMLResponse)
def webhook_remove(endpoint_id: str, page: FormDep) -> Response:
    admin(page)
    page.services.transact(
        lambda unit: endpoints.remove_endpoint(unit, page.principal, endpoint_id, clock=page.services.clock)
    )
    return page.done("/settings/webhooks", "The endpoint is removed; it receives nothing more.")


def _said(result: AttemptResult) -> str:
    attempt = result.attempt
    if attempt.error:
        return f"failed after {attempt.latency_ms} ms: {attempt.error}"
    return f"answered {attempt.status_code} in {attempt.latency_ms} ms"


@router.post("/{endpoint_id}/test", response_class=HTMLResponse)
def webhook_test(endpoint_id: str, page: FormDep) -> Response:
    """Send a signed ``webhook.test`` now (``send_test``, as ``offboard webhook test``)."""
    admin(page)
    result = delivery.send_test(page.services, page.principal, endpoint_id, now=page.services.clock())
    return page.done(f"/settings/webhooks/{endpoint_id}", f"The test event {_said(result)}.")


def _deliveries(session: Session, page: ConsolePage, endpoint_id: str) -> tuple[EndpointRow, list[DeliveryRow]]:
    rows = delivery.deliveries_of(session, page.principal, endpoint_id)
    attempts = delivery.attempts_of(session, [row.id for row in rows])
    endpoint = endpoints.get_endpoint(session, page.principal.organization_id, endpoint_id)
    return EndpointRow(endpoint, endpoint_events(endpoint)), [DeliveryRow(row, attempts[row.id]) for row in rows]


@router.get("/{endpoint_id}", response_class=HTMLResponse)
def webhook_deliveries(endpoint_id: str, page: PageDep) -> Response:
    """One endpoint's latest deliveries, newest first, each with every attempt (``deliveries_of``)."""
    admin(page)
    endpoint, rows = page.services.read(lambda session: _deliveries(session, page, endpoint_id))
    return render(page, "webhook_deliveries", endpoint=endpoint, deliveries=rows)


def _endpoint_of(session: Session, delivery_id: str) -> str:
    row = session.get(WebhookDelivery, delivery_id)
    # ``replay`` has just found this delivery in the organization; a row gone since is the list's problem.
    return f"/settings/webhooks/{row.endpoint_id}" if row is not None else "/settings/webhooks"


@router.post("/deliveries/{delivery_id}/replay", response_class=HTMLResponse)
def webhook_replay(delivery_id: str, page: FormDep) -> Response:
    """A new attempt now with the same ``webhook-id`` and body (``replay``, as the API's replay)."""
    admin(page)
    result = delivery.replay(page.services, page.principal, delivery_id, now=page.services.clock())
    back = page.services.read(lambda session: _endpoint_of(session, delivery_id))
    return page.done(back, f"The replay of {delivery_id} {_said(result)}.")


__all__ = ["router"]
