"""The court-ready packaging in ``data/legal/`` (issue 17, requirement 5): generated from the case's entries,
checked by ``offboard verify``, validated by bagit-python, absent from bundles whose export entry does not
record it, and the export's recipient taken from the CLI and the API into the chain of custody."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bagit
import pytest
from fastapi.testclient import TestClient

from signing.keys import parse_vkey
from tests.helpers import cli_json, run_cli
from tests.integration.bundle_corpus import (
    Built,
    build_case,
    build_services_at,
    export,
    legal,
    rebag,
    rezip,
    unzip,
)
from tests.integration.test_bundle_export import members, open_case_with_evidence
from vault.bundle import layout, plan
from vault.bundle.legal_loadfile import LOADFILE_FIELDS
from vault.bundle.report import LEGAL_CLAIM
from vault.bundle.verify import verify_bundle
from vault.orgs.organizations import Principal, Role


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    services = build_services_at(tmp_path_factory.mktemp("legal-home"))
    try:
        yield build_case(services, timestamp=False)
    finally:
        services.close()


def _verify(built: Built, data: bytes, tmp_path: Path, name: str = "case.zip") -> Any:
    path = tmp_path / name
    path.write_bytes(data)
    return verify_bundle(path, pinned=[parse_vkey(built.vkey)])


def test_chain_of_custody_lists_every_export_and_retrieval(built: Built) -> None:
    files = unzip(built.zip_bytes)[1]
    custody = json.loads(files[layout.CUSTODY_JSON])
    assert custody["format"] == layout.LEGAL_FORMAT and custody["case"] == built.case_id
    exports = [r for r in custody["records"] if r["event"] == "export"]
    (retrieval,) = [r for r in custody["records"] if r["event"] == "retrieval"]
    # The earlier export, completed: its manifest hash names exactly the bundle that was handed out.
    earlier_manifest = unzip(built.earlier_zip)[1][layout.MANIFEST_SHA256]
    assert exports[0]["manifest_sha256"] == hashlib.sha256(earlier_manifest).hexdigest()
    assert exports[0]["zip_sha256"] == hashlib.sha256(built.earlier_zip).hexdigest()
    assert exports[0]["recipient"] is None and isinstance(exports[0]["completed_index"], int)
    # This export: its own entry, the last of the bundle; its hashes follow in a later entry.
    assert exports[-1]["ledger_index"] == built.ledger_index == custody["checkpoint_size"] - 1
    assert exports[-1]["recipient"] == "Counsel for Globex «LLP»" and exports[-1]["manifest_sha256"] is None
    assert retrieval["channel"] == "cli" and retrieval["filename"] == "final report.txt"
    text = files[layout.CUSTODY_TXT].decode()
    assert f"[{built.ledger_index}]" in text and "this bundle: its hashes are recorded after it" in text
    assert exports[0]["manifest_sha256"] in text and "Evidence retrievals (1):" in text
    rows = list(csv.DictReader(io.StringIO(files[layout.CUSTODY_CSV].decode(), newline="")))
    assert [int(r["ledger_index"]) for r in rows] == [r["ledger_index"] for r in custody["records"]]
    assert files[layout.CUSTODY_CSV].endswith(b"\r\n")


def test_load_files_list_every_evidence_file(built: Built) -> None:
    files = unzip(built.zip_bytes)[1]
    index = json.loads(files[layout.INDEX])
    dat = files[layout.LOADFILE_DAT]
    assert dat.startswith("\ufeff".encode()) and dat.endswith(b"\r\n")
    lines = dat.decode("utf-8")[1:].split("\r\n")[:-1]
    header = [field.strip("\u00fe") for field in lines[0].split("\u0014")]
    assert tuple(header) == LOADFILE_FIELDS
    table = list(csv.DictReader(io.StringIO(files[layout.LOADFILE_CSV].decode("utf-8"), newline="")))
    assert len(lines) - 1 == len(table) == len(index["evidence"]) == 3
    prefix = "OFFB-" + built.case_id.replace("-", "")[:8].upper()
    for number, (line, row) in enumerate(zip(lines[1:], table, strict=True), start=1):
        values = dict(zip(LOADFILE_FIELDS, (f.strip("\u00fe") for f in line.split("\u0014")), strict=True))
        assert values == row
        item = next(e for e in index["evidence"] if e["id"] == row["EVIDENCE_ID"])
        assert row["CONTROL_NUMBER"] == f"{prefix}-{number:06d}"
        assert (
            row["BAG_PATH"] == item["path"]
            and row["SHA256"] == item["sha256"] == hashlib.sha256(files[item["path"]]).hexdigest()
        )
        assert row["MD5"] == hashlib.md5(files[item["path"]], usedforsecurity=False).hexdigest()
        assert row["SIZE"] == str(item["size"]) and row["KIND"] == "deliverable"
        assert row["CUSTODIAN"] == "test:bundle" and row["FILE_NAME"] == item["filename"]
        assert row["LEDGER_INDEX"] == str(item["ledger_index"]) and row["STORED_DATE"].endswith("Z")


def test_declarations_are_marked_drafts_with_the_facts(built: Built) -> None:
    files = unzip(built.zip_bytes)[1]
    index = json.loads(files[layout.INDEX])
    for path in (layout.DECLARATION_902, layout.DECLARATION_NEUTRAL):
        text = files[path].decode()
        assert text.startswith("=" * 100 + "\nDRAFT TEMPLATE - NOT A SIGNED DECLARATION")
        assert all(item["sha256"] in text and item["path"] in text for item in index["evidence"])
        assert "SHA-256" in text and "RFC 9162" in text and f"tree size  {index['checkpoint']['size']}" in text
        assert "Signature:        ____" in text
    assert "902(14)" in files[layout.DECLARATION_902].decode()
    assert "902(14)" not in files[layout.DECLARATION_NEUTRAL].decode()
    report = files[layout.REPORT_HTML].decode()
    assert LEGAL_CLAIM[0] in report and "unsigned drafts" in report


def test_verify_checks_every_legal_file_and_bagit_validates(built: Built, tmp_path: Path) -> None:
    report = _verify(built, built.zip_bytes, tmp_path)
    assert report.ok, report.failures
    legal = {c.item: c.detail for c in report.checks if c.kind == "legal" and c.ok}
    assert set(legal) == set(layout.LEGAL_FILES)
    assert (
        legal[layout.LOADFILE_DAT]
        == "3 rows match their evidence.stored entries and the files' SHA-256; 2 of their MD5s match their "
        "evidence.md5 entries (the others are not checked)"
    )
    with zipfile.ZipFile(io.BytesIO(built.zip_bytes)) as archive:
        archive.extractall(tmp_path / "bag")
    (bag_dir,) = list((tmp_path / "bag").iterdir())
    bag = bagit.Bag(str(bag_dir))
    bag.validate()
    assert {p for p in bag.payload_files() if p.startswith(layout.LEGAL_DIR)} == set(layout.LEGAL_FILES)


@pytest.mark.parametrize("name", ["legal-loadfile-wrong-hash", "legal-custody-export-removed"])
def test_tampered_legal_file_is_the_only_failure(name: str, built: Built, tmp_path: Path) -> None:
    case = next(c for c in legal(*unzip(built.zip_bytes)) if c.name == name)
    report = _verify(built, case.data, tmp_path)
    assert {c.kind for c in report.failures} == {"legal"}, report.failures
    failed = {c.item: c.detail for c in report.failures}
    if name == "legal-custody-export-removed":
        # All three renderings lose the record; the JSON one says which, the other two where they differ.
        assert set(failed) == {layout.CUSTODY_JSON, layout.CUSTODY_TXT, layout.CUSTODY_CSV}
        assert case.names in failed[layout.CUSTODY_JSON] and "is missing from the record" in failed[layout.CUSTODY_JSON]
    else:
        assert set(failed) == {layout.LOADFILE_DAT} and "row OFFB-" in failed[layout.LOADFILE_DAT]
        assert case.names in failed[layout.LOADFILE_DAT]


def test_more_legal_tampering(built: Built, tmp_path: Path) -> None:
    root, files = unzip(built.zip_bytes)
    table = files[layout.LOADFILE_CSV].decode().replace("deliverable", "other", 1).encode()
    custody = json.loads(files[layout.CUSTODY_JSON])
    custody["records"][-1]["recipient"] = "Someone else"
    cases = {
        "csv-kind": ({**files, layout.LOADFILE_CSV: table}, layout.LOADFILE_CSV, "KIND is 'other'"),
        "custody-recipient": (
            {**files, layout.CUSTODY_JSON: json.dumps(custody).encode()},
            layout.CUSTODY_JSON,
            "recipient is 'Someone else'",
        ),
        "declaration": (
            {**files, layout.DECLARATION_902: files[layout.DECLARATION_902].replace(b"DRAFT", b"FINAL", 1)},
            layout.DECLARATION_902,
            "at line 2",
        ),
        "planted": ({**files, "data/legal/extra.txt": b"x"}, "data/legal/extra.txt", "unexpected file"),
        "dropped": (
            {p: d for p, d in files.items() if p != layout.DECLARATION_NEUTRAL},
            layout.DECLARATION_NEUTRAL,
            "missing",
        ),
    }
    for name, (changed, item, detail) in cases.items():
        report = _verify(built, rezip(root, rebag(changed)), tmp_path, f"{name}.zip")
        assert any(c.kind == "legal" and c.item == item and detail in c.detail for c in report.failures), (
            name,
            report.failures,
        )


def test_a_bundle_whose_export_records_no_legal_packaging(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What an Offboard before the legal packaging exported: no ``legal`` in the export entry, no data/legal,
    no claims row; it verifies. Legal files added to it fail as unexpected."""
    original = plan.export_draft

    def without_legal(*args: Any, **kwargs: Any) -> Any:
        draft = original(*args, **kwargs)
        draft.data.pop("legal")
        return draft

    monkeypatch.setattr(plan, "export_draft", without_legal)
    principal = Principal(json.loads(unzip(built.zip_bytes)[1][layout.INDEX])["organization"]["id"], Role.ADMIN, "t")
    data = export(built.services, principal, built.case_id)[0]
    root, files = unzip(data)
    assert not any(p.startswith(layout.LEGAL_DIR) for p in files)
    assert LEGAL_CLAIM[0].encode() not in files[layout.REPORT_HTML]
    assert _verify(built, data, tmp_path, "old.zip").ok
    legal = {p: d for p, d in unzip(built.zip_bytes)[1].items() if p.startswith(layout.LEGAL_DIR)}
    report = _verify(built, rezip(root, rebag({**files, **legal})), tmp_path, "old-planted.zip")
    assert {(c.kind, c.detail) for c in report.failures} == {
        ("legal", "unexpected: this bundle's export entry records no legal packaging")
    }


