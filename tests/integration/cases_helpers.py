"""Shared steps for the case tests: staff, cases, evidence and walking a playbook to completion."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

OWNER = "owner@agency.example"


def add_staff(client: TestClient, email: str = OWNER, role: str = "member") -> Any:
    response = client.post("/api/v1/staff", json={"email": email, "name": email.split("@")[0], "role": role})
    assert response.status_code in (201, 409), response.text
    return response.json()


def open_case(client: TestClient, **fields: Any) -> dict[str, Any]:
    add_staff(client, fields.get("owner_email", OWNER))
    body = {"client_name": "Acme Ltd", "owner_email": OWNER, **fields}
    response = client.post("/api/v1/cases", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def upload(client: TestClient, case_id: str, data: bytes, kind: str = "deliverable", name: str = "f") -> str:
    response = client.post(f"/api/v1/cases/{case_id}/evidence", params={"filename": name, "kind": kind}, content=data)
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])


def problem(response: Any, status: int, needle: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = dict(response.json())
    assert needle in body["detail"], body
    return body


def complete_all_steps(
    client: TestClient, case_id: str, *, required_only: bool = True, leave: tuple[str, ...] = ()
) -> None:
    """Complete every step in dependency order (but those in ``leave``), attaching exactly what each step's
    criteria ask for; the client's confirmation (``receipt:acknowledged``) by a written confirmation."""
    steps = client.get(f"/api/v1/cases/{case_id}/steps").json()
    done: set[str] = {s["key"] for s in steps if s["status"] == "done"}
    todo = [
        s for s in steps if s["status"] != "done" and (s["required"] or not required_only) and s["key"] not in leave
    ]
    while todo:
        ready = [s for s in todo if set(s["depends_on"]) <= done]
        assert ready, f"no step is ready among {[s['key'] for s in todo]}"
        for step in ready:
            evidence: list[str] = []
            note = None
            for criterion in step["criteria"]:
                if criterion.startswith("evidence:") or criterion == "receipt:acknowledged":
                    kind = "confirmation" if criterion == "receipt:acknowledged" else criterion.split(":")[1]
                    kind = "other" if kind == "any" else kind
                    data = f"{step['key']} {kind}".encode()
                    evidence.append(upload(client, case_id, data, kind, f"{kind}.txt"))
                elif criterion == "note":
                    note = f"done: {step['title']}"
            url = f"/api/v1/cases/{case_id}/steps/{step['key']}/complete"
            response = client.post(url, json={"evidence_ids": evidence, "note": note})
            assert response.status_code == 200, response.text
            done.add(step["key"])
        todo = [s for s in todo if s["key"] not in done]


def revoke_all_access(client: TestClient, case_id: str) -> None:
    for item in client.get(f"/api/v1/cases/{case_id}/access").json():
        if item["status"] == "active":
            proof = upload(client, case_id, f"audit log {item['id']}".encode(), "other", "audit.json")
            response = client.post(
                f"/api/v1/cases/{case_id}/access/{item['id']}/revoke",
                json={"method": "removed the user in the admin console", "evidence_ids": [proof]},
            )
            assert response.status_code == 200, response.text


def waive_uncovered_deliverables(client: TestClient, case_id: str) -> None:
    """Waive (as an admin) every deliverable no acknowledged receipt covers, so the gate can close."""
    for item in client.get(f"/api/v1/cases/{case_id}/gate").json()["missing"]:
        if item["kind"] == "deliverable":
            body = {"reason": "handed over in person, signed for", "evidence_id": item["evidence"]}
            response = client.post(f"/api/v1/cases/{case_id}/waivers", json=body)
            assert response.status_code == 201, response.text
