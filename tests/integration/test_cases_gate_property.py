"""Property: no sequence of API calls reaches ``fully_offboarded`` without meeting the gate.

Hypothesis drives random sequences of every case operation against the real API (SQLite backend only,
to keep CI fast). After every call the invariant is checked from the API's own answers: a fully
offboarded case has every required step done, every access item revoked with evidence and every deliverable
waived (no receipt exists here to be acknowledged), and ``close`` succeeds exactly when the gate said the
case was ready.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.integration.cases_helpers import OWNER, add_staff, upload

MINI = """key: mini
version: 1
title: Mini
steps:
  - {key: a, title: Write it down, criteria: [note], due_days: 1}
  - {key: b, title: Hand it over, depends_on: [a], criteria: [evidence:deliverable], due_days: 2}
  - {key: c, title: Optional extra, required: false, criteria: [evidence:confirmation], due_days: 3}
"""

OPS = [
    "complete",
    "add_access",
    "revoke",
    "close",
    "await",
    "dispute",
    "resolve",
    "waive",
    "waive_deliverable",
    "note",
    "start",
]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from api.app import create_app
    from vault.config import Settings
    from vault.services import build_services
    from vault.setup import initialize

    home: Path = tmp_path_factory.mktemp("prop") / "home"
    config = Settings(home=home, base_url="http://testserver")
    services = build_services(config)
    token = initialize(services).admin_token
    assert token is not None
    with TestClient(create_app(config, services=services)) as client:
        client.headers["Authorization"] = f"Bearer {token.secret}"
        add_staff(client, OWNER)
        published = client.put("/api/v1/playbooks/mini", json={"yaml": MINI})
        assert published.status_code == 201, published.text
        yield client
    services.close()


def check_invariant(client: TestClient, case_id: str) -> str:
    case = client.get(f"/api/v1/cases/{case_id}").json()
    if case["status"] == "fully_offboarded":
        steps = client.get(f"/api/v1/cases/{case_id}/steps").json()
        assert all(s["status"] == "done" for s in steps if s["required"]), steps
        items = client.get(f"/api/v1/cases/{case_id}/access").json()
        assert all(i["status"] == "revoked" and i["evidence_ids"] for i in items), items
        assert case["progress"]["steps_done"] == case["progress"]["steps_required"]
        # No receipt exists here, so every deliverable needs its own waiver.
        waived = {w["evidence_id"] for w in client.get(f"/api/v1/cases/{case_id}/waivers").json()}
        evidence = client.get(f"/api/v1/cases/{case_id}/evidence").json()
        assert {e["id"] for e in evidence if e["kind"] == "deliverable"} <= waived, (evidence, waived)
    return str(case["status"])


def run(client: TestClient, case_id: str, op: str, pick: int, good: bool) -> Any:
    base = f"/api/v1/cases/{case_id}"
    if op == "complete":
        key = "abc"[pick % 3]
        kind = {"a": "other", "b": "deliverable", "c": "confirmation"}[key] if good else "other"
        evidence = [upload(client, case_id, f"{key}{pick}{good}".encode(), kind)] if key != "a" or not good else []
        return client.post(
            f"{base}/steps/{key}/complete", json={"evidence_ids": evidence, "note": "x" if good else None}
        )
    if op == "add_access":
        return client.post(f"{base}/access", json={"name": f"system {pick}", "kind": "app"})
    if op == "revoke":
        items = [i for i in client.get(f"{base}/access").json() if i["status"] == "active"]
        if not items:
            return None
        proof = [upload(client, case_id, f"proof {pick}".encode(), "other")] if good else []
        return client.post(
            f"{base}/access/{items[pick % len(items)]['id']}/revoke",
            json={"method": "removed", "evidence_ids": proof},
        )
    if op == "close":
        ready = client.get(f"{base}/gate").json()["ready"]
        response = client.post(f"{base}/close")
        assert (response.status_code == 200) == ready, (ready, response.text)
        if response.status_code == 409:
            assert "missing" in response.json()
        return response
    if op in ("dispute", "resolve"):
        return client.post(f"{base}/{op}", json={"reason": f"{op} reason"})
    if op == "waive":
        return client.post(f"{base}/waivers", json={"reason": "the client refused to respond" if good else "no"})
    if op == "waive_deliverable":
        evidence = client.get(f"{base}/evidence").json()
        deliverables = [e["id"] for e in evidence if e["kind"] == "deliverable"]
        target = deliverables[pick % len(deliverables)] if deliverables else "none"
        reason = "handed over in person" if good else "no"
        return client.post(f"{base}/waivers", json={"reason": reason, "evidence_id": target})
    if op == "note":
        return client.post(f"{base}/notes", json={"text": "a later fact"})
    return client.post(f"{base}/{'await-acknowledgment' if op == 'await' else 'start'}")


# Closing is refused until the deliverable step b attached is waived, then succeeds.
SUCCESS = [
    ("complete", 0, True),
    ("complete", 1, True),
    ("close", 0, True),
    ("waive_deliverable", 0, True),
    ("close", 0, True),
    ("note", 0, True),
]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Guaranteed coverage of the success path, and of every way to try closing early.
@example(SUCCESS)
@example(
    [
        ("add_access", 0, True),
        ("revoke", 0, False),
        ("complete", 0, True),
        ("complete", 1, True),
        ("close", 0, True),
    ]
)
@example(
    [
        ("complete", 0, True),
        ("complete", 1, True),
        ("dispute", 0, True),
        ("close", 0, True),
        ("await", 0, True),
    ]
)
@given(st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 5), st.booleans()), min_size=1, max_size=14))
def test_no_sequence_reaches_final_state_without_the_gate(api: TestClient, ops: list[tuple[str, int, bool]]) -> None:
    opened = api.post("/api/v1/cases", json={"client_name": "Prop", "owner_email": OWNER, "service_type": "mini"})
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]
    previous = "open"
    for op, pick, good in ops:
        response = run(api, case_id, op, pick, good)
        if response is not None:
            assert response.status_code < 500, response.text
        current = check_invariant(api, case_id)
        if current == "fully_offboarded" and previous != "fully_offboarded":
            assert op == "close", f"{op} moved the case into fully_offboarded"
        previous = current
    if ops == SUCCESS:
        assert previous == "fully_offboarded", "the explicit success example must close the case"