def test_cli_recipient(cli_env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli_json(capsys, "init")
    cli_json(capsys, "staff", "add", "pm@agency.example")
    case_id = cli_json(capsys, "case", "open", "--client", "Globex", "--owner", "pm@agency.example")["id"]
    target = tmp_path / "case.zip"
    cli_json(capsys, "bundle", "export", case_id, "-o", str(target), "--recipient", "Arbitrator (ICC 123)")
    custody = json.loads(members(target.read_bytes())[layout.CUSTODY_JSON])
    assert custody["records"][-1]["recipient"] == "Arbitrator (ICC 123)"
    code, _, err = run_cli(capsys, "bundle", "export", case_id, "-o", str(tmp_path / "x.zip"), "--recipient", "a\nb")
    assert code == 1 and "the recipient must be 1 to 200 printable characters" in err
    assert not (tmp_path / "x.zip").exists()


def test_api_recipient(client: TestClient, owner: str) -> None:  # noqa: ARG001 - the owner the case needs
    case_id = open_case_with_evidence(client)
    response = client.post(f"/api/v1/cases/{case_id}/bundle", params={"recipient": "Opposing counsel"})
    assert response.status_code == 200, response.text
    custody = json.loads(members(response.content)[layout.CUSTODY_JSON])
    assert custody["records"][-1]["recipient"] == "Opposing counsel"
    assert client.post(f"/api/v1/cases/{case_id}/bundle", params={"recipient": "x" * 201}).status_code == 422
    bad = client.post(f"/api/v1/cases/{case_id}/bundle", params={"recipient": "tab\there"})
    assert bad.status_code == 400 and "printable" in bad.text
