"""Cases over HTTP on both backend pairs: the whole offboarding, steps, owner, overdue, communications,
playbook versions and the timeline's ledger indexes proven by inclusion proofs."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
import rfc8785
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.integration.cases_helpers import (
    OWNER,
    add_staff,
    complete_all_steps,
    open_case,
    problem,
    revoke_all_access,
    upload,
)
from vault.errors import VerificationFailed
from vault.ledger import log
from vault.ledger.hashing import leaf_hash
from vault.ledger.tree import inclusion_nodes_needed, inclusion_proof, root_from_nodes, root_nodes_needed
from vault.ledger.verifiers import verify_inclusion


def test_full_offboarding_reaches_the_final_state_only_through_the_gate(client: TestClient) -> None:
    case = open_case(client, contacts=["CFO@Client.example", "it@client.example"], trigger="contract_end")
    case_id = case["id"]
    assert (case["status"], case["service_type"], case["trigger"]) == (
        "open",
        "web-agency-retainer",
        "contract_end",
    )
    assert case["contacts"] == ["CFO@client.example", "it@client.example"]
    assert case["playbook"]["key"] == "web-agency-retainer" and case["playbook"]["version"] == 2
    assert case["progress"] == {
        "steps_done": 0,
        "steps_required": 8,
        "optional_done": 0,
        "optional_total": 2,
        "access_revoked": 0,
        "access_total": 0,
    }

    item = client.post(
        f"/api/v1/cases/{case_id}/access",
        json={
            "name": "Google Ads",
            "kind": "cloud_account",
            "held_by": "team",
            "accounts": ["ads@agency.example"],
        },
    )
    assert item.status_code == 201, item.text
    assert item.json()["status"] == "active" and item.json()["ledger_indexes"]["added"] is not None

    refused = client.post(f"/api/v1/cases/{case_id}/close")
    body = problem(refused, 409, "cannot be fully offboarded: 9 obligation(s) unmet")
    assert [m["kind"] for m in body["missing"]] == ["step"] * 8 + ["access"]
    assert body["missing"][-1] == {
        "kind": "access",
        "reason": "access to 'Google Ads' is not revoked",
        "access_item": item.json()["id"],
    }
    gate = client.get(f"/api/v1/cases/{case_id}/gate").json()
    assert gate == {"ready": False, "missing": body["missing"]}

    revoke_all_access(client, case_id)
    complete_all_steps(client, case_id)
    # No receipt listed the deliverable: an admin waives the client's acknowledgment of it, with a reason.
    (missing,) = client.get(f"/api/v1/cases/{case_id}/gate").json()["missing"]
    deliverable = missing["evidence"]
    assert missing["kind"] == "deliverable" and "is not in an acknowledged receipt" in missing["reason"]
    both = {"reason": "handed over in person", "evidence_id": deliverable, "receipt_id": "r"}
    assert client.post(f"/api/v1/cases/{case_id}/waivers", json=both).status_code == 422
    not_one = client.post(f"/api/v1/cases/{case_id}/waivers", json={**both, "receipt_id": None, "evidence_id": "nope"})
    problem(not_one, 404, "no evidence 'nope'")
    waived = client.post(
        f"/api/v1/cases/{case_id}/waivers", json={"reason": "handed over in person", "evidence_id": deliverable}
    )
    assert waived.status_code == 201, waived.text
    assert (waived.json()["scope"], waived.json()["evidence_id"]) == ("deliverable", deliverable)
    entry = json.loads(client.get(f"/api/v1/ledger/entries/{waived.json()['ledger_index']}").content)
    assert entry["type"] == "case.waiver" and entry["data"]["evidence"] == deliverable
    assert set(entry["data"]) == {"waiver", "scope", "evidence", "filename", "sha256", "reason"}
    assert client.get(f"/api/v1/cases/{case_id}/gate").json() == {"ready": True, "missing": []}
    closed = client.post(f"/api/v1/cases/{case_id}/close")
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "fully_offboarded" and closed.json()["closed_at"].endswith("Z")
    assert client.get(f"/api/v1/cases/{case_id}").json()["status"] == "fully_offboarded"

    # Immutable now: no work, no evidence; notes and a dispute still enter.
    problem(client.post(f"/api/v1/cases/{case_id}/steps/exit-call/complete", json={}), 409, "immutable")
    problem(client.post(f"/api/v1/cases/{case_id}/access", json={"name": "x", "kind": "app"}), 409, "immutable")
    late = client.post(f"/api/v1/cases/{case_id}/evidence", params={"filename": "x", "kind": "other"}, content=b"late")
    problem(late, 409, "immutable")
    problem(client.post(f"/api/v1/cases/{case_id}/close"), 409, "already fully_offboarded")
    note = client.post(f"/api/v1/cases/{case_id}/notes", json={"text": "Client called to say thanks."})
    assert note.status_code == 201 and note.json()["ledger_index"] is not None
    disputed = client.post(f"/api/v1/cases/{case_id}/dispute", json={"reason": "Client says the export is incomplete"})
    assert disputed.json()["status"] == "disputed"
    kinds = [n["kind"] for n in client.get(f"/api/v1/cases/{case_id}/notes").json()]
    assert kinds == ["note", "dispute"]


def test_step_rules_over_http(client: TestClient) -> None:
    case_id = open_case(client, service_type="it-managed-services")["id"]
    other_case = open_case(client, client_name="Other")["id"]
    early = client.post(f"/api/v1/cases/{case_id}/steps/review-contract/complete", json={"note": "read"})
    assert problem(early, 409, "depends on steps not completed yet")["pending_dependencies"] == ["confirm-intent"]
    foreign = upload(client, other_case, b"someone else's email", "communication")
    problem(
        client.post(f"/api/v1/cases/{case_id}/steps/confirm-intent/complete", json={"evidence_ids": [foreign]}),
        404,
        "no evidence",
    )
    wrong_kind = upload(client, case_id, b"a deliverable", "deliverable")
    unmet = client.post(f"/api/v1/cases/{case_id}/steps/confirm-intent/complete", json={"evidence_ids": [wrong_kind]})
    assert problem(unmet, 409, "does not meet its completion criteria")["unmet"] == [
        "evidence:communication: attach evidence of kind communication (attached kinds: ['deliverable'])"
    ]
    problem(client.post(f"/api/v1/cases/{case_id}/steps/nope/complete", json={}), 404, "has no step 'nope'")
    logged = client.post(
        f"/api/v1/cases/{case_id}/communications",
        json={
            "channel": "email",
            "subject": "Termination",
            "text": "We confirm the end date of 31 Dec.",
            "participants": ["cfo@client.example"],
        },
    )
    assert logged.status_code == 201, logged.text
    done = client.post(
        f"/api/v1/cases/{case_id}/steps/confirm-intent/complete", json={"evidence_ids": [logged.json()["id"]]}
    )
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["evidence_ids"]) == ("done", [logged.json()["id"]])
    assert client.get(f"/api/v1/cases/{case_id}").json()["status"] == "in_progress"
    timeline = client.get(f"/api/v1/cases/{case_id}/timeline").json()
    completed = [e for e in timeline if e["type"] == "step.completed"]
    assert completed[0]["data"]["evidence"] == [
        {"id": logged.json()["id"], "sha256": logged.json()["sha256"], "kind": "communication"}
    ]
    assert completed[0]["index"] == done.json()["ledger_index"]


def test_communication_is_stored_as_hashed_evidence(client: TestClient) -> None:
    case_id = open_case(client)["id"]
    body = {
        "channel": "call",
        "subject": "Exit call",
        "text": "Client confirmed receipt of all files.",
        "occurred_at": "2026-11-20T10:00:00Z",
        "participants": ["Jane (client)", "Owner"],
    }
    first = client.post(f"/api/v1/cases/{case_id}/communications", json=body)
    assert first.status_code == 201, first.text
    evidence = first.json()
    assert evidence["kind"] == "communication" and evidence["content_type"] == "text/plain"
    assert evidence["original_filename"] == "call-20261120T100000Z.txt"
    content = client.get(f"/api/v1/evidence/{evidence['id']}/content").content
    assert hashlib.sha256(content).hexdigest() == evidence["sha256"]
    text = content.decode()
    assert text.startswith("Channel: call\nOccurred-At: 2026-11-20T10:00:00.000000Z\nSubject: Exit call\n")
    assert text.endswith("\n\nClient confirmed receipt of all files.\n")
    again = client.post(f"/api/v1/cases/{case_id}/communications", json=body)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    problem(
        client.post(f"/api/v1/cases/{case_id}/communications", json={**body, "channel": "fax"}),
        400,
        "channel",
    )


def test_owner_must_be_staff_and_reassignment_needs_a_reason(client: TestClient) -> None:
    response = client.post("/api/v1/cases", json={"client_name": "A", "owner_email": "stranger@agency.example"})
    problem(response, 400, "is not a staff member of this organization")
    case_id = open_case(client)["id"]
    problem(
        client.post(f"/api/v1/cases/{case_id}/owner", json={"owner_email": "new@agency.example", "reason": "x"}),
        400,
        "not a staff member",
    )
    new = add_staff(client, "new@agency.example")
    problem(
        client.post(f"/api/v1/cases/{case_id}/owner", json={"owner_email": OWNER, "reason": "x"}),
        409,
        "already owns",
    )
    moved = client.post(
        f"/api/v1/cases/{case_id}/owner",
        json={"owner_email": "new@agency.example", "reason": "Owner on leave"},
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["owner_email"], moved.json()["owner_id"]) == ("new@agency.example", new["id"])
    entry = [e for e in client.get(f"/api/v1/cases/{case_id}/timeline").json() if e["type"] == "case.owner_changed"]
    assert entry[0]["data"]["reason"] == "Owner on leave" and entry[0]["data"]["from"] == OWNER
    deactivated = client.patch(f"/api/v1/staff/{new['id']}", json={"active": False})
    assert deactivated.json()["active"] is False
    problem(
        client.post("/api/v1/cases", json={"client_name": "B", "owner_email": "new@agency.example"}),
        400,
        "no longer an active staff member",
    )


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("trigger", "bored", "trigger must be one of"),
        ("service_type", "no-such-playbook", "no playbook 'no-such-playbook'"),
        ("contacts", ["not-an-email"], "not a valid email"),
        ("intent_date", "2999-01-01", "is in the future"),
        ("target_end_date", "2000-01-01", "is before the intent date"),
    ],
)
def test_open_case_refusals(client: TestClient, field: str, value: Any, needle: str) -> None:
    add_staff(client)
    response = client.post("/api/v1/cases", json={"client_name": "A", "owner_email": OWNER, field: value})
    problem(response, 404 if field == "service_type" else 400, needle)


def test_overdue_counts_from_the_intent_date_on_the_injected_clock(client: TestClient, services: Any) -> None:
    now = services.clock()
    today = now.date()
    late = open_case(client, client_name="Late", intent_date=(today - timedelta(days=40)).isoformat())
    fresh = open_case(client, client_name="Fresh")
    client.post(f"/api/v1/cases/{late['id']}/access", json={"name": "GA4", "kind": "app"})
    late_view = client.get(f"/api/v1/cases/{late['id']}").json()
    assert {o["ref"] for o in late_view["overdue"] if o["kind"] == "step"} == {
        "confirm-intent",
        "review-contract",
        "inventory-access",
        "final-deliverables",
        "transfer-ownership",
        "revoke-access",
        "final-invoice",
        "client-confirmation",
    }
    first = next(o for o in late_view["overdue"] if o["ref"] == "confirm-intent")
    assert (first["due"], first["days_overdue"]) == ((today - timedelta(days=38)).isoformat(), 38)
    access = [o for o in late_view["overdue"] if o["kind"] == "access"]
    assert [(o["title"], o["days_overdue"]) for o in access] == [("GA4", 10)]
    assert [c["id"] for c in client.get("/api/v1/cases", params={"overdue": "true"}).json()] == [late["id"]]
    assert len(client.get("/api/v1/cases").json()) == 2

    services.clock = lambda: now + timedelta(days=3)
    overdue = client.get("/api/v1/cases", params={"overdue": "true"}).json()
    assert [c["id"] for c in overdue] == [late["id"], fresh["id"]]
    assert [o["ref"] for o in overdue[1]["overdue"]] == ["confirm-intent"]


def test_playbook_versions_never_rewrite_an_open_case(client: TestClient) -> None:
    listed = client.get("/api/v1/playbooks").json()
    assert {(p["key"], p["is_default"]) for p in listed} == {
        ("consulting-engagement", False),
        ("it-managed-services", False),
        ("web-agency-retainer", True),
    }
    v1 = client.get("/api/v1/playbooks/consulting-engagement").json()
    assert v1["sha256"] == hashlib.sha256(rfc8785.dumps(v1["document"])).hexdigest()
    before = open_case(client, service_type="consulting-engagement")
    snapshot = next(
        e for e in client.get(f"/api/v1/cases/{before['id']}/timeline").json() if e["type"] == "case.playbook_snapshot"
    )
    assert snapshot["data"] == {
        "playbook": "consulting-engagement",
        "version": 1,
        "sha256": v1["sha256"],
        "playbook_version": snapshot["data"]["playbook_version"],
    }

    document = {**v1["document"], "version": 2}
    document["steps"] = [s for s in document["steps"] if s["key"] != "working-papers"]
    same_version = client.put("/api/v1/playbooks/consulting-engagement", json={"document": {**document, "version": 1}})
    problem(same_version, 409, "already exists with different content")
    v2 = client.put("/api/v1/playbooks/consulting-engagement", json={"document": document})
    assert v2.status_code == 201, v2.text
    assert client.put("/api/v1/playbooks/consulting-engagement", json={"document": document}).status_code == 200
    problem(
        client.put(
            "/api/v1/playbooks/consulting-engagement",
            json={"document": {**document, "version": 1, "title": "Older"}},
        ),
        409,
        "already exists",
    )
    problem(client.put("/api/v1/playbooks/other-key", json={"document": document}), 400, "does not match the path")
    problem(client.put("/api/v1/playbooks/x", json={}), 400, "exactly one of")
    bad = client.put("/api/v1/playbooks/x", json={"yaml": "key: x\nversion: 1\ntitle: X\nsteps: []\n"})
    assert problem(bad, 400, "invalid playbook")["errors"] == ["steps: expected a non-empty list of steps, found []"]

    after = open_case(client, service_type="consulting-engagement", client_name="After")
    assert after["playbook"]["version"] == 2
    keys_before = [s["key"] for s in client.get(f"/api/v1/cases/{before['id']}/steps").json()]
    keys_after = [s["key"] for s in client.get(f"/api/v1/cases/{after['id']}/steps").json()]
    assert "working-papers" in keys_before and "working-papers" not in keys_after
    versions = client.get("/api/v1/playbooks/consulting-engagement/versions").json()
    assert [v["version"] for v in versions] == [1, 2]
    assert client.get("/api/v1/playbooks/consulting-engagement", params={"version": 1}).json()["sha256"] == v1["sha256"]
    problem(client.get("/api/v1/playbooks/consulting-engagement", params={"version": 9}), 404, "no version 9")

    assert client.post("/api/v1/playbooks/it-managed-services/default").json()["is_default"] is True
    assert open_case(client, client_name="Default")["service_type"] == "it-managed-services"


def test_timeline_indexes_verify_with_inclusion_proofs(client: TestClient, services: Any) -> None:
    case_id = open_case(client)["id"]
    item = client.post(f"/api/v1/cases/{case_id}/access", json={"name": "GitHub", "kind": "code_repository"}).json()
    revoke_all_access(client, case_id)
    verified = client.post(f"/api/v1/cases/{case_id}/access/{item['id']}/verify", json={"verified_by": OWNER})
    assert verified.status_code == 200, verified.text
    client.post(f"/api/v1/cases/{case_id}/notes", json={"text": "checked twice"})
    timeline = client.get(f"/api/v1/cases/{case_id}/timeline").json()
    types = [e["type"] for e in timeline]
    assert types[:2] == ["case.opened", "case.playbook_snapshot"]
    for expected in (
        "case.status_changed",
        "access.added",
        "evidence.stored",
        "access.revoked",
        "access.verified",
        "case.note",
    ):
        assert expected in types
    assert [e["index"] for e in timeline] == sorted(e["index"] for e in timeline)

    org = client.get("/api/v1/organization").json()["id"]
    with Session(services.engine) as session:
        size = log.size(session, org)
        root = root_from_nodes(size, log.fetch_nodes(session, org, root_nodes_needed(size)))
        for event in timeline:
            stored = log.entry(session, org, event["index"])
            leaf = leaf_hash(bytes(stored.body))
            assert leaf.hex() == event["leaf_hash"]
            nodes = log.fetch_nodes(session, org, inclusion_nodes_needed(event["index"], size))
            proof = inclusion_proof(event["index"], size, nodes)
            verify_inclusion(leaf, event["index"], size, proof, root)
            if event["index"] + 1 < size:
                with pytest.raises(VerificationFailed):
                    verify_inclusion(leaf, event["index"] + 1, size, proof, root)


def test_access_register_rules(client: TestClient) -> None:
    add_staff(client, "second@agency.example")
    case_id = open_case(client)["id"]
    base = f"/api/v1/cases/{case_id}/access"
    problem(client.post(base, json={"name": "X", "kind": "printer"}), 400, "kind must be one of")
    problem(
        client.post(base, json={"name": "X", "kind": "app", "held_by": "vendor"}),
        400,
        "held_by must be one of",
    )
    item = client.post(base, json={"name": "Figma", "kind": "app"}).json()
    problem(client.post(f"{base}/{item['id']}/verify", json={}), 409, "only a revoked item can be verified")
    no_proof = client.post(f"{base}/{item['id']}/revoke", json={"method": "removed", "evidence_ids": []})
    assert no_proof.status_code == 422  # the schema demands at least one evidence id
    proof = upload(client, case_id, b"figma audit log", "other")
    revoked = client.post(
        f"{base}/{item['id']}/revoke",
        json={"method": "removed seat", "evidence_ids": [proof], "revoked_by": OWNER},
    ).json()
    assert (revoked["status"], revoked["revoked_by"], revoked["evidence_ids"]) == ("revoked", OWNER, [proof])
    again = client.post(f"{base}/{item['id']}/revoke", json={"method": "again", "evidence_ids": [proof]})
    problem(again, 409, "already revoked")
    problem(client.post(f"{base}/{item['id']}/verify", json={"verified_by": OWNER}), 409, "second person")
    ok = client.post(f"{base}/{item['id']}/verify", json={"verified_by": "second@agency.example"}).json()
    assert ok["verified_by"] == "second@agency.example" and ok["ledger_indexes"]["verified"] is not None
    problem(client.post(f"{base}/{item['id']}/verify", json={}), 409, "already verified")
    problem(
        client.post(f"{base}/nope/revoke", json={"method": "m", "evidence_ids": [proof]}),
        404,
        "no access item",
    )
