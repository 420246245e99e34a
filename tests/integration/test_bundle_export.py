"""Exporting bundles over HTTP and the CLI, on both backend pairs: the ZIP verifies with the pinned key,
the export is a ledger entry carrying the manifest's hash, the report shows absent values as absent, and
every error a user can hit answers with its status and message."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from signing.keys import parse_vkey
from tests.conftest import OWNER_EMAIL
from tests.helpers import cli_json, run_cli
from vault.bundle import bagit, layout
from vault.bundle.verify import verify_bundle
from vault.db import session_scope
from vault.orgs.organizations import Role, create_organization, create_token


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}


def open_case_with_evidence(client: TestClient) -> str:
    case = client.post("/api/v1/cases", json={"client_name": "Initech <b>&</b>", "owner_email": OWNER_EMAIL})
    assert case.status_code == 201, case.text
    case_id = str(case.json()["id"])
    for name, body in (("handover.pdf", b"%PDF-1.4 fake"), ("notes.txt", b"x" * 70_000)):
        response = client.post(
            f"/api/v1/cases/{case_id}/evidence", params={"filename": name, "kind": "deliverable"}, content=body
        )
        assert response.status_code == 201, response.text
    return case_id


def test_api_bundle_streams_and_verifies(client: TestClient, owner: str, tmp_path: Path) -> None:
    case_id = open_case_with_evidence(client)
    response = client.post(f"/api/v1/cases/{case_id}/bundle")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    name = f"offboard-case-{case_id}.zip"
    assert response.headers["content-disposition"] == f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"
    path = tmp_path / "case.zip"
    path.write_bytes(response.content)
    keys = client.get("/.well-known/offboard/keys").json()
    report = verify_bundle(path, pinned=[parse_vkey(k["vkey"]) for k in keys["keys"]])
    assert report.ok, report.failures
    assert report.case_id == case_id and report.origin == keys["origin"]

    files = members(response.content)
    size = int(response.headers["x-offboard-checkpoint-size"])
    assert report.checkpoint_size == size
    index = json.loads(files[layout.INDEX])
    assert [e["filename"] for e in index["evidence"]] == ["handover.pdf", "notes.txt"]
    assert all(i < size for i in index["entries"])
    assert report.complete and report.complete_from == index["entries"][0]
    # The export is recorded inside the bundle, as the last entry of the checkpoint, with what it holds.
    export_index = size - 1
    assert index["entries"][-1] == export_index
    exported = json.loads(files[layout.entry_path(export_index)])
    assert exported["type"] == "bundle.exported" and exported["case"] == case_id and exported["v"] == 2
    assert exported["data"]["format"] == layout.FORMAT
    assert exported["data"]["organization"] == index["organization"]
    held = sorted(({"id": e["id"], "sha256": e["sha256"]} for e in index["evidence"]), key=lambda e: e["id"])
    assert exported["data"]["evidence"] == held
    # Every entry of the case links to the one before; the first to none.
    previous = None
    for i in index["entries"]:
        body = json.loads(files[layout.entry_path(i)])
        assert body["prev"] == previous, i
        leaf = hashlib.sha256(b"\x00" + files[layout.entry_path(i)]).digest()
        previous = {"index": i, "leaf_hash": base64.b64encode(leaf).decode()}
    # The completed export is recorded after the bundle's checkpoint, with the manifest's hash.
    completed = json.loads(client.get(f"/api/v1/ledger/entries/{size}").content)
    assert completed["type"] == "bundle.completed" and completed["case"] == case_id
    assert completed["data"]["exported"] == export_index and completed["data"]["checkpoint_size"] == size
    assert completed["data"]["manifest_sha256"] == hashlib.sha256(files[layout.MANIFEST_SHA256]).hexdigest()
    assert completed["data"]["zip_sha256"] == hashlib.sha256(response.content).hexdigest()
    assert completed["prev"] == previous

    html = files[layout.REPORT_HTML].decode()
    assert "Initech &lt;b&gt;&amp;&lt;/b&gt;" in html and "<b>&</b>" not in html
    assert '<span class="absent">absent</span>' in html  # no notes, no close date, no acknowledgment
    assert "What each record proves" in html and "handover.pdf" in html
    assert files[layout.REPORT_PDF].startswith(b"%PDF-")
    assert b"<script>" in files[layout.VERIFY_HTML]

    # A second bundle carries the first export's entries.
    again = members(client.post(f"/api/v1/cases/{case_id}/bundle").content)
    assert {export_index, size} <= set(json.loads(again[layout.INDEX])["entries"])


def test_api_bundle_errors(client: TestClient, services: Any, initialized: Any, owner: str) -> None:
    missing = client.post("/api/v1/cases/nope/bundle")
    assert missing.status_code == 404 and "no case 'nope'" in missing.json()["detail"]
    case_id = open_case_with_evidence(client)
    with session_scope(services.engine) as session:
        viewer = create_token(session, organization_id=initialized.organization_id, name="v", role=Role.VIEWER)
        other = create_organization(session, name="Other Co")
        stranger = create_token(session, organization_id=other.id, name="s", role=Role.ADMIN)
    # A viewer sees and exports but changes nothing (issue 13): the export is custody, not a change.
    allowed = client.post(f"/api/v1/cases/{case_id}/bundle", headers={"Authorization": f"Bearer {viewer.secret}"})
    assert allowed.status_code == 200 and allowed.content[:4] == b"PK\x03\x04"
    hidden = client.post(f"/api/v1/cases/{case_id}/bundle", headers={"Authorization": f"Bearer {stranger.secret}"})
    assert hidden.status_code == 404
    anonymous = client.post(f"/api/v1/cases/{case_id}/bundle", headers={"Authorization": ""})
    assert anonymous.status_code == 401


def test_cli_export_and_verify(cli_env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli_json(capsys, "init")
    cli_json(capsys, "staff", "add", "pm@agency.example")
    case_id = cli_json(capsys, "case", "open", "--client", "Globex", "--owner", "pm@agency.example")["id"]
    evidence = tmp_path / "report.txt"
    evidence.write_bytes(b"deliverable\n")
    cli_json(capsys, "evidence", "add", "--case", case_id, str(evidence))
    target = tmp_path / "case.zip"
    summary = cli_json(capsys, "bundle", "export", case_id, "-o", str(target))
    data = target.read_bytes()
    assert summary["zip_bytes"] == len(data) and summary["zip_sha256"] == hashlib.sha256(data).hexdigest()
    assert summary["payload_files"] == len([n for n in members(data) if n.startswith("data/")])
    assert summary["manifest_sha256"] == hashlib.sha256(members(data)[layout.MANIFEST_SHA256]).hexdigest()
    assert not list(tmp_path.glob(".case.zip.*"))  # no temporary file left behind
    vkey = cli_json(capsys, "ledger", "verifier-key")[0]["vkey"]
    code, out, _ = run_cli(capsys, "verify", str(target), "--key", vkey)
    assert code == 0 and "VERIFIED" in out
    assert "complete from the case's first entry" in out
    entry = json.loads(run_cli(capsys, "ledger", "entry", str(summary["ledger_index"]))[1])
    assert entry["type"] == "bundle.exported" and summary["ledger_index"] == summary["checkpoint_size"] - 1
    entry = json.loads(run_cli(capsys, "ledger", "entry", str(summary["completed_index"]))[1])
    assert entry["type"] == "bundle.completed" and entry["data"]["manifest_sha256"] == summary["manifest_sha256"]

    # --sha512 adds the SHA-512 pair for archives that demand it; the default bag has SHA-256 only.
    assert layout.MANIFEST_SHA512 not in members(data)
    both = tmp_path / "case-sha512.zip"
    cli_json(capsys, "bundle", "export", case_id, "-o", str(both), "--sha512")
    bagged = members(both.read_bytes())
    assert {layout.MANIFEST_SHA512, layout.TAGMANIFEST_SHA512} <= bagged.keys()
    listed = bagit.parse_manifest(bagged[layout.TAGMANIFEST_SHA256], "sha256", layout.TAGMANIFEST_SHA256)
    assert layout.MANIFEST_SHA512 in listed
    code, out, _ = run_cli(capsys, "verify", str(both), "--key", vkey)
    assert code == 0 and "VERIFIED" in out

    code, _, err = run_cli(capsys, "bundle", "export", case_id, "-o", str(tmp_path))
    assert code == 1 and "is a directory" in err
    code, _, err = run_cli(capsys, "bundle", "export", "0000000f", "-o", str(tmp_path / "x.zip"))
    assert code == 1 and "no case '0000000f'" in err and not (tmp_path / "x.zip").exists()
    code, _, err = run_cli(capsys, "bundle", "export", "no-such-case", "-o", str(tmp_path / "x.zip"))
    assert code == 2 and "'no-such-case' is not an id" in err and not (tmp_path / "x.zip").exists()
