"""Receipts over the API and the acknowledgment page, on both backend pairs: create, sign, send, open,
acknowledge, dispute, the gate, and the error paths a user can hit."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from signing.keys import parse_vkey
from templates.humanize import when
from tests.helpers import sha256
from tests.integration.cases_helpers import complete_all_steps, open_case, problem, revoke_all_access, upload
from tests.integration.receipts_support import (
    CONTACT,
    DELIVERABLES,
    acknowledge,
    create_receipt,
    form_of,
    handover,
    path_of,
    send_manual,
    timeline_types,
)
from tests.integration.test_cases_access_control import token
from vault.clock import system_clock
from vault.db import session_scope
from vault.errors import VerificationFailed
from vault.handover.links import aware
from vault.handover.receipts import canonical, shown_digest, verify_document
from vault.models import Acknowledgment, ReceiptLink
from vault.orgs.organizations import Role, create_organization


def test_receipt_lists_deliverables_steps_access_and_checkpoint_and_is_signed(client: TestClient) -> None:
    h = handover(client)
    receipt = create_receipt(client, h)
    doc = receipt["document"]
    assert receipt["status"] == "draft"
    assert doc["type"] == "offboard.receipt/v1" and doc["id"] == receipt["id"]
    listed = {d["filename"]: d for d in doc["deliverables"]}
    assert set(listed) == set(DELIVERABLES)  # the "other" evidence is not a deliverable
    for name, data in DELIVERABLES.items():
        assert listed[name]["sha256"] == sha256(data)
        assert listed[name]["size"] == len(data)
        assert listed[name]["evidence"] == h.evidence[name]
    assert doc["case"]["contacts"] == [CONTACT]
    assert doc["obligations"] == [] and doc["access_revoked"] == []
    assert doc["terms"].startswith("The organization hands over")
    # The checkpoint is the latest signed one, and it is the one the ledger serves.
    note = client.get("/api/v1/ledger/checkpoint").text
    assert doc["checkpoint"]["note"].splitlines()[0] == note.splitlines()[0]
    assert doc["checkpoint"]["size"] >= 4
    # Detached Ed25519 signature over exactly the canonical bytes, by the key the checkpoints use.
    body = receipt["canonical"].encode()
    assert body == canonical(doc)
    verifier = parse_vkey(doc["signer"]["vkey"])
    keys = client.get("/.well-known/offboard/keys").json()["keys"]
    assert doc["signer"]["vkey"] in {k["vkey"] for k in keys}
    signature = base64.b64decode(receipt["signature"]["signature"])
    assert receipt["signature"]["key_id"] == verifier.key_id.hex()
    assert verify_document(body, signature, verifier) == doc
    assert receipt["sha256"] == sha256(body)
    # And it is a ledger entry carrying the same hash and signature.
    entry = json.loads(client.get(f"/api/v1/ledger/entries/{receipt['ledger_index']}").content)
    assert entry["type"] == "receipt.issued"
    assert entry["data"]["sha256"] == receipt["sha256"]
    assert entry["data"]["signature"] == receipt["signature"]["signature"]


def test_a_changed_byte_fails_the_receipt_signature(client: TestClient) -> None:
    receipt = create_receipt(client, handover(client))
    body = receipt["canonical"].encode()
    verifier = parse_vkey(receipt["document"]["signer"]["vkey"])
    signature = base64.b64decode(receipt["signature"]["signature"])
    for position in (0, len(body) // 2, len(body) - 1):
        changed = bytearray(body)
        changed[position] ^= 0x01
        try:
            verify_document(bytes(changed), signature, verifier)
        except VerificationFailed as exc:
            assert "signature does not verify" in exc.message
        else:
            raise AssertionError(f"a flipped byte at {position} still verified")


def test_receipt_with_explicit_evidence_terms_completed_steps_and_revoked_access(client: TestClient) -> None:
    case = open_case(client, contacts=[CONTACT])
    complete_all_steps(client, case["id"])
    added = client.post(f"/api/v1/cases/{case['id']}/access", json={"name": "GitHub org", "kind": "code_repository"})
    assert added.status_code == 201, added.text
    revoke_all_access(client, case["id"])
    evidence = client.get(f"/api/v1/cases/{case['id']}/evidence").json()
    chosen = [evidence[0]["id"]]
    receipt = create_receipt(client, _H(case["id"]), evidence_ids=chosen, terms="  Custom terms. ")
    doc = receipt["document"]
    assert [d["evidence"] for d in doc["deliverables"]] == chosen
    assert doc["terms"] == "Custom terms."
    assert doc["obligations"] and all(o["completed_at"] for o in doc["obligations"])
    assert [a["name"] for a in doc["access_revoked"]] == ["GitHub org"]
    assert doc["access_revoked"][0]["ledger_index"] is not None


class _H:
    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        self.receipt: dict[str, Any] = {}


def test_receipt_creation_errors(client: TestClient, services: Any, initialized: Any) -> None:
    empty = open_case(client, contacts=[CONTACT])
    problem(client.post(f"/api/v1/cases/{empty['id']}/receipts", json={}), 400, "at least one deliverable")
    problem(client.post("/api/v1/cases/nope/receipts", json={}), 404, "no case")
    other = handover(client)
    problem(
        client.post(f"/api/v1/cases/{empty['id']}/receipts", json={"evidence_ids": list(other.evidence.values())}),
        404,
        "no evidence",
    )
    problem(client.post(f"/api/v1/cases/{other.case_id}/receipts", json={"terms": "   "}), 400, "terms must be")
    problem(client.get("/api/v1/receipts/nope"), 404, "no receipt")
    problem(client.post("/api/v1/receipts/nope/send"), 404, "no receipt")
    problem(client.get("/api/v1/receipts/nope/pdf"), 404, "no receipt")
    headers = token(services, initialized.organization_id, Role.VIEWER)
    problem(client.post(f"/api/v1/cases/{other.case_id}/receipts", json={}, headers=headers), 403, "role")
    receipt = create_receipt(client, other)
    problem(client.post(f"/api/v1/receipts/{receipt['id']}/send", headers=headers), 403, "role")
    # Without contacts there is no one to send to.
    nobody = handover(client, contacts=[])
    lonely = create_receipt(client, nobody)
    problem(client.post(f"/api/v1/receipts/{lonely['id']}/send"), 400, "no client contacts")


def test_send_without_smtp_returns_links_once_built_from_base_url(client: TestClient) -> None:
    h = handover(client, contacts=[CONTACT, "cfo@acme.example"])
    receipt = create_receipt(client, h)
    # A forged Host header must not leak into the link.
    response = client.post(f"/api/v1/receipts/{receipt['id']}/send", headers={"host": "evil.example"})
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    sent = response.json()
    assert sent["status"] == "sent" and sent["recipients"] == [CONTACT, "cfo@acme.example"]
    assert [link["recipient"] for link in sent["links"]] == sent["recipients"]
    for link in sent["links"]:
        assert link["url"].startswith("http://testserver/ack/")
    assert len({link["url"] for link in sent["links"]}) == 2
    shown = client.get(f"/api/v1/receipts/{receipt['id']}")
    assert shown.json()["status"] == "sent"
    assert "/ack/" not in shown.text  # staff never read a live link afterwards
    entry = timeline_types(client, h.case_id)
    assert entry[-1] == "receipt.sent"


def test_page_shows_deliverables_and_hashes_and_carries_security_headers(client: TestClient) -> None:
    h = handover(client)
    receipt = create_receipt(client, h)
    path = path_of(send_manual(client, receipt["id"])["links"][0]["url"])
    page = client.get(path)
    assert page.status_code == 200
    for name, data in DELIVERABLES.items():
        assert name in page.text
        assert sha256(data) in page.text
    assert receipt["document"]["terms"] in page.text
    assert shown_digest(receipt["document"]) in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp and "form-action 'self'" in csp
    assert "<script" not in page.text and "http://" not in page.text.replace("http://testserver", "")
    cookie = page.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower() and "Path=/ack/" in cookie
    # Each deliverable downloads through the link, byte for byte.
    for name, data in DELIVERABLES.items():
        got = client.get(f"{path}/files/{h.evidence[name]}")
        assert got.status_code == 200 and got.content == data
        assert got.headers["referrer-policy"] == "no-referrer"
    # Evidence that is not on the receipt is not reachable through the token.
    others = [e["id"] for e in client.get(f"/api/v1/cases/{h.case_id}/evidence").json()]
    hidden = next(e for e in others if e not in h.evidence.values())
    assert client.get(f"{path}/files/{hidden}").status_code == 404


def test_scanner_prefetch_records_opened_and_acknowledges_nothing(client: TestClient) -> None:
    h = handover(client)
    receipt = create_receipt(client, h)
    path = path_of(send_manual(client, receipt["id"])["links"][0]["url"])
    scanner = TestClient(client.app)
    for _ in range(3):
        assert scanner.get(path, headers={"User-Agent": "SafeLinks/1.0"}).status_code == 200
    assert scanner.head(path).status_code == 200
    assert client.get(f"/api/v1/receipts/{receipt['id']}").json()["status"] == "sent"
    events = client.get(f"/api/v1/cases/{h.case_id}/timeline").json()
    opened = [e for e in events if e["type"] == "receipt.opened"]
    assert [e["data"]["method"] for e in opened] == ["GET", "GET", "GET", "HEAD"]
    assert opened[0]["data"]["user_agent"] == "SafeLinks/1.0"
    assert "receipt.acknowledged" not in {e["type"] for e in events}
    # The link still works for the client afterwards.
    assert acknowledge(client, path).status_code == 200


def test_acknowledge_records_block_countersigns_and_lets_the_case_close(client: TestClient, services: Any) -> None:
    h = handover(client)
    complete_all_steps(client, h.case_id)
    receipt = create_receipt(client, h)
    missing = client.post(f"/api/v1/cases/{h.case_id}/close").json()["missing"]
    assert [m for m in missing if m["kind"] == "acknowledgment"] == [
        {
            "kind": "acknowledgment",
            "receipt": receipt["id"],
            "reason": f"handover receipt {receipt['id']} was never sent to the client",
        }
    ]
    path = path_of(send_manual(client, receipt["id"])["links"][0]["url"])
    done = acknowledge(client, path, name="  Zoë   Ångström-Łukasz ", headers={"User-Agent": "Firefox/140"})
    assert done.status_code == 200, done.text
    assert "Thank you, Zoë Ångström-Łukasz" in done.text
    assert done.headers["referrer-policy"] == "no-referrer" and done.headers["cache-control"] == "no-store"
    got = client.get(f"/api/v1/receipts/{receipt['id']}").json()
    assert got["status"] == "acknowledged"
    ack = got["acknowledgment"]
    assert ack["name"] == "Zoë Ångström-Łukasz" and ack["recipient"] == CONTACT
    assert ack["ip"] == "testclient" and ack["user_agent"] == "Firefox/140"
    assert ack["shown_sha256"] == shown_digest(receipt["document"])
    counter = ack["countersigned"]
    assert counter["type"] == "offboard.acknowledged-receipt/v1"
    assert counter["receipt"] == receipt["document"]
    assert counter["receipt_signature"]["signature"] == receipt["signature"]["signature"]
    block = counter["acknowledgment"]
    assert block["acknowledged_at"] == ack["acknowledged_at"] and block["name"] == ack["name"]
    with Session(services.engine) as session:
        row = session.exec(select(Acknowledgment).where(Acknowledgment.receipt_id == receipt["id"])).one()
        link = session.exec(select(ReceiptLink).where(ReceiptLink.receipt_id == receipt["id"])).one()
        assert block["token_id"] == link.id and link.status == "used"
        verifier = parse_vkey(receipt["document"]["signer"]["vkey"])
        assert verify_document(bytes(row.document), bytes(row.signature), verifier) == counter
    types = timeline_types(client, h.case_id)
    assert types[-2:] == ["receipt.acknowledged", "receipt.countersigned"]
    # The gate no longer waits for this receipt.
    closed = client.post(f"/api/v1/cases/{h.case_id}/close")
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "fully_offboarded"


CONFIRMATION_STEP = "client-confirmation"


def _step(client: TestClient, case_id: str, key: str) -> dict[str, Any]:
    return next(s for s in client.get(f"/api/v1/cases/{case_id}/steps").json() if s["key"] == key)


def test_the_acknowledgment_completes_the_client_confirmation_step(client: TestClient) -> None:
    """Issue 14, item 1: the client's acknowledgment is the confirmation the playbook step asks for. It
    completes the step in the ledger, by the client, naming the receipt; a second acknowledgment of another
    receipt completes nothing again; the case then closes."""
    h = handover(client)
    complete_all_steps(client, h.case_id, leave=(CONFIRMATION_STEP,))
    first, second = create_receipt(client, h), create_receipt(client, h)
    paths = [path_of(send_manual(client, r["id"])["links"][0]["url"]) for r in (first, second)]
    assert client.get(f"/api/v1/cases/{h.case_id}/gate").json()["missing"][0] == {
        "kind": "step",
        "reason": 'required step "Obtain the client\'s confirmation of the handover" is not completed',
        "step": CONFIRMATION_STEP,
    }
    early = client.post(f"/api/v1/cases/{h.case_id}/steps/{CONFIRMATION_STEP}/complete", json={})
    assert problem(early, 409, "receipt:acknowledged: the client has not acknowledged a handover receipt")
    assert acknowledge(client, paths[0]).status_code == 200
    step = _step(client, h.case_id, CONFIRMATION_STEP)
    assert (step["status"], step["completed_by"], step["evidence_ids"]) == ("done", f"client:{CONTACT}", [])
    events = client.get(f"/api/v1/cases/{h.case_id}/timeline").json()
    completed = [e for e in events if e["type"] == "step.completed" and e["data"]["step"] == CONFIRMATION_STEP]
    ack = client.get(f"/api/v1/receipts/{first['id']}").json()["acknowledgment"]
    assert [(e["index"], e["actor"]) for e in completed] == [(step["ledger_index"], f"client:{CONTACT}")]
    assert completed[0]["data"] == {
        "step": CONFIRMATION_STEP,
        "title": "Obtain the client's confirmation of the handover",
        "evidence": [],
        "note": f"the client ({CONTACT}) acknowledged handover receipt {first['id']}",
        "receipt": first["id"],
        "receipt_sha256": first["sha256"],
        "acknowledgment": ack["id"],
    }
    assert completed[0]["index"] == ack["ledger_index"] + 1  # right after receipt.countersigned
    # Idempotent: the second receipt's acknowledgment finds the step done.
    assert acknowledge(client, paths[1]).status_code == 200
    assert client.get(f"/api/v1/receipts/{second['id']}").json()["status"] == "acknowledged"
    events = client.get(f"/api/v1/cases/{h.case_id}/timeline").json()
    assert sum(e["type"] == "step.completed" and e["data"]["step"] == CONFIRMATION_STEP for e in events) == 1
    closed = client.post(f"/api/v1/cases/{h.case_id}/close")
    assert closed.status_code == 200, closed.text


def test_an_acknowledgment_before_the_steps_it_follows_leaves_the_confirmation_to_staff(client: TestClient) -> None:
    """A confirmation step whose dependencies are open stays open at the acknowledgment; once they are
    done, staff complete it with nothing attached: the acknowledged receipt meets its criterion."""
    h = handover(client)
    receipt = create_receipt(client, h)
    refused = client.post(f"/api/v1/cases/{h.case_id}/steps/{CONFIRMATION_STEP}/complete", json={})
    assert problem(refused, 409, "depends on steps not completed yet")
    assert acknowledge(client, path_of(send_manual(client, receipt["id"])["links"][0]["url"])).status_code == 200
    assert _step(client, h.case_id, CONFIRMATION_STEP)["status"] == "pending"
    complete_all_steps(client, h.case_id, leave=(CONFIRMATION_STEP,))
    done = client.post(f"/api/v1/cases/{h.case_id}/steps/{CONFIRMATION_STEP}/complete", json={})
    assert done.status_code == 200, done.text
    assert done.json()["completed_by"] != f"client:{CONTACT}" and done.json()["evidence_ids"] == []


def test_a_deliverable_stored_after_the_acknowledged_receipt_keeps_the_case_open(client: TestClient) -> None:
    """Issue 14, item 2: the gate names every deliverable no acknowledged receipt lists; a receipt sent but
    not acknowledged does not cover it; an acknowledged new receipt does. Other kinds never block."""
    h = handover(client)
    complete_all_steps(client, h.case_id)
    first = create_receipt(client, h)
    assert acknowledge(client, path_of(send_manual(client, first["id"])["links"][0]["url"])).status_code == 200
    late = upload(client, h.case_id, b"the design source files", "deliverable", "design-files.zip")
    upload(client, h.case_id, b"a call after the acknowledgment", "communication", "call.txt")
    listed = client.get(f"/api/v1/cases/{h.case_id}/evidence").json()
    stored_at = next(e["stored_at"] for e in listed if e["id"] == late)
    uncovered = {
        "kind": "deliverable",
        "reason": f"deliverable 'design-files.zip', stored at {stored_at}, is not in an acknowledged receipt",
        "evidence": late,
    }
    assert problem(client.post(f"/api/v1/cases/{h.case_id}/close"), 409, "1 obligation(s) unmet")["missing"] == [
        uncovered
    ]
    second = create_receipt(client, h)
    assert late in {d["evidence"] for d in second["document"]["deliverables"]}
    path = path_of(send_manual(client, second["id"])["links"][0]["url"])
    missing = client.get(f"/api/v1/cases/{h.case_id}/gate").json()["missing"]
    assert [m["kind"] for m in missing] == ["acknowledgment", "deliverable"] and missing[1] == uncovered
    assert acknowledge(client, path).status_code == 200
    assert client.get(f"/api/v1/cases/{h.case_id}/gate").json() == {"ready": True, "missing": []}
    assert client.post(f"/api/v1/cases/{h.case_id}/close").status_code == 200


def _fetch(client: TestClient, path: str) -> tuple[int, bytes, dict[str, str]]:
    response = TestClient(client.app).get(path)
    headers = {k: v for k, v in response.headers.items() if k not in {"date", "content-length"}}
    return response.status_code, response.content, headers


def test_unknown_tokens_share_one_page_and_existing_links_say_their_state(client: TestClient, services: Any) -> None:
    """Unknown and malformed tokens get one 404 page, byte for byte. A token that exists (256 random
    bits, so no guesser finds one) tells its holder why it no longer opens: used, voided or expired."""
    used_h = handover(client)
    used = path_of(send_manual(client, create_receipt(client, used_h)["id"])["links"][0]["url"])
    assert acknowledge(client, used).status_code == 200
    voided_h = handover(client)
    voided_receipt = create_receipt(client, voided_h)
    voided = path_of(send_manual(client, voided_receipt["id"])["links"][0]["url"])
    fresh = path_of(send_manual(client, voided_receipt["id"])["links"][0]["url"])  # resending voids
    two_h = handover(client, contacts=[CONTACT, "cfo@acme.example"])
    two = [path_of(link["url"]) for link in send_manual(client, create_receipt(client, two_h)["id"])["links"]]
    assert acknowledge(client, two[0]).status_code == 200  # answering voids the other contact's link
    expired_h = handover(client)
    expired_receipt = create_receipt(client, expired_h)
    expired = path_of(send_manual(client, expired_receipt["id"])["links"][0]["url"])
    with session_scope(services.engine) as session:
        link = session.exec(select(ReceiptLink).where(ReceiptLink.receipt_id == expired_receipt["id"])).one()
        link.expires_at = system_clock() - timedelta(seconds=1)
        session.add(link)
        expired_on = when(aware(link.expires_at))
    pages = {
        name: _fetch(client, p)
        for name, p in {
            "unknown": "/ack/" + "A" * 43,
            "malformed": "/ack/short",
            "used": used,
            "voided": voided,
            "answered by another contact": two[1],
            "expired": expired,
        }.items()
    }
    unknown = pages["unknown"]
    assert unknown[0] == 404 and b"This link is not available" in unknown[1]
    assert pages["malformed"] == unknown
    assert "set-cookie" not in unknown[2]
    words = {
        "used": b"This link has already been used",
        "voided": b"This link is no longer valid",
        "answered by another contact": b"This link is no longer valid",
        "expired": f"This link expired on {expired_on}".encode(),
    }
    for name, text in words.items():
        status, body, headers = pages[name]
        assert status == 410 and text in body, name
        assert headers == unknown[2], name  # the same security headers, and no cookie
        assert b"<script" not in body and b"<form" not in body, name
    assert b"to acknowledge the handover receipt" in pages["used"][1]
    # A POST to a dead link gets its page too, and records nothing.
    page = client.get(fresh)
    dead = client.post(voided, data={**form_of(page.text), "action": "acknowledge", "name": "x", "consent": "yes"})
    assert (dead.status_code, dead.content) == pages["voided"][:2]
    assert client.get(fresh).status_code == 200
    assert client.get(f"/api/v1/receipts/{voided_receipt['id']}").json()["status"] == "sent"


def test_a_closed_case_links_open_nothing(client: TestClient, services: Any) -> None:
    """Closing a case (here over a waived receipt) voids every live link of its receipts, in the ledger
    (issue 14, item 3): they say "no longer valid", an answer through them is refused, and they stay dead
    when a dispute reopens the case."""
    h = handover(client, contacts=[CONTACT, "cfo@acme.example"])
    complete_all_steps(client, h.case_id)
    receipt = create_receipt(client, h)
    links = send_manual(client, receipt["id"])["links"]
    path = path_of(links[0]["url"])
    fields = form_of(client.get(path).text)
    waiver = {"reason": "the client stopped answering", "receipt_id": receipt["id"]}
    waived = client.post(f"/api/v1/cases/{h.case_id}/waivers", json=waiver)
    assert waived.status_code == 201, waived.text
    assert client.post(f"/api/v1/cases/{h.case_id}/close").status_code == 200
    with Session(services.engine) as session:
        rows = session.exec(select(ReceiptLink).where(ReceiptLink.receipt_id == receipt["id"])).all()
        assert len(rows) == 2 and {row.status for row in rows} == {"voided"} and all(row.voided_at for row in rows)
    events = client.get(f"/api/v1/cases/{h.case_id}/timeline").json()
    voided = [e for e in events if e["type"] == "receipt.links_voided"]
    assert len(voided) == 1 and set(voided[0]["data"].pop("voided")) == {row.id for row in rows}
    assert voided[0]["data"] == {"receipt": receipt["id"], "reason": "the case was closed (fully offboarded)"}
    closing = next(e for e in events if e["type"] == "case.status_changed" and e["data"]["to"] == "fully_offboarded")
    assert voided[0]["index"] > closing["index"] and voided[0]["actor"] == closing["actor"]
    # The app's worker may issue the closing's certificate meanwhile: that entry is not an answer.
    before = [t for t in timeline_types(client, h.case_id) if t != "certificate.issued"]
    shown = client.get(path)
    assert shown.status_code == 410 and "This link is no longer valid" in shown.text
    answer = client.post(path, data={**fields, "action": "dispute", "reason": "Too late, but still."})
    assert answer.status_code == 410 and "This link is no longer valid" in answer.text
    assert client.get(f"/api/v1/receipts/{receipt['id']}").json()["status"] == "sent"
    assert client.get(f"/api/v1/cases/{h.case_id}").json()["status"] == "fully_offboarded"
    assert [t for t in timeline_types(client, h.case_id) if t != "certificate.issued"] == before
    # A dispute and its resolution reopen the case; the links stay voided.
    assert client.post(f"/api/v1/cases/{h.case_id}/dispute", json={"reason": "late claim"}).status_code == 200
    assert client.post(f"/api/v1/cases/{h.case_id}/resolve", json={"reason": "withdrawn"}).status_code == 200
    for link in links:
        again = client.get(path_of(link["url"]))
        assert again.status_code == 410 and "This link is no longer valid" in again.text


def test_form_errors_are_shown_on_the_page(client: TestClient) -> None:
    h = handover(client)
    receipt = create_receipt(client, h)
    path = path_of(send_manual(client, receipt["id"])["links"][0]["url"])
    fields = form_of(client.get(path).text)
    cases = [
        ({"action": "acknowledge", "name": "  ", "consent": "yes"}, "type your full name"),
        ({"action": "acknowledge", "name": "Jane"}, "tick the confirmation box"),
        ({"action": "dispute", "reason": " "}, "a dispute needs a reason"),
        ({"action": "acknowledge", "name": "Jane", "consent": "yes", "shown": "0" * 64}, "not the current receipt"),
        ({"action": "maybe"}, "choose Acknowledge or Dispute"),
    ]
    for data, message in cases:
        response = client.post(path, data={**fields, **data})
        assert response.status_code == 400, data
        assert message in response.text, data
        assert 'role="alert"' in response.text
    # CSRF: a missing or different form token, or a foreign Origin, is refused before anything happens.
    ok = {"action": "acknowledge", "name": "Jane", "consent": "yes", "shown": fields["shown"]}
    assert client.post(path, data={**ok, "csrf": "forged" * 8}).status_code == 403
    assert (
        client.post(path, data={**ok, "csrf": fields["csrf"]}, headers={"Origin": "https://evil.example"}).status_code
        == 403
    )
    assert TestClient(client.app).post(path, data={**ok, "csrf": fields["csrf"]}).status_code == 403  # no cookie
    assert client.get(f"/api/v1/receipts/{receipt['id']}").json()["status"] == "sent"
    # Browsers send "Origin: null" under Referrer-Policy no-referrer; that is not a foreign site.
    assert client.post(path, data={**ok, "csrf": fields["csrf"]}, headers={"Origin": "null"}).status_code == 200


def test_dispute_moves_the_case_to_disputed_and_keeps_the_gate_closed(client: TestClient) -> None:
    h = handover(client)
    receipt = create_receipt(client, h)
    path = path_of(send_manual(client, receipt["id"])["links"][0]["url"])
    fields = form_of(client.get(path).text)
    reason = "The source archive is missing the design files."
    done = client.post(path, data={**fields, "action": "dispute", "reason": reason})
    assert done.status_code == 200, done.text
    assert "Your dispute was recorded" in done.text and reason in done.text
    got = client.get(f"/api/v1/receipts/{receipt['id']}").json()
    assert got["status"] == "disputed" and got["dispute_reason"] == reason and got["acknowledgment"] is None
    case = client.get(f"/api/v1/cases/{h.case_id}").json()
    assert case["status"] == "disputed"
    events = client.get(f"/api/v1/cases/{h.case_id}/timeline").json()
    disputed = next(e for e in events if e["type"] == "receipt.disputed")
    assert disputed["data"]["reason"] == reason and disputed["actor"] == f"client:{CONTACT}"
    status = next(e for e in events if e["type"] == "case.status_changed" and e["data"]["to"] == "disputed")
    assert reason in status["data"]["reason"]
    # The link is spent (and says so); the receipt can neither be acknowledged nor sent again.
    spent = client.get(path)
    assert spent.status_code == 410 and "to dispute the handover receipt" in spent.text
    problem(client.post(f"/api/v1/receipts/{receipt['id']}/send"), 409, "disputed")
    missing = client.post(f"/api/v1/cases/{h.case_id}/close").json()["missing"]
    assert {
        "kind": "acknowledgment",
        "receipt": receipt["id"],
        "reason": f"handover receipt {receipt['id']} was disputed by the client",
    } in missing


def test_acknowledging_one_contact_voids_the_other_contacts_links(client: TestClient) -> None:
    h = handover(client, contacts=[CONTACT, "cfo@acme.example"])
    receipt = create_receipt(client, h)
    first, second = (path_of(link["url"]) for link in send_manual(client, receipt["id"])["links"])
    page = client.get(second)
    assert acknowledge(client, first).status_code == 200
    late = client.post(second, data={**form_of(page.text), "action": "acknowledge", "name": "CFO", "consent": "yes"})
    assert late.status_code == 410 and "This link is no longer valid" in late.text
    assert client.get(f"/api/v1/receipts/{receipt['id']}").json()["acknowledgment"]["recipient"] == CONTACT


def test_receipts_are_listed_per_case_and_hidden_from_other_organizations(client: TestClient, services: Any) -> None:
    h = handover(client)
    receipt = create_receipt(client, h)
    listed = client.get(f"/api/v1/cases/{h.case_id}/receipts").json()
    assert [r["id"] for r in listed] == [receipt["id"]]
    with Session(services.engine) as session:
        org_id = create_organization(session, name="Other agency").id
        session.commit()
    foreign = token(services, org_id, Role.ADMIN)
    problem(client.get(f"/api/v1/receipts/{receipt['id']}", headers=foreign), 404, "no receipt")
    problem(client.get(f"/api/v1/cases/{h.case_id}/receipts", headers=foreign), 404, "no case")
    problem(client.post(f"/api/v1/cases/{h.case_id}/receipts", json={}, headers=foreign), 404, "no case")
    problem(client.post(f"/api/v1/receipts/{receipt['id']}/send", headers=foreign), 404, "no receipt")
    problem(client.get(f"/api/v1/receipts/{receipt['id']}/pdf", headers=foreign), 404, "no receipt")
