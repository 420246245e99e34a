"""The witness's add-checkpoint over HTTP, in process (``api/witness_app.py`` on ``vault/witness``): every
status tlog-witness prescribes, with logs built from the test-only reference tree (issue 16, req. 3)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from api.witness_app import create_witness_app
from signing.cosignature import cosigner_of, verified_cosignatures
from signing.keys import Signer, generate_key
from tests.unit.reference_tree import mth, proof
from vault.ledger.checkpoint import CheckpointBody, sign_checkpoint
from vault.ledger.hashing import RootHash
from vault.witness.cosigner import Witness
from vault.witness.submission import submission_text
from vault.witness.witness_home import init_witness, open_witness

ORIGIN = "log.example/default"
NOW = datetime(2026, 12, 3, 12, 0, 0, tzinfo=UTC)
ENTRIES = [f"entry {i}".encode() for i in range(40)]


def _seeded(byte: int) -> Callable[[int], bytes]:
    return lambda n: bytes([byte]) * n


@pytest.fixture
def log_key() -> Signer:
    return generate_key(ORIGIN, random=_seeded(1))


@pytest.fixture
def witness(tmp_path: Path, log_key: Signer) -> Witness:
    init_witness(tmp_path, name="witness.example/w1")
    return open_witness(tmp_path, [log_key.verifier.vkey()], clock=lambda: NOW)


@pytest.fixture
def client(witness: Witness) -> TestClient:
    return TestClient(create_witness_app(witness))


def _checkpoint(signer: Signer, entries: list[bytes], origin: str = ORIGIN) -> str:
    return sign_checkpoint(CheckpointBody(origin=origin, size=len(entries), root_hash=RootHash(mth(entries))), [signer])


def _submit(client: TestClient, old: int, hashes: list[bytes], checkpoint: str) -> tuple[int, str, str]:
    response = client.post("/add-checkpoint", content=submission_text(old, hashes, checkpoint).encode())
    return response.status_code, response.headers.get("content-type", ""), response.text


def test_cosigns_a_first_checkpoint_then_a_consistent_one(
    client: TestClient, witness: Witness, log_key: Signer
) -> None:
    first = _checkpoint(log_key, ENTRIES[:7])
    status, _, lines = _submit(client, 0, [], first)
    assert status == 200, lines
    (cosignature,) = verified_cosignatures(first + lines, [cosigner_of(witness.signer)])
    assert cosignature.timestamp == int(NOW.timestamp())
    second = _checkpoint(log_key, ENTRIES[:23])
    status, _, lines = _submit(client, 7, proof(7, ENTRIES[:23]), second)
    assert status == 200, lines
    assert verified_cosignatures(second + lines, [cosigner_of(witness.signer)])
    record = witness.state.get(ORIGIN)
    assert record is not None and (record.size, record.root_hash) == (23, mth(ENTRIES[:23]))
    origin_hash = hashlib.sha256(ORIGIN.encode()).hexdigest()
    assert client.get(f"/{origin_hash}/checkpoint").text == second + lines


def test_a_wrong_old_size_is_409_with_the_cosigned_size(client: TestClient, log_key: Signer) -> None:
    assert _submit(client, 0, [], _checkpoint(log_key, ENTRIES[:5]))[0] == 200
    status, content_type, body = _submit(client, 0, [], _checkpoint(log_key, ENTRIES[:9]))
    assert (status, content_type.split(";")[0], body) == (409, "text/x.tlog.size", "5\n")
    status, _, body = _submit(client, 3, proof(3, ENTRIES[:9]), _checkpoint(log_key, ENTRIES[:9]))
    assert (status, body) == (409, "5\n")


def test_a_bad_proof_or_a_fork_is_422_and_the_state_stays(
    client: TestClient, witness: Witness, log_key: Signer
) -> None:
    assert _submit(client, 0, [], _checkpoint(log_key, ENTRIES[:5]))[0] == 200
    good = proof(5, ENTRIES[:9])
    bad = [good[0], hashlib.sha256(b"wrong").digest(), *good[2:]]
    status, _, body = _submit(client, 5, bad, _checkpoint(log_key, ENTRIES[:9]))
    assert status == 422 and "consistency proof" in body
    forked = ENTRIES[:4] + [b"rewritten"] + ENTRIES[5:9]
    status, _, body = _submit(client, 5, proof(5, forked), _checkpoint(log_key, forked))
    assert status == 422
    status, _, body = _submit(client, 5, [], _checkpoint(log_key, forked[:5]))
    assert status == 422 and "forked" in body
    status, _, body = _submit(client, 0, [b"\x00" * 32], _checkpoint(log_key, ENTRIES[:5]))
    assert status == 422
    record = witness.state.get(ORIGIN)
    assert record is not None and record.size == 5


def test_the_same_checkpoint_again_is_cosigned_again(client: TestClient, log_key: Signer) -> None:
    checkpoint = _checkpoint(log_key, ENTRIES[:5])
    assert _submit(client, 0, [], checkpoint)[0] == 200
    assert _submit(client, 5, [], checkpoint)[0] == 200


def test_unknown_logs_untrusted_signatures_and_bad_bodies(client: TestClient, log_key: Signer) -> None:
    other = generate_key("other.example/log", random=_seeded(2))
    assert _submit(client, 0, [], _checkpoint(other, ENTRIES[:3], origin="other.example/log"))[0] == 404
    impostor = generate_key(ORIGIN, random=_seeded(3))
    assert _submit(client, 0, [], _checkpoint(impostor, ENTRIES[:3]))[0] == 403
    tampered = _checkpoint(log_key, ENTRIES[:3]).replace("\n3\n", "\n4\n", 1)
    assert _submit(client, 0, [], tampered)[0] == 403
    assert _submit(client, 9, [], _checkpoint(log_key, ENTRIES[:3]))[0] == 400
    assert client.post("/add-checkpoint", content=b"old 01\n\nx\n").status_code == 400
    assert client.post("/add-checkpoint", content=b"garbage").status_code == 400
    assert client.post("/add-checkpoint", content=b"x" * 70_000).status_code == 413
    empty = sign_checkpoint(CheckpointBody(origin=ORIGIN, size=0, root_hash=RootHash(b"\x01" * 32)), [log_key])
    assert _submit(client, 0, [], empty)[0] == 422
