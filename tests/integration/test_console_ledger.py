"""The ledger page (``/ledger``) through the console, on both backend pairs: the checkpoint and its note,
the verifier key, the timestamp status, a SHA-256 and a streamed file found and not found (only this
organization's evidence), a malformed hash inline, and the inclusion proof JSON that verifies."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from tests.integration.console_support import console_client, form_token, sign_in
from tests.integration.console_world import VIEWER, World, build_world, cheap_passwords
from vault.db import read_session
from vault.ledger.publish import head
from vault.ledger.verifiers import verify_inclusion

__all__ = ["cheap_passwords"]


@pytest.fixture
def world(app: Any, services: Any, initialized: Any, cheap_passwords: None) -> World:
    return build_world(app, services, initialized)


def test_the_page_shows_the_checkpoint_the_key_and_the_timestamp_status(services: Any, world: World) -> None:
    with console_client(services) as client:
        sign_in(client, VIEWER)
        page = client.get("/ledger")
        assert page.status_code == 200, page.text
        assert "Latest checkpoint" in page.text and "<pre" in page.text
        assert "data-copy-source" in page.text and "Current key" in page.text
        assert "OFFBOARD_TSA_URL</code> is not set" in page.text


def test_a_sha256_and_a_file_are_found_with_their_proof_and_others_are_not(services: Any, world: World) -> None:
    acme = b"deliverable of Acme Ltd"
    rival = b"deliverable of Rival Client GmbH"
    with console_client(services) as client:
        sign_in(client, VIEWER)
        found = client.get("/ledger", params={"sha256": hashlib.sha256(acme).hexdigest().upper()})
        assert found.status_code == 200 and "Found: stored 1 time" in found.text
        assert "final.pdf" in found.text and f'href="/cases/{world.a.ids["case_id"]}"' in found.text
        assert "/ledger/entries/" in found.text
        other = client.get("/ledger", params={"sha256": hashlib.sha256(rival).hexdigest()})
        assert "Not found" in other.text and "Rival" not in other.text  # another organization's file
        bad = client.get("/ledger", params={"sha256": "abc"})
        assert bad.status_code == 400 and 'id="sha256-error"' in bad.text and "64 hexadecimal" in bad.text
        token = form_token(found.text)
        upload = client.post("/ledger/check-file", data={"csrf": token}, files={"file": ("mine.pdf", acme)})
        assert upload.status_code == 200 and "Found: stored 1 time" in upload.text and "mine.pdf" in upload.text
        empty = client.post("/ledger/check-file", data={"csrf": token}, files={"file": ("", b"")})
        assert empty.status_code == 400 and "Choose a file" in empty.text
        unsigned = client.post("/ledger/check-file", files={"file": ("mine.pdf", acme)})
        assert unsigned.status_code == 403


def test_the_inclusion_proof_is_the_api_proof_and_verifies(services: Any, world: World) -> None:
    with console_client(services) as client:
        sign_in(client, VIEWER)
        index = int(world.a.ids["index"])
        proof = client.get(f"/ledger/entries/{index}/proof")
        assert proof.status_code == 200 and proof.headers["content-type"] == "application/json"
        body = proof.json()
        assert client.get(f"/ledger/entries/{10**9}/proof").status_code == 400
    with read_session(services.engine) as session:
        root = head(session, world.a.organization_id, body["tree_size"]).root_hash
    hashes = [base64.b64decode(h) for h in body["hashes"]]
    verify_inclusion(base64.b64decode(body["leaf_hash"]), index, body["tree_size"], hashes, root)
