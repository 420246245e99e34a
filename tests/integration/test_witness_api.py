"""``/api/v1/ledger/witnesses`` on both backends (issue 16): add, list with the policy, set the policy, remove
by name or id, each a log entry as through the CLI; a malformed vkey, URL or policy is a 422 problem; member
and viewer tokens are refused; another organization's witness is not found."""

from __future__ import annotations

from typing import Any

import nacl.signing
from fastapi.testclient import TestClient
from sqlmodel import col, select

from signing.cosignature import CosignerVerifier
from vault.db import read_session, session_scope
from vault.models import LedgerEntry
from vault.orgs.organizations import Principal, Role, create_organization, create_token
from vault.witnessing.roster import add_witness

BASE = "/api/v1/ledger/witnesses"


def witness_vkey(name: str) -> str:
    """A fresh cosigner vkey (tlog-cosignature/v1, type 0x04) named ``name``."""
    public = nacl.signing.SigningKey.generate().verify_key.encode()
    return CosignerVerifier.from_public_key(name, public).vkey()


def _entry_types(services: Any, organization_id: str) -> list[str]:
    query = select(LedgerEntry.entry_type).where(LedgerEntry.organization_id == organization_id)
    with read_session(services.engine) as session:
        return [t for t in session.exec(query.order_by(col(LedgerEntry.idx))) if t.startswith("organization.witness")]


def test_add_list_policy_and_remove_are_logged(client: TestClient, services: Any, initialized: Any) -> None:
    first, second = witness_vkey("witness.example/one"), witness_vkey("witness.example/two")
    assert client.get(BASE).json() == {
        "witnesses": [],
        "policy": {"required": 0, "configured": 0, "all": True, "summary": "no witnesses are configured"},
    }
    made = client.post(BASE, json={"url": "https://one.witness.example/", "vkey": first})
    assert made.status_code == 201, made.text
    one = made.json()
    assert one["name"] == "witness.example/one" and one["url"] == "https://one.witness.example"
    assert one["vkey"] == first and one["status"] == "new" and one["last_attempt_at"] is None
    assert client.post(BASE, json={"url": "http://127.0.0.1:9/w", "vkey": second}).status_code == 201
    again = client.post(BASE, json={"url": "https://elsewhere.example", "vkey": first})
    assert again.status_code == 409 and "already configured" in again.json()["detail"]

    listed = client.get(BASE).json()
    assert [w["name"] for w in listed["witnesses"]] == ["witness.example/one", "witness.example/two"]
    assert listed["policy"] == {
        "required": 2, "configured": 2, "all": True, "summary": "2 of 2 witnesses must cosign",
    }  # fmt: skip
    policy = client.put(f"{BASE}/policy", json={"required": 1})
    assert policy.status_code == 200, policy.text
    assert policy.json() == {"required": 1, "configured": 2, "all": False, "summary": "1 of 2 witnesses must cosign"}
    assert client.put(f"{BASE}/policy", json={"required": "all"}).json()["required"] == 2

    assert client.delete(f"{BASE}/witness.example/one").status_code == 404  # a name with '/' is not a path
    assert client.delete(f"{BASE}/{one['id']}").status_code == 204
    two_id = listed["witnesses"][1]["id"]
    assert client.delete(f"{BASE}/{two_id}").status_code == 204
    assert client.delete(f"{BASE}/{two_id}").status_code == 404
    assert client.get(BASE).json()["witnesses"] == []
    assert _entry_types(services, initialized.organization_id) == [
        "organization.witness_added",
        "organization.witness_added",
        "organization.witness_policy_changed",
        "organization.witness_policy_changed",
        "organization.witness_removed",
        "organization.witness_removed",
    ]


def test_a_witness_is_removed_by_its_key_name(client: TestClient) -> None:
    vkey = witness_vkey("witness-one")
    assert client.post(BASE, json={"url": "https://w.example", "vkey": vkey}).status_code == 201
    assert client.delete(f"{BASE}/witness-one").status_code == 204
    assert client.get(BASE).json()["witnesses"] == []


def _problem(answer: Any, status: int, words: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert words in answer.json()["detail"], answer.json()


def test_a_bad_vkey_url_or_policy_is_a_422_problem(client: TestClient) -> None:
    vkey = witness_vkey("witness.example/w")
    plain_note_key = "example.com/log+12345678+" + "AQ" + "A" * 42 + "="
    _problem(client.post(BASE, json={"url": "https://w.example", "vkey": "nope"}), 422, "not a witness key")
    _problem(client.post(BASE, json={"url": "https://w.example", "vkey": plain_note_key}), 422, "not a witness key")
    _problem(client.post(BASE, json={"url": "ftp://w.example", "vkey": vkey}), 422, "http or https")
    _problem(client.post(BASE, json={"url": "https://u:p@w.example", "vkey": vkey}), 422, "no credentials")
    for value in (0, 101, "some", -1):
        _problem(client.put(f"{BASE}/policy", json={"required": value}), 422, "")
    _problem(client.put(f"{BASE}/policy", json={"required": 0}), 422, "a number from 1 to 100")
    extra = client.post(BASE, json={"url": "https://w.example", "vkey": vkey, "token": "x"})
    assert extra.status_code == 422 and extra.headers["content-type"].startswith("application/problem+json")
    assert client.get(BASE).json()["witnesses"] == []


def test_only_admins_and_only_their_organization(client: TestClient, services: Any, initialized: Any) -> None:
    with session_scope(services.engine) as session:
        tokens = [
            create_token(session, organization_id=initialized.organization_id, name=role, role=role).secret
            for role in ("member", "viewer")
        ]
        other = create_organization(session, name="Other Agency")
        theirs = add_witness(
            session, Principal(other.id, Role.ADMIN, "test:other"), url="https://o.example", vkey=witness_vkey("o")
        )
        theirs_id = theirs.id
    body = {"url": "https://w.example", "vkey": witness_vkey("w")}
    for secret in tokens:
        headers = {"Authorization": f"Bearer {secret}"}
        assert client.get(BASE, headers=headers).status_code == 403
        assert client.post(BASE, json=body, headers=headers).status_code == 403
        assert client.put(f"{BASE}/policy", json={"required": 1}, headers=headers).status_code == 403
        assert client.delete(f"{BASE}/{theirs_id}", headers=headers).status_code == 403
    assert client.get(BASE, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.delete(f"{BASE}/{theirs_id}").status_code == 404
    assert client.delete(f"{BASE}/o").status_code == 404
    assert client.get(BASE).json()["witnesses"] == []
