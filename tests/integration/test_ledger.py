"""The ledger through the API and the CLI, on both backend pairs: entries, proofs, checkpoints, keys,
tampering, time anchoring."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, select

from signing.keys import parse_vkey
from tests.conftest import OWNER_EMAIL
from tests.helpers import cli_json, run_cli
from vault.db import session_scope
from vault.errors import ConfigurationError, VerificationFailed
from vault.ledger import log
from vault.ledger import publish as publish_mod
from vault.ledger.checkpoint import PublishedCheckpoint, open_checkpoint
from vault.ledger.hashing import leaf_hash
from vault.ledger.proofs import ConsistencyProof, InclusionProof, TlogProof, verify_tlog_proof
from vault.ledger.tree import root_nodes_needed
from vault.ledger.verifiers import root_from_inclusion_proof, verify_consistency, verify_inclusion
from vault.models import Checkpoint, LedgerEntry, Organization, SigningKey
from vault.orgs.organizations import create_organization, create_token


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def add_entries(client: TestClient, count: int) -> str:
    case = client.post("/api/v1/cases", json={"client_name": "Initech", "owner_email": OWNER_EMAIL})
    assert case.status_code == 201, case.text
    case_id = case.json()["id"]
    for i in range(count):
        response = client.post(
            f"/api/v1/cases/{case_id}/evidence", params={"filename": f"f{i}.txt", "kind": "other"}, content=b"%d" % i
        )
        assert response.status_code == 201, response.text
    return str(case_id)


def verifier_for(client: TestClient) -> Any:
    keys = client.get("/.well-known/offboard/keys")
    assert keys.status_code == 200, keys.text
    body = keys.json()
    assert body["keys"] and all("PRIVATE" not in json.dumps(k) for k in body["keys"])
    return body["origin"], [parse_vkey(k["vkey"]) for k in body["keys"]]


def ledger_size(services: Any) -> int:
    with Session(services.engine) as session:
        return int(session.exec(text("SELECT max(idx) + 1 FROM ledger_entry")).one()[0])  # type: ignore[call-overload]


def entry_index(client: TestClient, entry_type: str) -> int:
    index = 0
    while True:
        raw = client.get(f"/api/v1/ledger/entries/{index}")
        assert raw.status_code == 200, f"no {entry_type} entry"
        if json.loads(raw.content)["type"] == entry_type:
            return index
        index += 1


@pytest.fixture(autouse=True)
def _owner(owner: str) -> None:
    """Every test here opens cases owned by the default organization's staff member."""


def test_entries_proofs_and_checkpoint_over_http(client: TestClient, services: Any) -> None:
    add_entries(client, 6)
    expected = ledger_size(services)
    origin, verifiers = verifier_for(client)
    note = client.get("/api/v1/ledger/checkpoint")
    assert note.status_code == 200 and note.headers["content-type"].startswith("text/plain")
    checkpoint = open_checkpoint(note.text, verifiers, origin=origin)
    size, root = checkpoint.body.size, checkpoint.body.root_hash
    assert size == expected >= 7

    for index in range(size):
        raw = client.get(f"/api/v1/ledger/entries/{index}")
        assert raw.status_code == 200
        assert b64(raw.headers["x-offboard-leaf-hash"]) == leaf_hash(raw.content)
        entry = json.loads(raw.content)
        assert {"type", "time", "organization", "case", "actor", "data"} <= entry.keys()
        proof = client.get("/api/v1/ledger/proof/inclusion", params={"index": index, "tree_size": size}).json()
        assert proof["index"] == index and proof["tree_size"] == size
        assert b64(proof["leaf_hash"]) == leaf_hash(raw.content)
        verify_inclusion(leaf_hash(raw.content), index, size, [b64(h) for h in proof["hashes"]], root)

    evidence_entry = json.loads(client.get(f"/api/v1/ledger/entries/{entry_index(client, 'evidence.stored')}").content)
    assert evidence_entry["type"] == "evidence.stored"
    assert {"sha256", "size", "filename", "kind", "storage_key", "version_id"} <= evidence_entry["data"].keys()
    assert evidence_entry["time"].endswith("Z") and len(evidence_entry["time"]) == 27  # microseconds

    # An earlier root (from an inclusion proof's implied tree) is consistent with the latest one.
    first_root = client.get("/api/v1/ledger/proof/inclusion", params={"index": 0, "tree_size": 3}).json()
    consistency = client.get("/api/v1/ledger/proof/consistency", params={"first": 3, "second": size}).json()
    assert consistency["first"] == 3 and consistency["second"] == size
    root3 = root_from_inclusion_proof(b64(first_root["leaf_hash"]), 0, 3, [b64(h) for h in first_root["hashes"]])
    verify_consistency(3, size, [b64(h) for h in consistency["hashes"]], root3, root)


