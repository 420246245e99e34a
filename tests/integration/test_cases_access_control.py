"""Roles and tenancy on every route this feature adds: viewers change nothing, only admins waive or manage
playbooks, staff and tokens, and another organization's ids answer 404 (never 403) everywhere."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.integration.cases_helpers import OWNER, add_staff, open_case, problem, upload
from vault.orgs.organizations import Role, create_organization, create_token

PLAYBOOK = {
    "key": "private-playbook",
    "version": 1,
    "title": "Private",
    "steps": [{"key": "only", "title": "Only", "criteria": ["note"], "due_days": 1}],
}


def token(services: Any, organization_id: str, role: Role) -> dict[str, str]:
    with Session(services.engine) as session:
        issued = create_token(session, organization_id=organization_id, name=f"t-{role.value}", role=role)
        session.commit()
    return {"Authorization": f"Bearer {issued.secret}"}


def fixture_ids(client: TestClient) -> dict[str, str]:
    """One of everything in the default organization."""
    case_id = open_case(client)["id"]
    item = client.post(f"/api/v1/cases/{case_id}/access", json={"name": "Jira", "kind": "app"}).json()
    staff_id = add_staff(client, "someone@agency.example")["id"]
    created = client.post("/api/v1/tokens", json={"name": "ci", "role": "member"})
    assert created.status_code == 201, created.text
    assert client.put("/api/v1/playbooks/private-playbook", json={"document": PLAYBOOK}).status_code == 201
    return {"case": case_id, "item": item["id"], "staff": staff_id, "token": created.json()["id"]}


def write_routes(ids: dict[str, str], proof: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    case, item = f"/api/v1/cases/{ids['case']}", ids["item"]
    return [
        ("POST", "/api/v1/cases", {"client_name": "X", "owner_email": OWNER}),
        ("POST", f"{case}/steps/confirm-intent/complete", {"evidence_ids": [proof]}),
        ("POST", f"{case}/access", {"name": "Y", "kind": "app"}),
        ("POST", f"{case}/access/{item}/revoke", {"method": "m", "evidence_ids": [proof]}),
        ("POST", f"{case}/access/{item}/verify", {}),
        ("POST", f"{case}/notes", {"text": "n"}),
        ("POST", f"{case}/owner", {"owner_email": OWNER, "reason": "r"}),
        ("POST", f"{case}/start", None),
        ("POST", f"{case}/await-acknowledgment", None),
        ("POST", f"{case}/close", None),
        ("POST", f"{case}/waivers", {"reason": "client refused to respond"}),
        ("POST", f"{case}/dispute", {"reason": "r"}),
        ("POST", f"{case}/resolve", {"reason": "r"}),
        ("POST", f"{case}/communications", {"channel": "email", "text": "t"}),
        ("POST", "/api/v1/staff", {"email": "new@agency.example"}),
        ("PATCH", f"/api/v1/staff/{ids['staff']}", {"active": False}),
        ("PUT", "/api/v1/playbooks/private-playbook", {"document": {**PLAYBOOK, "version": 2}}),
        ("POST", "/api/v1/playbooks/private-playbook/default", None),
        ("POST", "/api/v1/tokens", {"name": "x"}),
        ("DELETE", f"/api/v1/tokens/{ids['token']}", None),
    ]


ADMIN_ONLY = {"/waivers", "/api/v1/staff", "/api/v1/playbooks", "/api/v1/tokens"}


def test_viewer_changes_nothing_and_members_cannot_administer(
    client: TestClient, services: Any, initialized: Any
) -> None:
    ids = fixture_ids(client)
    proof = upload(client, ids["case"], b"proof", "communication")
    before = client.get(f"/api/v1/cases/{ids['case']}/timeline").json()
    viewer = token(services, initialized.organization_id, Role.VIEWER)
    member = token(services, initialized.organization_id, Role.MEMBER)
    for method, url, body in write_routes(ids, proof):
        response = client.request(method, url, json=body, headers=viewer)
        problem(response, 403, "needs the role")
        if any(marker in url for marker in ADMIN_ONLY):
            problem(client.request(method, url, json=body, headers=member), 403, "needs the role admin")
    assert client.get(f"/api/v1/cases/{ids['case']}/timeline").json() == before, "refusals record nothing"
    # Viewers still read.
    for url in (f"/api/v1/cases/{ids['case']}", "/api/v1/playbooks", "/api/v1/staff", "/api/v1/organization"):
        assert client.get(url, headers=viewer).status_code == 200
    problem(client.get("/api/v1/tokens", headers=member), 403, "needs the role admin")


def test_another_organization_gets_404_on_every_route(client: TestClient, services: Any) -> None:
    ids = fixture_ids(client)
    proof = upload(client, ids["case"], b"proof", "communication")
    with Session(services.engine) as session:
        rival = create_organization(session, name="Rival Agency")
        session.commit()
        rival_id = rival.id
    headers = token(services, rival_id, Role.ADMIN)
    before = client.get(f"/api/v1/cases/{ids['case']}/timeline").json()
    # The rival has its own staff member with the same email, so owner checks cannot be what answers.
    assert client.post("/api/v1/staff", json={"email": OWNER}, headers=headers).status_code == 201

    case = f"/api/v1/cases/{ids['case']}"
    reads = [
        case,
        f"{case}/steps",
        f"{case}/access",
        f"{case}/notes",
        f"{case}/gate",
        f"{case}/waivers",
        f"{case}/timeline",
        f"/api/v1/staff/{ids['staff']}",
        "/api/v1/playbooks/private-playbook",
        "/api/v1/playbooks/private-playbook/versions",
    ]
    for url in reads:
        problem(client.get(url, headers=headers), 404, "in this organization")
    for method, url, body in write_routes(ids, proof):
        if url in ("/api/v1/cases", "/api/v1/staff", "/api/v1/tokens") or url.startswith("/api/v1/playbooks/private"):
            continue  # creations in the rival's own organization; playbooks checked below
        problem(client.request(method, url, json=body, headers=headers), 404, "in this organization")
    problem(client.post("/api/v1/playbooks/private-playbook/default", headers=headers), 404, "no playbook")
    assert client.get("/api/v1/cases", headers=headers).json() == []
    assert client.get("/api/v1/cases", params={"overdue": "true"}, headers=headers).json() == []
    assert [s["email"] for s in client.get("/api/v1/staff", headers=headers).json()] == [OWNER]
    assert "private-playbook" not in {p["key"] for p in client.get("/api/v1/playbooks", headers=headers).json()}
    assert client.get("/api/v1/organization", headers=headers).json()["id"] == rival_id
    assert ids["token"] not in {t["id"] for t in client.get("/api/v1/tokens", headers=headers).json()}
    # The rival cannot name another organization's evidence as proof in its own case either.
    own_case = client.post(
        "/api/v1/cases", json={"client_name": "Theirs", "owner_email": OWNER}, headers=headers
    ).json()["id"]
    response = client.post(
        f"/api/v1/cases/{own_case}/steps/confirm-intent/complete",
        json={"evidence_ids": [proof]},
        headers=headers,
    )
    problem(response, 404, "no evidence")
    assert client.get(f"{case}/timeline").json() == before, "the rival's attempts recorded nothing"


def test_tokens_are_managed_by_admins(client: TestClient) -> None:
    created = client.post("/api/v1/tokens", json={"name": "auditor", "role": "viewer"})
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("obt_")
    listed = client.get("/api/v1/tokens").json()
    assert {t["name"] for t in listed} >= {"admin", "auditor"}
    assert all(t["secret"] is None for t in listed), "secrets are shown once, at creation"
    auditor = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/cases", headers=auditor).status_code == 200
    revoked = client.delete(f"/api/v1/tokens/{created.json()['id']}")
    assert revoked.json()["revoked_at"] is not None
    problem(client.get("/api/v1/cases", headers=auditor), 401, "not valid")
    problem(client.post("/api/v1/tokens", json={"name": "x", "role": "root"}), 400, "role must be one of")
    problem(client.delete("/api/v1/tokens/nope"), 404, "no token")


def test_staff_rules(client: TestClient) -> None:
    problem(client.post("/api/v1/staff", json={"email": "not an email"}), 400, "not a valid email")
    problem(client.post("/api/v1/staff", json={"email": "a@agency.example", "role": "boss"}), 400, "role must be")
    first = client.post("/api/v1/staff", json={"email": "A@Agency.example", "name": "A"})
    assert first.status_code == 201 and first.json()["email"] == "A@agency.example"
    problem(client.post("/api/v1/staff", json={"email": "A@agency.example"}), 409, "already a staff member")
    problem(client.get("/api/v1/staff/nope"), 404, "no staff member")
