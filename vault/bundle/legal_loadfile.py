"""The e-discovery load file in a bundle's ``data/legal/`` (``docs/bundle.md``, "Legal packaging"): one row
per evidence file, from its ``evidence.stored`` entry, in two encodings of the same rows.

- ``loadfile.dat``, the Concordance layout most review platforms import by default: UTF-8 with a byte order
  mark (so tools that also read Windows-1252 detect Unicode: the quote character is two bytes in UTF-8),
  every field between U+00FE (þ) quotes, fields separated by U+0014, records ended by CRLF, a header row;
  a newline inside a value becomes U+00AE (®) and a þ inside one is doubled.
- ``loadfile.csv``: RFC 4180 (comma, double quotes when needed, CRLF), UTF-8 without a byte order mark.

Every field but ``MD5`` is read from the entries. The MD5 of each file, for tools that still key on it, is the
one its ``evidence.md5`` entry records (the worker's, some minutes after upload: ``vault/evidence/md5.py``),
else computed from its bytes as they stream into the ZIP; no verifier recomputes it (SHA-256 is the hash the
ledger commits to). ``parse_dat`` and ``parse_csv`` read the two back for the verifiers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vault.bundle import layout
from vault.bundle.records import data_of
from vault.bundle.report_cells import Entry
from vault.errors import InvalidInput

LOADFILE_FIELDS = (
    "CONTROL_NUMBER",
    "FILE_NAME",
    "BAG_PATH",
    "SHA256",
    "MD5",
    "SIZE",
    "KIND",
    "CUSTODIAN",
    "STORED_DATE",
    "EVIDENCE_ID",
    "LEDGER_INDEX",
)
DAT_SEPARATOR = "\u0014"
DAT_QUOTE = "\u00fe"
DAT_NEWLINE = "\u00ae"
BOM = "\ufeff"
#: What ``loadfile_rows`` puts in the MD5 column when no digest is given: the size is the same.
MD5_PLACEHOLDER = "0" * 32
MD5_SHAPE = re.compile(r"^[0-9a-f]{32}$")
_NEWLINES = re.compile(r"\r\n|\r|\n")


class MalformedLoadFile(InvalidInput):
    """A load file that does not parse as its layout says (the verifiers report the message)."""

    code = "malformed-load-file"


@dataclass(frozen=True, slots=True)
class LoadFileRow:
    """One evidence file as the load file lists it; ``md5`` is the only value not from its entry."""

    control_number: str
    filename: str
    path: str
    sha256: str
    md5: str
    size: str
    kind: str
    custodian: str
    stored_date: str
    evidence_id: str
    ledger_index: str

    def values(self) -> tuple[str, ...]:
        return (
            self.control_number,
            self.filename,
            self.path,
            self.sha256,
            self.md5,
            self.size,
            self.kind,
            self.custodian,
            self.stored_date,
            self.evidence_id,
            self.ledger_index,
        )


def control_prefix(case_id: str) -> str:
    """``OFFB-<first 8 letters or digits of the case id, upper case>``."""
    return "OFFB-" + "".join(c for c in case_id if c.isascii() and c.isalnum())[:8].upper()


def _field(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def recorded_md5s(entries: Sequence[Entry]) -> dict[str, str]:
    """The MD5s the entries record (``evidence.md5``), by bag path: each for the bytes of its file's
    ``evidence.stored`` entry (the same SHA-256), the first one in index order where a file has two.
    ``verify.html``'s ``recordedMd5s`` is its twin."""
    stored: dict[str, tuple[str, str]] = {}
    for _, document in entries:
        if document.get("type") == "evidence.stored":
            data = data_of(document)
            evidence_id = _field(data.get("evidence"))
            path = layout.evidence_path(evidence_id, _field(data.get("filename")))
            stored[evidence_id] = (path, _field(data.get("sha256")))
    out: dict[str, str] = {}
    for _, document in entries:
        if document.get("type") != "evidence.md5":
            continue
        data = data_of(document)
        evidence, sha256, md5 = data.get("evidence"), data.get("sha256"), data.get("md5")
        if not (isinstance(evidence, str) and isinstance(sha256, str) and isinstance(md5, str)):
            continue
        found = stored.get(evidence)
        if found is not None and found[1] == sha256 and MD5_SHAPE.fullmatch(md5):
            out.setdefault(found[0], md5)
    return out


