"""A case's client contacts added and removed after opening (issue 14, item 4), over HTTP and the CLI on
both backend pairs: each change a ledger entry, emails validated, duplicates refused, a removed contact's
links voided, viewers and other organizations refused."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.helpers import cli_json, run_cli
from tests.integration.cases_helpers import OWNER, complete_all_steps, open_case, problem, waive_uncovered_deliverables
from tests.integration.receipts_support import create_receipt, handover, path_of, send_manual
from vault.orgs.organizations import Role, create_organization, create_token


def _headers(services: Any, organization_id: str, role: Role) -> dict[str, str]:
    with Session(services.engine) as session:
        issued = create_token(session, organization_id=organization_id, name=f"c-{role.value}", role=role)
        session.commit()
    return {"Authorization": f"Bearer {issued.secret}"}


def _entries(client: TestClient, case_id: str, kind: str) -> list[dict[str, Any]]:
    return [e["data"] for e in client.get(f"/api/v1/cases/{case_id}/timeline").json() if e["type"] == kind]


def test_contacts_are_added_and_removed_each_with_its_entry(client: TestClient) -> None:
    case_id = open_case(client)["id"]
    assert open_case(client)["contacts"] == []
    added = client.post(f"/api/v1/cases/{case_id}/contacts", json={"email": "CFO@Client.example"})
    assert added.status_code == 201, added.text
    assert added.json()["contacts"] == ["CFO@client.example"]
    second = client.post(f"/api/v1/cases/{case_id}/contacts", json={"email": "it@client.example"})
    assert second.json()["contacts"] == ["CFO@client.example", "it@client.example"]
    assert _entries(client, case_id, "case.contact_added") == [
        {"contact": "CFO@client.example", "contacts": ["CFO@client.example"]},
        {"contact": "it@client.example", "contacts": ["CFO@client.example", "it@client.example"]},
    ]
    url = f"/api/v1/cases/{case_id}/contacts"
    problem(client.post(url, json={"email": "cfo@CLIENT.example"}), 409, "already a contact")
    problem(client.post(url, json={"email": "not an email"}), 400, "not a valid email")
    removed = client.delete(f"/api/v1/cases/{case_id}/contacts/cfo@client.example")
    assert removed.status_code == 200 and removed.json()["contacts"] == ["it@client.example"]
    problem(client.delete(f"/api/v1/cases/{case_id}/contacts/cfo@client.example"), 404, "is not a contact")
    # The last contact may go too: a case may have none, as when it was opened without any.
    assert client.delete(f"/api/v1/cases/{case_id}/contacts/it@client.example").json()["contacts"] == []
    assert [d["contact"] for d in _entries(client, case_id, "case.contact_removed")] == [
        "CFO@client.example",
        "it@client.example",
    ]
    assert client.get(f"/api/v1/cases/{case_id}").json()["contacts"] == []


def test_a_removed_contact_s_link_stops_working(client: TestClient) -> None:
    h = handover(client, contacts=["gone@client.example", "stays@client.example"])
    receipt = create_receipt(client, h)
    links = {link["recipient"]: path_of(link["url"]) for link in send_manual(client, receipt["id"])["links"]}
    assert client.get(links["gone@client.example"]).status_code == 200
    assert client.delete(f"/api/v1/cases/{h.case_id}/contacts/gone@client.example").status_code == 200
    (entry,) = _entries(client, h.case_id, "case.contact_removed")
    assert len(entry["links_voided"]) == 1
    dead = client.get(links["gone@client.example"])
    assert dead.status_code == 410 and "no longer valid" in dead.text
    assert client.get(links["stays@client.example"]).status_code == 200


def test_viewers_and_other_organizations_change_no_contact(client: TestClient, services: Any) -> None:
    case_id = open_case(client, contacts=["a@client.example"])["id"]
    viewer = _headers(services, client.get("/api/v1/organization").json()["id"], Role.VIEWER)
    url = f"/api/v1/cases/{case_id}/contacts"
    problem(client.post(url, json={"email": "b@client.example"}, headers=viewer), 403, "")
    problem(client.delete(f"{url}/a@client.example", headers=viewer), 403, "")
    with Session(services.engine) as session:
        rival = create_organization(session, name="Rival Agency")
        session.commit()
        rival_id = rival.id
    other = _headers(services, rival_id, Role.ADMIN)
    problem(client.post(url, json={"email": "b@client.example"}, headers=other), 404, "in this organization")
    problem(client.delete(f"{url}/a@client.example", headers=other), 404, "in this organization")
    closed = client.get(f"/api/v1/cases/{case_id}").json()
    assert closed["contacts"] == ["a@client.example"]
    assert _entries(client, case_id, "case.contact_added") == []


def test_a_fully_offboarded_case_keeps_its_contacts(client: TestClient) -> None:
    case_id = open_case(client, contacts=["a@client.example"])["id"]
    complete_all_steps(client, case_id)
    waive_uncovered_deliverables(client, case_id)
    closed = client.post(f"/api/v1/cases/{case_id}/close")
    assert closed.status_code == 200, closed.text
    problem(client.post(f"/api/v1/cases/{case_id}/contacts", json={"email": "b@client.example"}), 409, "immutable")
    problem(client.delete(f"/api/v1/cases/{case_id}/contacts/a@client.example"), 409, "immutable")


@pytest.fixture
def cli(cli_env: Any, capsys: pytest.CaptureFixture[str]) -> pytest.CaptureFixture[str]:
    cli_json(capsys, "init")
    cli_json(capsys, "staff", "add", OWNER, "--name", "Owner", "--role", "member")
    return capsys


def test_cli_case_contact_add_remove_list(cli: pytest.CaptureFixture[str]) -> None:
    case = cli_json(cli, "case", "open", "--client", "Globex", "--owner", OWNER)
    assert case["contacts"] == []
    added = cli_json(cli, "case", "contact", "add", case["id"], "Ana@Globex.example")
    assert added == {"case": case["id"], "contacts": ["Ana@globex.example"]}
    code, out, _ = run_cli(cli, "case", "contact", "add", case["id"], "bo@globex.example")
    assert code == 0 and "added bo@globex.example" in out
    code, _, err = run_cli(cli, "case", "contact", "add", case["id"], "ana@globex.example")
    assert code == 1 and "already a contact" in err and "Traceback" not in err
    code, _, err = run_cli(cli, "case", "contact", "add", case["id"], "nope")
    assert code == 1 and "not a valid email" in err
    listed = cli_json(cli, "case", "contact", "list", case["id"])["contacts"]
    assert listed == ["Ana@globex.example", "bo@globex.example"]
    removed = cli_json(cli, "case", "contact", "remove", case["id"], "ANA@globex.example")
    assert removed["contacts"] == ["bo@globex.example"]
    code, _, err = run_cli(cli, "case", "contact", "remove", case["id"], "ana@globex.example")
    assert code == 1 and "is not a contact" in err
    types = [e["type"] for e in cli_json(cli, "case", "timeline", case["id"])]
    assert types.count("case.contact_added") == 2 and types.count("case.contact_removed") == 1