@pytest.mark.parametrize(
    ("path", "params", "needle"),
    [
        ("/api/v1/ledger/proof/inclusion", {"index": 5, "tree_size": 5}, "index must be in [0, 5)"),
        ("/api/v1/ledger/proof/inclusion", {"index": "size"}, "index must be in [0, {size})"),
        ("/api/v1/ledger/proof/inclusion", {"index": 0, "tree_size": 999}, "beyond the log"),
        ("/api/v1/ledger/proof/consistency", {"first": 4, "second": 2}, "must not exceed"),
        ("/api/v1/ledger/proof/consistency", {"first": 0, "second": 2}, "first must be >= 1"),
        ("/api/v1/ledger/proof/consistency", {"first": 1, "second": 500}, "beyond the log"),
        ("/api/v1/ledger/entries/{size}", {}, "beyond the log"),
    ],
)
def test_bad_ranges_are_400_problems(
    client: TestClient, services: Any, path: str, params: dict[str, Any], needle: str
) -> None:
    add_entries(client, 6)
    size = ledger_size(services)
    path = path.replace("{size}", str(size))
    params = {k: (size if v == "size" else v) for k, v in params.items()}
    needle = needle.replace("{size}", str(size))
    response = client.get(path, params=params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert needle in response.json()["detail"]


def test_checkpoint_signed_within_one_second_of_append(client: TestClient, services: Any) -> None:
    add_entries(client, 1)
    size = ledger_size(services)
    deadline = time.monotonic() + 1.0
    covered = None
    while time.monotonic() < deadline and covered is None:
        with Session(services.engine) as session:
            covered = session.exec(select(Checkpoint).where(Checkpoint.size >= size)).first()
        time.sleep(0.02)
    assert covered is not None, "no checkpoint covering the append was signed within 1 s"


def test_each_organization_reads_only_its_own_log(client: TestClient, services: Any) -> None:
    add_entries(client, 3)
    with session_scope(services.engine) as session:
        other = create_organization(session, name="Other Co")
        token = create_token(session, organization_id=other.id, name="other", role="viewer")
        from vault.ledger import keyring

        keyring.ensure_key(session, services.settings, other)
    headers = {"Authorization": f"Bearer {token.secret}"}
    assert client.get("/api/v1/ledger/entries/0", headers=headers).status_code == 400  # its log is empty
    note = client.get("/api/v1/ledger/checkpoint", headers=headers).text
    assert note.split("\n")[1] == "0"
    assert "/other-co\n" in note.split("\n")[0] + "\n"
    keys = client.get("/.well-known/offboard/keys", headers=headers).json()
    mine = client.get("/.well-known/offboard/keys").json()
    assert {k["key_id"] for k in keys["keys"]}.isdisjoint({k["key_id"] for k in mine["keys"]})
    assert client.get("/api/v1/ledger/checkpoint", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_cli_ledger_commands(cli_env: Any, services: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = cli_json(capsys, "case", "open", "--client", "Umbrella", "--owner", OWNER_EMAIL)
    for i in range(4):
        f = tmp_path / f"doc{i}.txt"
        f.write_bytes(b"document %d" % i)
        cli_json(capsys, "evidence", "add", "--case", case["id"], str(f))

    code, note, _ = run_cli(capsys, "ledger", "checkpoint")
    assert code == 0
    code, vkey, _ = run_cli(capsys, "ledger", "verifier-key")
    verifier = parse_vkey(vkey.strip())
    signed = open_checkpoint(note, [verifier])
    size = ledger_size(services)
    assert signed.body.size == size
    second = size - 1  # the last evidence.stored entry

    code, raw, _ = run_cli(capsys, "ledger", "entry", str(second))
    assert code == 0 and json.loads(raw)["type"] == "evidence.stored"

    code, proof_text, _ = run_cli(capsys, "ledger", "prove", str(second))
    assert code == 0 and proof_text.startswith(f"c2sp.org/tlog-proof@v1\nindex {second}\n")
    proof = TlogProof.from_text(proof_text)
    verify_tlog_proof(proof, leaf_hash(raw.encode()), [verifier], origin=signed.body.origin)

    as_json = cli_json(capsys, "ledger", "prove", str(second), "--size", str(size))
    assert as_json["tree_size"] == size and len(as_json["hashes"]) == len(proof.hashes)
    consistency = cli_json(capsys, "ledger", "consistency", "2", str(size))
    assert consistency["first"] == 2 and consistency["second"] == size

    report = cli_json(capsys, "ledger", "verify")
    assert report["ok"] is True and report["size"] == size and report["checkpoints_checked"] >= 1

    code, _, stderr = run_cli(capsys, "ledger", "prove", str(size + 3))
    assert code == 1 and f"index must be in [0, {size})" in stderr


def _tamper_and_verify(capsys: pytest.CaptureFixture[str], services: Any, sql: str, **params: Any) -> dict[str, Any]:
    with session_scope(services.engine) as session:
        session.exec(text(sql).bindparams(**params))  # type: ignore[call-overload]
    code, out, _ = run_cli(capsys, "ledger", "verify", "--json")
    assert code == 1
    report: dict[str, Any] = json.loads(out)
    assert report["ok"] is False
    return report


@pytest.fixture
def ledger_with_entries(cli_env: Any, services: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    case = cli_json(capsys, "case", "open", "--client", "Hooli", "--owner", OWNER_EMAIL)
    for i in range(9):
        f = tmp_path / f"file{i}.bin"
        f.write_bytes(os.urandom(64))
        cli_json(capsys, "evidence", "add", "--case", case["id"], str(f))
    cli_json(capsys, "ledger", "checkpoint")  # every entry so far signed
    assert cli_json(capsys, "ledger", "verify")["ok"] is True
    return services


def test_cli_json_is_the_wire_values(ledger_with_entries: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """Each --json output parses as its one wire value, and the values agree with one another."""
    checkpoint = PublishedCheckpoint.from_json(cli_json(capsys, "ledger", "checkpoint"))
    vkey = run_cli(capsys, "ledger", "verifier-key")[1]
    assert open_checkpoint(checkpoint.to_text(), [parse_vkey(vkey.strip())]).body == checkpoint.body
    size = checkpoint.size
    inclusion = InclusionProof.from_json(cli_json(capsys, "ledger", "prove", "0", "--size", str(size)))
    entry = run_cli(capsys, "ledger", "entry", "0")[1].encode()
    assert inclusion.leaf_hash == leaf_hash(entry)
    inclusion.verify(leaf_hash(entry), checkpoint.root_hash)
    small = InclusionProof.from_json(cli_json(capsys, "ledger", "prove", "0", "--size", "2"))
    consistency = ConsistencyProof.from_json(cli_json(capsys, "ledger", "consistency", "2", str(size)))
    assert (consistency.first, consistency.second) == (2, size)
    root2 = root_from_inclusion_proof(small.leaf_hash, 0, 2, list(small.hashes))
    consistency.verify(root2, checkpoint.root_hash)


def test_verify_names_edited_entry(ledger_with_entries: Any, capsys: pytest.CaptureFixture[str]) -> None:
    report = _tamper_and_verify(
        capsys,
        ledger_with_entries,
        "UPDATE ledger_entry SET body = :body WHERE idx = 4",
        body=b'{"forged":true}',
    )
    assert report["first_bad_index"] == 4


def test_verify_names_edited_entry_with_recomputed_leaf(
    ledger_with_entries: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    forged = b'{"forged":true}'
    report = _tamper_and_verify(
        capsys,
        ledger_with_entries,
        "UPDATE ledger_entry SET body = :body, leaf_hash = :leaf WHERE idx = 6",
        body=forged,
        leaf=leaf_hash(forged),
    )
    assert report["first_bad_index"] == 6


def test_verify_names_deleted_entry(ledger_with_entries: Any, capsys: pytest.CaptureFixture[str]) -> None:
    report = _tamper_and_verify(capsys, ledger_with_entries, "DELETE FROM ledger_entry WHERE idx = 3")
    assert report["first_bad_index"] == 3


def test_verify_names_reordered_entries(ledger_with_entries: Any, capsys: pytest.CaptureFixture[str]) -> None:
    services = ledger_with_entries
    with session_scope(services.engine) as session:
        a = session.exec(select(LedgerEntry).where(LedgerEntry.idx == 2)).one()
        b = session.exec(select(LedgerEntry).where(LedgerEntry.idx == 5)).one()
        a_body, a_leaf, b_body, b_leaf = bytes(a.body), bytes(a.leaf_hash), bytes(b.body), bytes(b.leaf_hash)
        a.body, a.leaf_hash, b.body, b.leaf_hash = b_body, b_leaf, a_body, a_leaf
        session.add(a)
        session.add(b)
    code, out, _ = run_cli(capsys, "ledger", "verify", "--json")
    assert code == 1 and json.loads(out)["first_bad_index"] == 2


def test_verify_names_inserted_entry(ledger_with_entries: Any, capsys: pytest.CaptureFixture[str]) -> None:
    services = ledger_with_entries
    size = ledger_size(services)
    with session_scope(services.engine) as session:
        org_id = session.exec(select(Organization.id)).first()
        session.add(
            LedgerEntry(
                organization_id=org_id,
                idx=size,
                leaf_hash=leaf_hash(b"{}"),
                body=b"{}",
                entry_type="x",
                case_id=None,
            )
        )
    code, out, _ = run_cli(capsys, "ledger", "verify", "--json")
    assert code == 1 and json.loads(out)["first_bad_index"] == size


def test_verify_catches_flipped_checkpoint_bit(ledger_with_entries: Any, capsys: pytest.CaptureFixture[str]) -> None:
    services = ledger_with_entries
    with session_scope(services.engine) as session:
        cp = session.exec(select(Checkpoint)).first()
        assert cp is not None
        raw = bytearray(cp.note.encode())
        raw[len(raw) - 10] ^= 0x01  # inside the signature's base64
        cp.note = raw.decode()
        session.add(cp)
    code, out, stderr = run_cli(capsys, "ledger", "verify")
    assert code == 1 and f"checkpoint of size {ledger_size(services)}" in stderr


def test_publish_refuses_to_sign_inconsistent_head(ledger_with_entries: Any) -> None:
    services = ledger_with_entries
    size = ledger_size(services)
    level, idx = root_nodes_needed(size)[0]  # the largest subtree the signed root was built from
    with session_scope(services.engine) as session:
        _overwrite_node(session, level, idx, b"\x00" * 32)
        org = session.exec(select(Organization)).first()
        # Append one entry so a new checkpoint is due; its root now disagrees with the signed one.
        from vault.ledger import log
        from vault.ledger.entries import EntryDraft

        log.append(session, EntryDraft("test.entry", org.id, None, "test", {}))
    before = _count_checkpoints(services)
    with pytest.raises(VerificationFailed), session_scope(services.engine) as session:
        publish_mod.publish(session, services.settings, session.exec(select(Organization)).first())
    assert _count_checkpoints(services) == before


def _overwrite_node(session: Session, level: int, idx: int, value: bytes) -> None:
    """Overwrite one stored tree node where it lives: a leaf hash, or a slice of ``parents``."""
    row = session.exec(select(LedgerEntry).where(LedgerEntry.idx == log.node_row((level, idx)))).one()
    if level == 0:
        row.leaf_hash = value
    else:
        parents = bytearray(row.parents)
        parents[32 * (level - 1) : 32 * level] = value
        row.parents = bytes(parents)
    session.add(row)


def _count_checkpoints(services: Any) -> int:
    with Session(services.engine) as session:
        return len(session.exec(select(Checkpoint)).all())


def test_unsafe_or_missing_key_refuses_to_start(settings: Any, services: Any, initialized: Any) -> None:
    from api.app import create_app

    with Session(services.engine) as session:
        key = session.exec(select(SigningKey)).one()
    path = settings.resolved_keys_dir / key.file_name
    assert (path.stat().st_mode & 0o777) == 0o600
    os.chmod(path, 0o644)
    with pytest.raises(ConfigurationError, match="mode 0644"), TestClient(create_app(settings, services=services)):
        pass
    os.chmod(path, 0o600)
    path.rename(path.with_suffix(".moved"))
    with (
        pytest.raises(ConfigurationError, match="no private key file"),
        TestClient(create_app(settings, services=services)),
    ):
        pass
    with Session(services.engine) as session:
        assert len(session.exec(select(SigningKey)).all()) == 1, "no replacement key may be generated"


def test_rotation_keeps_old_checkpoints_verifiable(
    ledger_with_entries: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    old_vkey = run_cli(capsys, "ledger", "verifier-key")[1].strip()
    old_note = run_cli(capsys, "ledger", "checkpoint")[1]
    rotated = cli_json(capsys, "ledger", "rotate-key")
    assert rotated["vkey"] != old_vkey
    new_note = run_cli(capsys, "ledger", "checkpoint")[1]
    old_v, new_v = parse_vkey(old_vkey), parse_vkey(rotated["vkey"])
    old_size = open_checkpoint(old_note, [old_v]).body.size
    signed = open_checkpoint(new_note, [new_v])
    assert signed.body.size == old_size + 1 == rotated["ledger_index"] + 1  # the rotation entry itself
    with pytest.raises(VerificationFailed):
        open_checkpoint(new_note, [old_v])
    entry = json.loads(run_cli(capsys, "ledger", "entry", str(rotated["ledger_index"]))[1])
    assert entry["type"] == "key.rotated" and entry["data"] == {"old": old_vkey, "new": rotated["vkey"]}
    keys = cli_json(capsys, "ledger", "verifier-key", "--all")
    assert len(keys) == 2 and keys[0]["valid_until"] is not None and keys[1]["valid_until"] is None
    code, out, _ = run_cli(capsys, "ledger", "verify", "--json")
    assert json.loads(out)["problems"] == [] and code == 0


def test_entry_hash_is_sha256_of_prefixed_bytes(client: TestClient) -> None:
    add_entries(client, 1)
    raw = client.get("/api/v1/ledger/entries/0")
    assert b64(raw.headers["x-offboard-leaf-hash"]) == hashlib.sha256(b"\x00" + raw.content).digest()


def test_new_organization_gets_its_own_signing_key(cli_env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    created = cli_json(capsys, "org", "create", "Second Agency")
    code, note, _ = run_cli(capsys, "--org", created["slug"], "ledger", "checkpoint")
    assert code == 0, note
    their_key = parse_vkey(run_cli(capsys, "--org", created["slug"], "ledger", "verifier-key")[1].strip())
    our_key = parse_vkey(run_cli(capsys, "ledger", "verifier-key")[1].strip())
    assert their_key.key_id != our_key.key_id
    signed = open_checkpoint(note, [their_key])
    assert signed.body.origin.endswith(f"/{created['slug']}")
    with pytest.raises(VerificationFailed):
        open_checkpoint(note, [our_key])
