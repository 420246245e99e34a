"""Every retrieval of a stored file is a ledger entry of its case (issue 17, requirement 6): the API
download, the client's download through a live acknowledgment link and ``offboard evidence get``, each
recorded before the first byte with who, what and how; another organization's item is 404 and records
nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from tests.helpers import cli_json, run_cli
from tests.integration.receipts_support import CONTACT, create_receipt, handover, path_of, send_manual
from vault.db import read_session, session_scope
from vault.models import LedgerEntry
from vault.orgs.organizations import Role, create_organization, create_token


def retrievals(services: Any) -> list[dict[str, Any]]:
    with read_session(services.engine) as session:
        query = select(LedgerEntry).where(LedgerEntry.entry_type == "evidence.retrieved")
        rows = session.exec(query.order_by(col(LedgerEntry.idx))).all()
    documents = [json.loads(row.body) for row in rows]
    return [d for d in documents if d["type"] == "evidence.retrieved"]


def test_api_and_client_downloads_are_recorded(client: TestClient, services: Any) -> None:
    h = handover(client)
    name, evidence_id = next(iter(h.evidence.items()))
    assert retrievals(services) == []
    content = client.get(f"/api/v1/evidence/{evidence_id}/content")
    assert content.status_code == 200
    (entry,) = retrievals(services)
    assert entry["case"] == h.case_id and entry["actor"].startswith("token:")
    assert entry["data"] == {
        "evidence": evidence_id,
        "sha256": content.headers["x-offboard-sha256"],
        "filename": name,
        "channel": "api",
    }
    # The client's copy, through the link mailed (here: shown) to them.
    receipt = create_receipt(client, h)
    link = send_manual(client, receipt["id"])["links"][0]
    page = client.get(f"{path_of(link['url'])}/files/{evidence_id}", headers={"Authorization": ""})
    assert page.status_code == 200, page.text
    client_entry = retrievals(services)[-1]
    assert client_entry["actor"] == f"client:{CONTACT}" and client_entry["data"]["channel"] == "client_link"
    # The case's timeline shows both.
    types = [e["type"] for e in client.get(f"/api/v1/cases/{h.case_id}/timeline").json()]
    assert types.count("evidence.retrieved") == 2


def test_another_organizations_item_is_not_found_and_records_nothing(
    client: TestClient, services: Any, initialized: Any
) -> None:
    h = handover(client)
    evidence_id = next(iter(h.evidence.values()))
    with session_scope(services.engine) as session:
        other = create_organization(session, name="Other agency", slug="other-agency")
        token = create_token(session, organization_id=other.id, name="other", role=Role.VIEWER)
    bearer = {"Authorization": f"Bearer {token.secret}"}
    response = client.get(f"/api/v1/evidence/{evidence_id}/content", headers=bearer)
    assert response.status_code == 404 and response.headers["content-type"].startswith("application/problem+json")
    assert retrievals(services) == []


def test_cli_get_is_recorded(cli_env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli_json(capsys, "init")
    cli_json(capsys, "staff", "add", "pm@agency.example")
    case_id = cli_json(capsys, "case", "open", "--client", "Globex", "--owner", "pm@agency.example")["id"]
    source = tmp_path / "report.txt"
    source.write_bytes(b"deliverable\n")
    evidence_id = cli_json(capsys, "evidence", "add", "--case", case_id, str(source))[0]["id"]
    cli_json(capsys, "evidence", "get", evidence_id, "-o", str(tmp_path / "copy.txt"))
    assert (tmp_path / "copy.txt").read_bytes() == b"deliverable\n"
    code, out, _ = run_cli(capsys, "case", "timeline", case_id, "--json")
    assert code == 0
    (entry,) = [e for e in json.loads(out) if e["type"] == "evidence.retrieved"]
    assert entry["actor"].startswith("cli:") and entry["data"]["channel"] == "cli"
