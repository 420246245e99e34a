"""The ledger page (``/ledger``) through the console, on both backend pairs: the checkpoint and its note,
the verifier key, the timestamp status, a SHA-256 and a streamed file found and not found (only this
organization's evidence), a malformed hash inline, the inclusion proof JSON that verifies, and the witnesses:
each one, the policy and a verdict line that says NOT witnessed until the policy's cosignatures are stored."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from signing.cosignature import cosign, cosigner_of
from signing.keys import Signer, generate_key
from signing.note import parse_note
from tests.integration.console_support import console_client, form_token, sign_in
from tests.integration.console_world import VIEWER, World, build_world, cheap_passwords
from vault.db import read_session
from vault.ledger import service
from vault.ledger.publish import head, latest_checkpoint
from vault.ledger.verifiers import verify_inclusion
from vault.models import Organization
from vault.orgs.organizations import Principal, Role
from vault.witnessing.cosigners import check_cosignatures, parse_witness_key
from vault.witnessing.exchange import Answer, Outcome
from vault.witnessing.roster import add_witness, find_witness, set_witness_policy
from vault.witnessing.submitter import Job, Result, record

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


def _configure(services: Any, organization_id: str, signers: list[Signer], policy: str) -> None:
    admin = Principal(organization_id, Role.ADMIN, "test:admin")

    def work(session: Any) -> None:
        for n, signer in enumerate(signers):
            add_witness(session, admin, url=f"https://w{n}.example/{signer.name}", vkey=cosigner_of(signer).vkey())
        set_witness_policy(session, admin, policy)
        org = session.get(Organization, organization_id)
        service.current_checkpoint(session, services.settings, org, clock=services.clock)

    services.transact(work)


def _cosigned_by(services: Any, organization_id: str, signer: Signer) -> None:
    """The witness client's path for one answer: the line is verified with the witness's key, then recorded."""

    def work(session: Any) -> None:
        latest = latest_checkpoint(session, organization_id)
        witness = find_witness(session, organization_id, signer.name)
        line = cosign(signer, parse_note(latest.note).body, 1_800_000_000).to_line()
        found = check_cosignatures(latest.note, [line], parse_witness_key(witness.vkey))
        job = Job(organization_id, witness.id, witness.url, witness.vkey, 0, latest.id, latest.size, latest.note)
        answer = Answer(Outcome.COSIGNED, "cosigned", lines=(line,))
        record(session, Result(job, answer, latest.size, cosignatures=tuple(found)), clock=services.clock)

    services.transact(work)


def test_the_witnesses_and_a_verdict_that_is_never_witnessed_by_default(services: Any, world: World) -> None:
    first, second = generate_key("witness.example/first"), generate_key("witness.example/second")
    org = world.a.organization_id
    _configure(services, world.b.organization_id, [generate_key("rival.example/theirs")], "1")
    with console_client(services) as client:
        sign_in(client, VIEWER)
        page = client.get("/ledger")
        assert page.status_code == 200, page.text
        assert "<strong>NOT witnessed: no witnesses are configured</strong>" in page.text
        assert "rival.example" not in page.text  # another organization's witness

        _configure(services, org, [first, second], "all")
        _cosigned_by(services, org, first)
        page = client.get("/ledger")
        assert "<strong>NOT witnessed: 1 of 2 cosigned</strong>" in page.text
        assert 'class="witness-verdict unwitnessed"' in page.text
        assert "2 of 2 (all of them) must cosign" in page.text
        assert 'id="witness-cosigners">witness.example/first</dd>' in page.text
        assert "https://w1.example/witness.example/second" in page.text
        assert page.text.count(">Cosigned</span>") == 1 and page.text.count(">Not cosigned</span>") == 1
        assert "— witness.example/first " in page.text  # the cosigned note

        _cosigned_by(services, org, second)
        page = client.get("/ledger")
        assert "<strong>witnessed</strong>" in page.text and 'class="witness-verdict witnessed"' in page.text
        assert 'id="witness-cosigners">witness.example/first, witness.example/second</dd>' in page.text
        assert page.text.count(">Cosigned</span>") == 2 and "Not cosigned" not in page.text

        _configure(services, org, [generate_key("third")], "1")  # the log grows: a new checkpoint
        page = client.get("/ledger")
        assert "<strong>NOT witnessed: 0 of 1 cosigned</strong>" in page.text  # a new checkpoint, not yet cosigned
        assert "1 of 3 must cosign" in page.text and 'id="witness-cosigners">nobody yet</dd>' in page.text
