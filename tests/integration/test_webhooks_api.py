"""``/api/v1/webhooks`` on both backends (issue 15, requirement 4): add, list, remove, deliveries with their
attempts, replay; a non-https URL is a 422 problem; member tokens are refused; another organization's ids are 404."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook

from tests.integration.cases_helpers import open_case
from tests.integration.webhook_receiver import Answer, receiver
from vault.db import session_scope
from vault.orgs.organizations import Principal, Role, create_organization, create_token
from vault.webhooks import delivery, endpoints

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_add_list_deliver_replay_remove(client: TestClient, services: Any, owner: str) -> None:
    with receiver(Answer(500, b"no"), Answer(200, b"yes")) as rx:
        made = client.post(
            "/api/v1/webhooks", json={"url": rx.url + "/a", "events": ["case.opened"], "allow_loopback_http": True}
        )
        assert made.status_code == 201, made.text
        hook = made.json()
        assert hook["secret"].startswith("whsec_") and hook["events"] == ["case.opened"]
        listed = client.get("/api/v1/webhooks").json()
        assert [h["id"] for h in listed] == [hook["id"]] and listed[0]["secret"] is None
        case = open_case(client)
        delivery.run_due(services, now=T0)
        [sent] = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()
        assert sent["status"] == "pending" and [a["status_code"] for a in sent["attempts"]] == [500]
        replayed = client.post(f"/api/v1/webhooks/deliveries/{sent['id']}/replay")
        assert replayed.status_code == 200 and replayed.json()["status_code"] == 200
        assert replayed.json()["trigger"] == "replay"
        [after] = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()
        assert after["status"] == "delivered" and len(after["attempts"]) == 2
        bodies = rx.hits("/a")
    assert {h["webhook-id"] for h, _ in bodies} == {sent["id"]}
    for headers, body in bodies:
        assert Webhook(hook["secret"]).verify(body, headers)["case"] == case["id"]
    assert client.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
    assert client.get("/api/v1/webhooks").json() == []
    assert client.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 404


def test_a_plain_http_url_is_a_clear_422(client: TestClient) -> None:
    answer = client.post("/api/v1/webhooks", json={"url": "http://hooks.example/x", "events": ["case.opened"]})
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "must use https" in answer.json()["detail"]
    unknown = client.post("/api/v1/webhooks", json={"url": "https://hooks.example/x", "events": ["nope"]})
    assert unknown.status_code == 400 and "events must be" in unknown.json()["detail"]


def test_members_are_refused_and_other_organizations_are_not_found(
    client: TestClient, services: Any, initialized: Any
) -> None:
    with session_scope(services.engine) as session:
        member = create_token(session, organization_id=initialized.organization_id, name="m", role="member")
        other = create_organization(session, name="Other Agency")
        theirs = endpoints.add_endpoint(
            session,
            services.settings,
            Principal(other.id, Role.ADMIN, "test:other"),
            url="https://o.example/h",
            events=["case.opened"],
        )
    headers = {"Authorization": f"Bearer {member.secret}"}
    assert client.get("/api/v1/webhooks", headers=headers).status_code == 403
    body = {"url": "https://hooks.example/x", "events": ["case.opened"]}
    assert client.post("/api/v1/webhooks", json=body, headers=headers).status_code == 403
    endpoint_id = theirs.endpoint.id
    assert client.get(f"/api/v1/webhooks/{endpoint_id}/deliveries").status_code == 404
    assert client.delete(f"/api/v1/webhooks/{endpoint_id}").status_code == 404
    assert client.post("/api/v1/webhooks/deliveries/msg_nope/replay").status_code == 404
