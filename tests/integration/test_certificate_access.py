"""Where the certificate of completion is read (issue 17, requirement 3), on both backends: the API's JSON and
PDF, the CLI's `offboard case certificate`, the console's case page and downloads, and the emails to the
owner and the client contacts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from tests.helpers import run_cli
from tests.integration.cases_helpers import OWNER, open_case, problem
from tests.integration.certificate_support import close_acknowledged_case, run_worker
from tests.integration.console_support import add_signin_staff, console_client, sign_in
from tests.integration.receipts_support import CONTACT
from vault.db import read_session
from vault.models import Job

VIEWER = "viewer@agency.example"


@pytest.fixture
def settings(settings: Any) -> Any:
    """No worker inside the app: the test's own tick runs the certificate job."""
    return settings.model_copy(update={"worker": False})


def test_the_api_serves_the_certificate_once_issued(client: TestClient, services: Any) -> None:
    open_one = open_case(client)
    problem(client.get(f"/api/v1/cases/{open_one['id']}/certificate"), 409, "not fully offboarded")
    problem(client.get("/api/v1/cases/00000000-0000-0000-0000-000000000000/certificate"), 404, "no case")
    case_id = close_acknowledged_case(client)
    for suffix in (".pdf", ".json", ".sig.json"):
        problem(client.get(f"/api/v1/cases/{case_id}/certificate{suffix}"), 409, "not issued yet")
    run_worker(services)
    got = client.get(f"/api/v1/cases/{case_id}/certificate")
    assert got.status_code == 200, got.text
    body = got.json()
    assert json.loads(body["canonical"]) == body["document"] and body["document"]["case"]["id"] == case_id
    assert body["signature"]["sha256"] == body["sha256"] and body["signature"]["alg"] == "Ed25519"
    pdf = client.get(f"/api/v1/cases/{case_id}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and f"certificate-{body['id']}.pdf" in pdf.headers["content-disposition"]
    signed = client.get(f"/api/v1/cases/{case_id}/certificate.json")
    assert signed.content == body["canonical"].encode() and signed.headers["content-type"] == "application/json"
    assert f"certificate-{body['id']}.json" in signed.headers["content-disposition"]
    signature = client.get(f"/api/v1/cases/{case_id}/certificate.sig.json")
    assert json.loads(signature.content) == body["signature"]
    assert f"certificate-{body['id']}.sig.json" in signature.headers["content-disposition"]


def test_the_owner_and_each_client_contact_are_emailed(client: TestClient, services: Any) -> None:
    case_id = close_acknowledged_case(client)
    run_worker(services)
    with read_session(services.engine) as session:
        mails = [
            j for j in session.exec(select(Job).where(Job.kind == "mail.send")) if j.key.startswith("certificate:")
        ]
    assert sorted(j.payload["to"] for j in mails) == sorted([OWNER, CONTACT])
    for job in mails:
        rendered = services.templates.email("certificate", job.payload["context"])
        assert case_id in rendered.text and job.payload["context"]["sha256"] in rendered.text
        assert ("/cases/" in rendered.text) == (job.payload["to"] == OWNER)


def test_the_cli_prints_it_and_writes_the_pdf(
    client: TestClient, services: Any, cli_env: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    case_id = close_acknowledged_case(client)
    code, _, err = run_cli(capsys, "case", "certificate", case_id)
    assert code == 1 and "not issued yet" in err
    run_worker(services)
    out_file = tmp_path / "certificate.pdf"
    code, out, err = run_cli(capsys, "case", "certificate", case_id[:8], "-o", str(out_file), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["case_id"] == case_id and out_file.read_bytes().startswith(b"%PDF")
    code, out, _ = run_cli(capsys, "case", "certificate", case_id)
    assert code == 0 and f"certificate {data['id']}" in out and data["sha256"] in out


def test_the_console_case_page_links_the_certificate(client: TestClient, services: Any, initialized: Any) -> None:
    case_id = close_acknowledged_case(client)
    add_signin_staff(services, initialized.organization_id, VIEWER, role="viewer")
    with console_client(services) as browser:
        assert sign_in(browser, VIEWER).status_code == 303
        assert "being issued" in browser.get(f"/cases/{case_id}").text
        run_worker(services)
        page = browser.get(f"/cases/{case_id}").text
        assert "Certificate of completion" in page and f"/cases/{case_id}/certificate.pdf" in page
        pdf = browser.get(f"/cases/{case_id}/certificate.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        signed = browser.get(f"/cases/{case_id}/certificate.json")
        api = client.get(f"/api/v1/cases/{case_id}/certificate").json()
        assert signed.status_code == 200 and signed.content == api["canonical"].encode()
