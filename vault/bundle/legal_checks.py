"""Verifying a bundle's ``data/legal/`` (``docs/bundle.md``, "Verifying", step 16): every file is generated
again from the case's verified entries and the verified checkpoint, and compared.

The chain of custody is compared record by record first, so a record removed, added or changed is named by
its ledger index ("the export at ledger index 12 ... is missing"), then byte for byte. Each load file is
parsed and every row compared, field by field, with its ``evidence.stored`` entry and with the SHA-256 the
verifier computed for the file at its path (the one the manifests are checked against); its MD5 column must
be 32 hex digits, the same in both load files, and the one the file's ``evidence.md5`` entry records where
there is one (``recorded_md5s``); it is never recomputed. The declarations and the text and CSV
renderings are compared byte for byte. A bundle whose own export entry records no legal packaging (every
bundle exported before it) must carry none.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vault.bundle import layout
from vault.bundle.legal import legal_files, legal_format
from vault.bundle.legal_custody import CUSTODY_FIELDS
from vault.bundle.legal_loadfile import (
    LOADFILE_FIELDS,
    MD5_SHAPE,
    LoadFileRow,
    MalformedLoadFile,
    dat_text,
    load_files,
    loadfile_rows,
    parse_csv,
    parse_dat,
    recorded_md5s,
)
from vault.bundle.records import dicts
from vault.bundle.report_cells import Entry
from vault.bundle.report_html import first_difference
from vault.ledger.checkpoint import CheckpointBody

CheckTuple = tuple[str, str, bool, str]
KIND = "legal"


def _describe(record: Mapping[str, Any]) -> str:
    what = "export" if record.get("event") == "export" else f"retrieval of {record.get('filename')}"
    return f"the {what} at ledger index {record.get('ledger_index')} ({record.get('time')} by {record.get('actor')})"


def custody_differences(expected: bytes, found: bytes) -> list[str]:
    """Each record of ``found`` (``chain-of-custody.json``) missing, added or changed against ``expected``."""
    try:
        document = json.loads(found)
    except ValueError as exc:
        return [f"is not JSON: {exc}"]
    want = {r["ledger_index"]: r for r in json.loads(expected)["records"]}
    records = dicts(document.get("records")) if isinstance(document, dict) else []
    got = {r.get("ledger_index"): r for r in records}
    problems = [f"{_describe(r)} is missing from the record" for i, r in want.items() if i not in got]
    problems += [f"lists {_describe(r)}, which no verified entry records" for i, r in got.items() if i not in want]
    for index in sorted(want.keys() & got.keys(), key=str):
        for name in CUSTODY_FIELDS:
            if got[index].get(name) != want[index][name]:
                problems.append(
                    f"the record at ledger index {index}: {name} is {got[index].get(name)!r}, "
                    f"the entries say {want[index][name]!r}"
                )
    return problems


def _load_file_passed(rows: int, recorded: int) -> str:
    """What a load file that passed was checked against (``verify.html``'s ``loadPassed``)."""
    matched = f"{rows} rows match their evidence.stored entries and the files' SHA-256"
    if recorded == 0:
        return f"{matched} (MD5 is not checked)"
    return f"{matched}; {recorded} of their MD5s match their evidence.md5 entries (the others are not checked)"


def _row_problems(
    row: LoadFileRow, want: LoadFileRow, sha256: Mapping[str, str], recorded: Mapping[str, str]
) -> list[str]:
    problems = []
    for name, value, expected in zip(LOADFILE_FIELDS, row.values(), want.values(), strict=True):
        if name != "MD5" and value != expected:
            problems.append(f"{name} is {value!r}, ledger entry {want.ledger_index} records {expected!r}")
    if not MD5_SHAPE.match(row.md5):
        problems.append(f"MD5 {row.md5!r} is not 32 lowercase hex digits")
    found = sha256.get(want.path)
    if found != row.sha256:
        problems.append(f"SHA256 is {row.sha256}, the file {want.path} in the bag has {found or 'no digest'}")
    known = recorded.get(want.path)
    if known is not None and row.md5 != known:
        problems.append(f"MD5 is {row.md5}, its evidence.md5 entry records {known}")
    return [f"row {want.control_number}: {p}" for p in problems]


@dataclass(slots=True)
class LegalChecks:
    """Runs once, after the entries are verified and every member is hashed."""

    #: The verified entries of the bundle's case, by ledger index.
    entries: Mapping[int, Mapping[str, Any]]
    files: Mapping[str, bytes]
    sha256: Mapping[str, str]
    #: Every member name under ``data/legal/``.
    present: Sequence[str]
    case_id: str | None
    checkpoint: CheckpointBody | None
    out: list[CheckTuple] = field(default_factory=list)

    def add(self, item: str, ok: bool, detail: str) -> None:
        self.out.append((KIND, item, ok, detail))

    def run(self) -> list[CheckTuple]:
        ordered: list[Entry] = sorted(self.entries.items())
        packaging = legal_format(ordered)
        if packaging is None:
            for path in self.present:
                self.add(path, False, "unexpected: this bundle's export entry records no legal packaging")
            return self.out
        export_path = layout.entry_path(ordered[-1][0])
        if packaging != layout.LEGAL_FORMAT:
            self.add(export_path, False, f"records legal packaging {packaging!r}, expected {layout.LEGAL_FORMAT!r}")
            return self.out
        for path in self.present:
            if path not in layout.LEGAL_FILES:
                self.add(path, False, "unexpected file in the legal packaging")
        if self.case_id is None or self.checkpoint is None:
            self.add(layout.LEGAL_DIR, False, "cannot be generated again without a verified index and checkpoint")
            return self.out
        body = self.checkpoint
        expected = legal_files(
            ordered, case_id=self.case_id, origin=body.origin, checkpoint_size=body.size, root=body.root_hash, md5=None
        )
        recorded = recorded_md5s(ordered)
        for path in layout.LEGAL_FILES:
            found = self.files.get(path)
            if found is None:
                self.add(path, False, f"missing: the export entry {export_path} records the legal packaging")
            elif path in layout.LOAD_FILES:
                self.add(path, *self._load_file(path, found, ordered, recorded))
            else:
                self.add(path, *self._generated(path, expected[path], found, len(ordered)))
        self._md5_agree()
        return self.out

    def _generated(self, path: str, expected: bytes, found: bytes, count: int) -> tuple[bool, str]:
        source = f"the {count} verified ledger entries"
        if found == expected:
            return True, f"identical to the one generated from {source}"
        problems = custody_differences(expected, found) if path == layout.CUSTODY_JSON else []
        if not problems:
            problems = [f"at {first_difference(expected, found)}"]
        return False, f"differs from the one generated from {source}: " + "; ".join(problems)

    def _parsed(self, path: str) -> list[LoadFileRow] | None:
        data = self.files.get(path)
        if data is None:
            return None
        try:
            return parse_dat(data) if path == layout.LOADFILE_DAT else parse_csv(data)
        except MalformedLoadFile:
            return None

    def _load_file(
        self, path: str, found: bytes, ordered: Sequence[Entry], recorded: Mapping[str, str]
    ) -> tuple[bool, str]:
        want = loadfile_rows(ordered, self.case_id or "", None)
        try:
            rows = parse_dat(found) if path == layout.LOADFILE_DAT else parse_csv(found)
        except MalformedLoadFile as exc:
            return False, exc.message
        problems = []
        if len(rows) != len(want):
            problems.append(f"{len(rows)} rows, the case's entries record {len(want)} evidence files")
        if path == layout.LOADFILE_DAT:
            want = [LoadFileRow(*map(dat_text, row.values())) for row in want]
        for row, expected in zip(rows, want, strict=False):
            problems.extend(_row_problems(row, expected, self.sha256, recorded))
        if not problems:
            rendered = load_files(loadfile_rows(ordered, self.case_id or "", {r.path: r.md5 for r in rows}))[path]
            if rendered != found:
                problems.append(f"its rows match, but not its layout, at {first_difference(rendered, found)}")
        if problems:
            return False, "; ".join(problems)
        return True, _load_file_passed(len(rows), sum(1 for row in rows if row.path in recorded))

    def _md5_agree(self) -> None:
        dat, csv_rows = self._parsed(layout.LOADFILE_DAT), self._parsed(layout.LOADFILE_CSV)
        if dat is None or csv_rows is None or len(dat) != len(csv_rows):
            return  # reported above
        for a, b in zip(dat, csv_rows, strict=True):
            if a.md5 != b.md5:
                self.add(
                    layout.LOADFILE_CSV, False, f"row {a.control_number}: MD5 {b.md5} here, {a.md5} in loadfile.dat"
                )
