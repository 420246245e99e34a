"""Webhook endpoints of an organization: add (URL rules, secret), list, remove; admins only.

Secrets follow Standard Webhooks: ``whsec_`` + base64 of at least 24 random bytes. They are sealed at rest
(``sealing.py``). Adding and removing an endpoint are ledger entries (``webhook.added``, ``webhook.removed``),
which are not themselves delivered.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from vault.clock import Clock, system_clock
from vault.config import Settings
from vault.errors import InvalidInput, NotFound, UnacceptableWebhookUrl
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.models import WebhookEndpoint, new_id
from vault.orgs.organizations import Principal, Role
from vault.webhooks.events import EVENTS
from vault.webhooks.secret_box import seal, unseal

SECRET_PREFIX = "whsec_"  # noqa: S105 (the Standard Webhooks prefix, not a secret)
SECRET_BYTES = 24
MAX_URL_LENGTH = 2048


@dataclass(frozen=True, slots=True)
class NewEndpoint:
    """An endpoint just added, with its secret: shown once to whoever added it."""

    endpoint: WebhookEndpoint
    secret: str


def check_url(url: str, *, allow_loopback_http: bool) -> str:
    """The URL if Offboard may call it: https with a host, or http to a loopback address when allowed."""
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise UnacceptableWebhookUrl(f"a webhook URL has 1 to {MAX_URL_LENGTH} characters; got {len(url)}")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (a malformed port raises here)
    except ValueError as exc:
        raise UnacceptableWebhookUrl(f"not a URL: {url!r} ({exc})") from None
    if not host or parts.username or parts.password:
        raise UnacceptableWebhookUrl(f"a webhook URL needs a host and no user name or password; got {url!r}")
    if parts.scheme == "https":
        return url
    if parts.scheme != "http":
        raise UnacceptableWebhookUrl(f"a webhook URL must start with https://; got {url!r}")
    if not _is_loopback(host):
        raise UnacceptableWebhookUrl(
            f"a webhook URL must use https; plain http is allowed only to a loopback address, got {url!r}"
        )
    if not allow_loopback_http:
        raise UnacceptableWebhookUrl(
            f"{url!r} is plain http: allowed on loopback only when added with allow_loopback_http "
            "(--allow-loopback-http), for local testing"
        )
    return url


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_events(events: list[str] | tuple[str, ...]) -> list[str]:
    """The distinct event names in order; every one must be a known event."""
    chosen = [e.strip() for e in events if e.strip()]
    unknown = sorted({e for e in chosen if e not in EVENTS})
    if not chosen or unknown:
        raise InvalidInput(
            f"events must be one or more of {', '.join(EVENTS)}; got {', '.join(unknown) or 'none'}",
            details={"unknown": unknown},
        )
    return list(dict.fromkeys(chosen))


def check_secret(secret: str) -> str:
    """A given secret in Standard Webhooks form (``whsec_`` + base64 of at least 24 bytes)."""
    body = secret.strip().removeprefix(SECRET_PREFIX)
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if not secret.strip().startswith(SECRET_PREFIX) or len(raw) < SECRET_BYTES:
        raise InvalidInput(f"a webhook secret is {SECRET_PREFIX} + base64 of at least {SECRET_BYTES} bytes")
    return secret.strip()


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def add_endpoint(
    session: Session,
    settings: Settings,
    principal: Principal,
    *,
    url: str,
    events: list[str] | tuple[str, ...],
    secret: str | None = None,
    allow_loopback_http: bool = False,
    clock: Clock = system_clock,
) -> NewEndpoint:
    """Add an endpoint (admins only) and record ``webhook.added``; the secret is returned once."""
    principal.require(Role.ADMIN)
    url = check_url(url, allow_loopback_http=allow_loopback_http)
    chosen = check_events(events)
    secret = check_secret(secret) if secret is not None else new_secret()
    endpoint_id = new_id()
    row = WebhookEndpoint(
        id=endpoint_id,
        organization_id=principal.organization_id,
        url=url,
        secret_sealed=seal(settings, secret, bound_to=endpoint_id),
        events=json.dumps(chosen),
        allow_loopback_http=allow_loopback_http,
        created_by=principal.actor,
        created_at=clock(),
    )
    session.add(row)
    session.flush()
    data = {"endpoint": row.id, "url": url, "events": chosen}
    draft = EntryDraft("webhook.added", principal.organization_id, None, principal.actor, data)
    log.append(session, draft, clock=lambda: row.created_at)
    return NewEndpoint(row, secret)


def get_endpoint(session: Session, organization_id: str, endpoint_id: str) -> WebhookEndpoint:
    row = session.get(WebhookEndpoint, endpoint_id)
    if row is None or row.organization_id != organization_id:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    return row


def list_endpoints(session: Session, principal: Principal) -> list[WebhookEndpoint]:
    """The organization's active endpoints, oldest first (admins only: URLs name internal systems)."""
    principal.require(Role.ADMIN)
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.organization_id == principal.organization_id, col(WebhookEndpoint.active).is_(True)
    )
    return list(session.exec(query.order_by(col(WebhookEndpoint.created_at), col(WebhookEndpoint.id))))


def remove_endpoint(session: Session, principal: Principal, endpoint_id: str, *, clock: Clock = system_clock) -> None:
    """Deactivate an endpoint (admins only) and record ``webhook.removed``; its history stays readable."""
    principal.require(Role.ADMIN)
    row = get_endpoint(session, principal.organization_id, endpoint_id)
    if not row.active:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    now = clock()
    row.active = False
    row.removed_at = now
    session.add(row)
    draft = EntryDraft("webhook.removed", principal.organization_id, None, principal.actor, {"endpoint": row.id})
    log.append(session, draft, clock=lambda: now)


def endpoint_events(row: WebhookEndpoint) -> list[str]:
    value = json.loads(row.events)
    return [str(e) for e in value]


def endpoint_secret(settings: Settings, row: WebhookEndpoint) -> str:
    return unseal(settings, row.secret_sealed, bound_to=row.id)