def loadfile_rows(entries: Sequence[Entry], case_id: str, md5: Mapping[str, str] | None) -> list[LoadFileRow]:
    """One row per ``evidence.stored`` entry, in ledger order; ``md5`` by bag path (``None``: placeholders)."""
    rows = []
    prefix = control_prefix(case_id)
    stored = [(i, d) for i, d in entries if d.get("type") == "evidence.stored"]
    for number, (index, document) in enumerate(stored, start=1):
        data = data_of(document)
        evidence_id, filename = _field(data.get("evidence")), _field(data.get("filename"))
        path = layout.evidence_path(evidence_id, filename)
        rows.append(
            LoadFileRow(
                control_number=f"{prefix}-{number:06d}",
                filename=filename,
                path=path,
                sha256=_field(data.get("sha256")),
                md5=MD5_PLACEHOLDER if md5 is None else md5.get(path, ""),
                size=_field(data.get("size")),
                kind=_field(data.get("kind")),
                custodian=_field(document.get("actor")),
                stored_date=_field(data.get("stored_at") or document.get("time")),
                evidence_id=evidence_id,
                ledger_index=str(index),
            )
        )
    return rows


def dat_text(value: str) -> str:
    """A value as ``loadfile.dat`` holds it: each newline (CRLF, CR or LF) as U+00AE. ``parse_dat`` returns
    values in this form, since a ® in the value and a newline read back alike."""
    return _NEWLINES.sub(DAT_NEWLINE, value)


def _dat_value(value: str) -> str:
    return DAT_QUOTE + dat_text(value).replace(DAT_QUOTE, DAT_QUOTE * 2) + DAT_QUOTE


def loadfile_dat(rows: Sequence[LoadFileRow]) -> bytes:
    lines = [LOADFILE_FIELDS, *(row.values() for row in rows)]
    body = "".join(DAT_SEPARATOR.join(_dat_value(v) for v in line) + "\r\n" for line in lines)
    return (BOM + body).encode("utf-8")


def loadfile_csv(rows: Sequence[LoadFileRow]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(LOADFILE_FIELDS)
    writer.writerows(row.values() for row in rows)
    return buffer.getvalue().encode("utf-8")


def load_files(rows: Sequence[LoadFileRow]) -> dict[str, bytes]:
    return {layout.LOADFILE_DAT: loadfile_dat(rows), layout.LOADFILE_CSV: loadfile_csv(rows)}


def _table(lines: list[list[str]], name: str) -> list[LoadFileRow]:
    if not lines or tuple(lines[0]) != LOADFILE_FIELDS:
        found = lines[0] if lines else "nothing"
        raise MalformedLoadFile(f"{name}: the header row is {found}, expected {list(LOADFILE_FIELDS)}")
    rows = []
    for number, values in enumerate(lines[1:], start=2):
        if len(values) != len(LOADFILE_FIELDS):
            raise MalformedLoadFile(f"{name}: row {number} has {len(values)} fields, expected {len(LOADFILE_FIELDS)}")
        rows.append(LoadFileRow(*values))
    return rows


def _dat_fields(line: str, number: int) -> list[str]:
    values, position = [], 0
    while True:
        if not line.startswith(DAT_QUOTE, position):
            raise MalformedLoadFile(f"{layout.LOADFILE_DAT}: line {number}: a field does not start with þ")
        position += 1
        value = []
        while True:
            end = line.find(DAT_QUOTE, position)
            if end < 0:
                raise MalformedLoadFile(f"{layout.LOADFILE_DAT}: line {number}: a field is not closed with þ")
            value.append(line[position:end])
            if line.startswith(DAT_QUOTE, end + 1):  # a doubled þ stands for one
                value.append(DAT_QUOTE)
                position = end + 2
                continue
            position = end + 1
            break
        values.append("".join(value))
        if position == len(line):
            return values
        if line[position] != DAT_SEPARATOR:
            raise MalformedLoadFile(f"{layout.LOADFILE_DAT}: line {number}: expected U+0014 after a field")
        position += 1


def parse_dat(data: bytes) -> list[LoadFileRow]:
    """The rows of ``loadfile.dat``, values as ``dat_text`` writes them (newlines left as U+00AE)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedLoadFile(f"{layout.LOADFILE_DAT} is not UTF-8: {exc}") from exc
    if not text.startswith(BOM) or not text.endswith("\r\n"):
        raise MalformedLoadFile(f"{layout.LOADFILE_DAT} must start with a byte order mark and end with CRLF")
    lines = text[1:-2].split("\r\n")
    return _table([_dat_fields(line, n) for n, line in enumerate(lines, start=1)], layout.LOADFILE_DAT)


def parse_csv(data: bytes) -> list[LoadFileRow]:
    try:
        text = data.decode("utf-8")
        lines = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise MalformedLoadFile(f"{layout.LOADFILE_CSV} does not parse as UTF-8 RFC 4180 CSV: {exc}") from exc
    return _table(lines, layout.LOADFILE_CSV)
