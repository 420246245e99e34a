"""Two organizations with something of everything, for the console's page and security tests.

Organization A (the default one) and B each get staff who can sign in (an admin, a member and a viewer,
the same emails in both so an owner check is never what answers), a case with a piece of evidence, an
access item and a receipt, and a webhook endpoint with one delivery (a ``webhook.test`` to a closed
loopback port, so nothing answers and nothing waits). Seeded through the API with each organization's own
admin token, as a person scripting Offboard would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from tests.integration.cases_helpers import OWNER, add_staff, open_case, upload
from tests.integration.console_support import add_signin_staff
from tests.services import free_port
from vault.db import session_scope
from vault.orgs.organizations import Principal, Role, create_token

ADMIN = "admin@agency.example"
MEMBER = "member@agency.example"
VIEWER = "viewer@agency.example"
CONTACT = "client@acme.example"


@pytest.fixture
def cheap_passwords(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Argon2id at its smallest cost: these tests sign in a dozen times and test pages, not hashing (the
    real parameters are tested in tests/unit and test_console_signin.py)."""
    from vault.orgs import passwords

    monkeypatch.setattr(passwords, "_hasher", lambda: PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    yield


@dataclass
class Org:
    organization_id: str
    #: A real value for every path parameter a console route may take, in this organization.
    ids: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    a: Org
    b: Org


def _seed(client: TestClient, services: Any, organization_id: str, client_name: str) -> Org:
    for email, role in ((ADMIN, "admin"), (MEMBER, "member"), (VIEWER, "viewer")):
        add_signin_staff(services, organization_id, email, role=role)
    add_staff(client, OWNER)
    case = open_case(client, client_name=client_name, contacts=[CONTACT])
    evidence = upload(client, case["id"], f"deliverable of {client_name}".encode(), "deliverable", "final.pdf")
    access = client.post(f"/api/v1/cases/{case['id']}/access", json={"name": "GitHub", "kind": "code_repository"})
    assert access.status_code == 201, access.text
    receipt = client.post(f"/api/v1/cases/{case['id']}/receipts", json={})
    assert receipt.status_code == 201, receipt.text
    steps = client.get(f"/api/v1/cases/{case['id']}/steps").json()
    playbooks = client.get("/api/v1/playbooks").json()
    index = client.get(f"/api/v1/cases/{case['id']}/timeline").json()[-1]["index"]
    endpoint_id, delivery_id = _webhook(client, services, organization_id)
    ids = {
        "case_id": case["id"],
        "evidence_id": evidence,
        "receipt_id": receipt.json()["id"],
        "item_id": access.json()["id"],
        "access_id": access.json()["id"],
        "step_key": steps[0]["key"],
        "key": playbooks[0]["key"],
        "index": str(index),
        "version": "1",
        "staff_id": next(m["id"] for m in client.get("/api/v1/staff").json() if m["email"] == MEMBER),
        "token_id": client.get("/api/v1/tokens").json()[0]["id"],
        "endpoint_id": endpoint_id,
        "delivery_id": delivery_id,
    }
    return Org(organization_id, ids)


def _webhook(client: TestClient, services: Any, organization_id: str) -> tuple[str, str]:
    from vault.webhooks.delivery import send_test

    url = f"http://127.0.0.1:{free_port()}/hook"
    made = client.post("/api/v1/webhooks", json={"url": url, "events": ["case.opened"], "allow_loopback_http": True})
    assert made.status_code == 201, made.text
    admin = Principal(organization_id, Role.ADMIN, "test:setup")
    sent = send_test(services, admin, made.json()["id"], now=services.clock())
    return made.json()["id"], sent.attempt.delivery_id


def build_world(app: Any, services: Any, initialized: Any) -> World:
    from vault.setup import new_organization

    rival = new_organization(services, name="Rival Agency")
    with session_scope(services.engine) as session:
        rival_token = create_token(session, organization_id=rival.id, name="admin", role=Role.ADMIN)
    orgs = []
    for org_id, secret, name in (
        (initialized.organization_id, initialized.admin_token.secret, "Acme Ltd"),
        (rival.id, rival_token.secret, "Rival Client GmbH"),
    ):
        with TestClient(app) as api:
            api.headers["Authorization"] = f"Bearer {secret}"
            orgs.append(_seed(api, services, org_id, name))
    return World(orgs[0], orgs[1])
