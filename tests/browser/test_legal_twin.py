"""``data/legal/`` has two checkers, ``vault/bundle/legal_checks.py`` and the ``Legal`` block of ``verify.html``:
on crafted entries with awkward text (þ, ®, U+0014, commas, quotes, newlines, emoji in file names, recipients
and client names; a cut-off export; a retrieval) the page accepts byte for byte what the Python generator
writes, and both reject the same edits, naming the same record or row."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from tests.report_entries import CASE, ORIGIN, entry
from vault.bundle import layout
from vault.bundle.legal import legal_files
from vault.bundle.legal_checks import LegalChecks
from vault.ledger.checkpoint import CheckpointBody
from vault.ledger.hashing import RootHash

PAGE = (Path(__file__).resolve().parents[2] / "templates" / "bundle" / "verify.html").as_uri()
ROOT = bytes(range(32))
SIZE = 40
WEIRD = 'þ"quoted", ® \u0014 comma, new\r\nline 🧾 e\u0301'

CHECK = """([entries, files, sha256, names, caseId, origin, size, root]) => {
    const bytes = (list) => Uint8Array.from(list);
    const checks = window.offboardLegal.legalChecks({
        entries: new Map(entries.map(([i, doc]) => [i, doc])),
        files: Object.fromEntries(Object.entries(files).map(([p, b]) => [p, bytes(b)])),
        sha256, names, caseId, cp: { origin, size, root: bytes(root) },
    });
    return checks.map((c) => [c.item, c.ok, c.detail]);
}"""


def crafted() -> list[tuple[int, dict[str, Any]]]:
    docs = [
        (3, entry("case.opened", {"client_name": WEIRD, "owner": "pm@x"}, v=2)),
        (
            5,
            entry(
                "evidence.stored",
                {
                    "evidence": "e-1",
                    "sha256": "a" * 64,
                    "size": 7,
                    "filename": WEIRD,
                    "kind": "deliverable",
                    "stored_at": "2026-11-01T10:00:00.000000Z",
                },
                v=2,
            ),
        ),
        (
            6,
            entry(
                "evidence.stored",
                {
                    "evidence": "e-2",
                    "sha256": "b" * 64,
                    "size": 0,
                    "filename": "plain.txt",
                    "kind": "other",
                    "stored_at": None,
                },
                actor="staff:ünï@x",
                v=2,
            ),
        ),
        (
            8,
            entry(
                "evidence.retrieved",
                {"evidence": "e-1", "sha256": "a" * 64, "filename": WEIRD, "channel": "console"},
                v=2,
            ),
        ),
        (10, entry("bundle.exported", {"format": layout.FORMAT, "recipient": WEIRD}, v=2)),
        (11, entry("bundle.completed", {"exported": 10, "manifest_sha256": "c" * 64, "zip_sha256": "d" * 64}, v=2)),
        (20, entry("bundle.exported", {"format": layout.FORMAT}, v=2)),  # cut off: no bundle.completed
        (SIZE - 1, entry("bundle.exported", {"format": layout.FORMAT, "legal": layout.LEGAL_FORMAT}, v=2)),
    ]
    return docs


def _inputs() -> tuple[list[tuple[int, dict[str, Any]]], dict[str, bytes], dict[str, str]]:
    entries = crafted()
    paths = [layout.evidence_path("e-1", WEIRD), layout.evidence_path("e-2", "plain.txt")]
    md5 = {paths[0]: "0123456789abcdef" * 2, paths[1]: hashlib.md5(b"", usedforsecurity=False).hexdigest()}
    files = legal_files(entries, case_id=CASE, origin=ORIGIN, checkpoint_size=SIZE, root=ROOT, md5=md5)
    return entries, files, {paths[0]: "a" * 64, paths[1]: "b" * 64}


def _python(entries: Any, files: dict[str, bytes], sha256: dict[str, str]) -> list[tuple[str, bool, str]]:
    body = CheckpointBody(ORIGIN, SIZE, RootHash(ROOT))
    present = sorted(p for p in files if p.startswith(layout.LEGAL_DIR))
    checks = LegalChecks(dict(entries), files, sha256, present, CASE, body).run()
    return [(item, ok, detail) for _, item, ok, detail in checks]


def _page(page: Any, entries: Any, files: dict[str, bytes], sha256: dict[str, str]) -> list[tuple[str, bool, str]]:
    names = sorted(files)
    args = [entries, {p: list(b) for p, b in files.items()}, sha256, names, CASE, ORIGIN, SIZE, list(ROOT)]
    return [(item, ok, detail) for item, ok, detail in page.evaluate(CHECK, args)]


def test_the_page_accepts_what_python_generates(page: Any) -> None:
    entries, files, sha256 = _inputs()
    assert all(ok for _, ok, _ in _python(entries, files, sha256))
    page.goto(PAGE)
    found = _page(page, entries, files, sha256)
    assert found == _python(entries, files, sha256), found
    custody = files[layout.CUSTODY_TXT].decode()
    assert "no bundle.completed entry (the export did not finish)" in custody and "this bundle:" in custody


@pytest.mark.parametrize(
    "edit",
    ["dat-sha256", "csv-custodian", "custody-record-removed", "custody-recipient", "declaration-line", "planted"],
)
def test_both_reject_the_same_edits(page: Any, edit: str) -> None:
    entries, files, sha256 = _inputs()
    changed = dict(files)
    if edit == "dat-sha256":
        changed[layout.LOADFILE_DAT] = files[layout.LOADFILE_DAT].replace(b"a" * 64, b"f" * 64, 1)
    elif edit == "csv-custodian":
        changed[layout.LOADFILE_CSV] = files[layout.LOADFILE_CSV].replace("staff:ünï@x".encode(), b"staff:y@x")
    elif edit == "custody-record-removed":
        changed[layout.CUSTODY_JSON] = files[layout.CUSTODY_JSON].replace(b'"ledger_index":20', b'"ledger_index":21')
    elif edit == "custody-recipient":
        changed[layout.CUSTODY_JSON] = files[layout.CUSTODY_JSON].replace(
            b'"recipient":"\xc3\xbe', b'"recipient":"x', 1
        )
    elif edit == "declaration-line":
        changed[layout.DECLARATION_NEUTRAL] = files[layout.DECLARATION_NEUTRAL].replace(b"SHA-256 b", b"SHA-256 c")
    else:
        changed["data/legal/notes.txt"] = b"x"
    expected = _python(entries, changed, sha256)
    assert any(not ok for _, ok, _ in expected), edit
    page.goto(PAGE)
    assert _page(page, entries, changed, sha256) == expected
