"""Webhooks end to end on both backends (issue 15, requirement 4): endpoints, the sweep, signed deliveries to a
receiver on loopback that verifies every signature with standardwebhooks, retries, redirects, body limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select
from standardwebhooks.webhooks import Webhook

from tests.integration.webhook_receiver import Answer, receiver
from vault.cases.lifecycle import open_case
from vault.errors import InvalidInput, NotFound, UnacceptableWebhookUrl
from vault.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from vault.orgs.organizations import Principal, Role
from vault.states import DeliveryStatus
from vault.webhooks import delivery, endpoints
from vault.webhooks.transport import MAX_BODY_BYTES

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _admin(initialized: Any) -> Principal:
    return Principal(initialized.organization_id, Role.ADMIN, "test:admin")


def _add(services: Any, principal: Principal, url: str, events: tuple[str, ...] = ("case.opened",)) -> Any:
    return services.transact(
        lambda unit: endpoints.add_endpoint(
            unit, services.settings, principal, url=url, events=events, allow_loopback_http=True
        )
    )


def _open(services: Any, principal: Principal, owner: str, name: str = "Acme") -> str:
    return services.transact(lambda unit: open_case(unit, principal, client_name=name, owner_email=owner).id)


def _verified(secret: str, headers: dict[str, str], body: bytes) -> Any:
    return Webhook(secret).verify(body, headers)


def test_an_opened_case_is_delivered_signed_and_checkable(services: Any, initialized: Any, owner: str) -> None:
    admin = _admin(initialized)
    with receiver() as rx:
        added = _add(services, admin, rx.url + "/hook", ("case.opened", "evidence.stored"))
        assert added.secret.startswith("whsec_")
        case_id = _open(services, admin, owner)
        results = delivery.run_due(services, now=T0)
        assert [r.status for r in results] == [DeliveryStatus.DELIVERED]
        [(headers, body)] = rx.hits("/hook")
    payload = _verified(added.secret, headers, body)
    assert payload["event"] == "case.opened" and payload["case"] == case_id
    assert isinstance(payload["ledger_index"], int) and len(payload["leaf_hash"]) == 44
    size = int(payload["checkpoint"].splitlines()[1])
    assert size > payload["ledger_index"], "the checkpoint covers the entry"
    # Nothing new: a second run sends nothing (the cursor moved with the enqueue).
    assert delivery.run_due(services, now=T0 + timedelta(minutes=1)) == []


def test_500_twice_then_200_is_three_attempts_then_delivered(services: Any, initialized: Any, owner: str) -> None:
    admin = _admin(initialized)
    with receiver(Answer(500, b"boom"), Answer(500, b"boom"), Answer(200, b"thanks")) as rx:
        added = _add(services, admin, rx.url + "/h")
        _open(services, admin, owner)
        first = delivery.run_due(services, now=T0)
        assert [r.attempt.status_code for r in first] == [500]
        assert delivery.run_due(services, now=T0 + timedelta(seconds=1)) == [], "not yet due (backoff)"
        second = delivery.run_due(services, now=T0 + timedelta(seconds=6))
        assert [r.attempt.status_code for r in second] == [500]
        third = delivery.run_due(services, now=T0 + timedelta(minutes=6))
        assert [(r.attempt.status_code, r.status) for r in third] == [(200, DeliveryStatus.DELIVERED)]
        hits = rx.hits("/h")
    assert len(hits) == 3
    ids = {h["webhook-id"] for h, _ in hits}
    assert len(ids) == 1, "the webhook-id is stable across retries"
    for headers, body in hits:
        _verified(added.secret, headers, body)
    rows = services.read(lambda s: list(s.exec(select(WebhookAttempt).order_by(WebhookAttempt.number))))
    assert [(a.number, a.status_code, a.response_excerpt) for a in rows] == [
        (1, 500, "boom"),
        (2, 500, "boom"),
        (3, 200, "thanks"),
    ]
    assert all(a.latency_ms >= 0 for a in rows) and rows[0].error == "answered 500"


def test_retries_span_a_day_then_the_delivery_fails_and_a_replay_delivers(
    services: Any, initialized: Any, owner: str
) -> None:
    admin = _admin(initialized)
    with receiver(Answer(503)) as rx:
        _add(services, admin, rx.url + "/down")
        _open(services, admin, owner)
        now = T0
        while True:
            results = delivery.run_due(services, now=now)
            if results and results[-1].status != DeliveryStatus.PENDING:
                break
            now += timedelta(minutes=30)
        assert now - T0 >= timedelta(hours=24)
        assert len(rx.hits("/down")) == len(delivery.RETRY_DELAYS) + 1
        rx.script[:] = [Answer(204, b"")]
        [row] = services.read(lambda s: list(s.exec(select(WebhookDelivery))))
        replayed = delivery.replay(services, admin, row.id, now=now)
        assert replayed.status == DeliveryStatus.DELIVERED and replayed.attempt.trigger == delivery.REPLAY
        assert rx.hits("/down")[-1][0]["webhook-id"] == row.id


def test_a_redirect_is_not_followed(services: Any, initialized: Any, owner: str) -> None:
    admin = _admin(initialized)
    with receiver(Answer(302, b"", (("location", "/elsewhere"),))) as rx:
        _add(services, admin, rx.url + "/moved")
        _open(services, admin, owner)
        [result] = delivery.run_due(services, now=T0)
        assert result.attempt.status_code == 302 and "redirect" in result.attempt.error
        assert result.status == DeliveryStatus.PENDING
        assert rx.hits("/elsewhere") == []


def test_a_long_response_body_is_cut_at_64_kib(services: Any, initialized: Any) -> None:
    admin = _admin(initialized)
    with receiver(Answer(200, b"x" * (MAX_BODY_BYTES * 3))) as rx:
        added = _add(services, admin, rx.url + "/big")
        result = delivery.send_test(services, admin, added.endpoint.id, now=T0)
        [(headers, body)] = rx.hits("/big")
    assert result.attempt.response_bytes == MAX_BODY_BYTES and result.attempt.response_truncated
    assert len(result.attempt.response_excerpt) == 2000
    assert _verified(added.secret, headers, body)["event"] == "webhook.test"


@pytest.mark.parametrize(
    ("url", "loopback", "needle"),
    [
        ("http://example.com/hook", True, "must use https"),
        ("http://127.0.0.1:9/hook", False, "--allow-loopback-http"),
        ("ftp://example.com/", True, "https://"),
        ("https://user:pw@example.com/", False, "no user name"),
    ],
)
def test_urls_offboard_will_not_call_are_refused(
    services: Any, initialized: Any, url: str, loopback: bool, needle: str
) -> None:
    with pytest.raises(UnacceptableWebhookUrl, match=needle):
        services.transact(
            lambda unit: endpoints.add_endpoint(
                unit,
                services.settings,
                _admin(initialized),
                url=url,
                events=["case.opened"],
                allow_loopback_http=loopback,
            )
        )


def test_secrets_are_sealed_and_endpoints_belong_to_their_organization(services: Any, initialized: Any) -> None:
    admin = _admin(initialized)
    added = _add(services, admin, "https://hooks.example/x")
    row = services.read(lambda s: s.get(WebhookEndpoint, added.endpoint.id))
    assert added.secret not in row.secret_sealed and row.secret_sealed.startswith("v1.")
    assert endpoints.endpoint_secret(services.settings, row) == added.secret
    stranger = Principal("another-org", Role.ADMIN, "test:other")
    with pytest.raises(NotFound):
        services.transact(lambda unit: endpoints.remove_endpoint(unit, stranger, added.endpoint.id))
    with pytest.raises(InvalidInput, match="events must be"):
        _add(services, admin, "https://hooks.example/y", ("case.nonsense",))
    services.transact(lambda unit: endpoints.remove_endpoint(unit, admin, added.endpoint.id))
    assert services.read(lambda s: endpoints.list_endpoints(s, admin)) == []
    assert json.loads(row.events) == ["case.opened"]
