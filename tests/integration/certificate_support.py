"""Shared steps for the certificate tests: a case closed through the gate (steps, a revoked access item, a
deliverable receipt the client acknowledged) and the worker tick that issues its certificate."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import select

from tests.integration.cases_helpers import complete_all_steps, revoke_all_access
from tests.integration.receipts_support import acknowledge, create_receipt, handover, path_of, send_manual
from vault.db import read_session
from vault.jobs import run_due
from vault.models import Job


def close_acknowledged_case(client: TestClient, contacts: list[str] | None = None) -> str:
    """A case with two deliverables, a revoked access item, its steps done and a receipt acknowledged by the
    (first) client contact, closed; returns its id."""
    h = handover(client, contacts)
    added = client.post(f"/api/v1/cases/{h.case_id}/access", json={"name": "GitHub org", "kind": "code_repository"})
    assert added.status_code == 201, added.text
    revoke_all_access(client, h.case_id)
    complete_all_steps(client, h.case_id, leave=("client-confirmation",))
    receipt = create_receipt(client, h)
    done = acknowledge(client, path_of(send_manual(client, receipt["id"])["links"][0]["url"]), name="Jane Client")
    assert done.status_code == 200, done.text
    closed = client.post(f"/api/v1/cases/{h.case_id}/close")
    assert closed.status_code == 200, closed.text
    return h.case_id


def run_worker(services: Any) -> None:
    """One worker tick: the certificate job runs (and the mail jobs, which retry without SMTP)."""
    report = run_due(services, now=datetime.now(UTC), worker_id="test-worker", limit=50)
    assert report.failed == 0, report
    with read_session(services.engine) as session:
        errors = [j.last_error for j in session.exec(select(Job).where(Job.kind == "certificate.issue"))]
    assert errors and all(e is None for e in errors), errors
