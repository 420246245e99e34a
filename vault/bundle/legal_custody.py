"""The chain of custody in a bundle's ``data/legal/`` (``docs/bundle.md``, "Legal packaging"): every export
and every evidence retrieval of the case, each with its ledger index, read from the case's entries alone.

An export is its ``bundle.exported`` entry (who, when, to whom when stated) joined with the
``bundle.completed`` entry that names it (the SHA-256 of that bundle's ``manifest-sha256.txt`` and of its
ZIP). This bundle's own export is the case's last entry, so it is listed, but its ``bundle.completed`` is
appended after the last byte is out, after this bundle's checkpoint: its hashes read ``null`` here and
appear in the next bundle of the case (and the live log). An export that was cut off has no
``bundle.completed`` either. A retrieval is an ``evidence.retrieved`` entry.

Three renderings of one record list: RFC 8785 JSON, a text page, and RFC 4180 CSV. Verifiers render them
again from the entries they verified and compare (``legal_checks.py``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from vault import canonical
from vault.bundle import layout
from vault.bundle.records import data_of
from vault.bundle.report_cells import Entry

#: Every record has these fields, in this order (the CSV's columns); ``null`` where one does not apply.
CUSTODY_FIELDS = (
    "ledger_index",
    "event",
    "time",
    "actor",
    "recipient",
    "evidence",
    "filename",
    "sha256",
    "channel",
    "manifest_sha256",
    "zip_sha256",
    "completed_index",
)
EXPORT_EVENT = "export"
RETRIEVAL_EVENT = "retrieval"


def _string(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _completions(entries: Sequence[Entry]) -> dict[int, tuple[int, Mapping[str, Any]]]:
    """Each ``bundle.completed`` by the index of the export it completes (the first one, should two name it)."""
    out: dict[int, tuple[int, Mapping[str, Any]]] = {}
    for index, document in entries:
        data = data_of(document)
        exported = data.get("exported")
        if document.get("type") == "bundle.completed" and type(exported) is int:
            out.setdefault(exported, (index, data))
    return out


def custody_records(entries: Sequence[Entry]) -> list[dict[str, Any]]:
    """One record per export and per retrieval, in ledger order."""
    completions = _completions(entries)
    records: list[dict[str, Any]] = []
    for index, document in entries:
        entry_type, data = document.get("type"), data_of(document)
        record: dict[str, Any] = dict.fromkeys(CUSTODY_FIELDS)
        record.update(ledger_index=index, time=_string(document.get("time")), actor=_string(document.get("actor")))
        if entry_type == "bundle.exported":
            record.update(event=EXPORT_EVENT, recipient=_string(data.get("recipient")))
            if index in completions:
                completed_index, completed = completions[index]
                record.update(
                    manifest_sha256=_string(completed.get("manifest_sha256")),
                    zip_sha256=_string(completed.get("zip_sha256")),
                    completed_index=completed_index,
                )
        elif entry_type == "evidence.retrieved":
            record.update(
                event=RETRIEVAL_EVENT,
                evidence=_string(data.get("evidence")),
                filename=_string(data.get("filename")),
                sha256=_string(data.get("sha256")),
                channel=_string(data.get("channel")),
            )
        else:
            continue
        records.append(record)
    return records


def custody_document(case_id: str, checkpoint_size: int, records: list[dict[str, Any]]) -> dict[str, Any]:
    """``chain-of-custody.json`` before canonicalization."""
    return {"format": layout.LEGAL_FORMAT, "case": case_id, "checkpoint_size": checkpoint_size, "records": records}


def _line(record: Mapping[str, Any], last: int) -> str:
    head = f"[{record['ledger_index']}] {record['time'] or 'time absent'}  {record['actor'] or 'actor absent'}"
    if record["event"] == RETRIEVAL_EVENT:
        return (
            f"{head} retrieved {record['filename'] or 'absent'} (evidence {record['evidence'] or 'absent'}, "
            f"SHA-256 {record['sha256'] or 'absent'}) via {record['channel'] or 'absent'}"
        )
    line = f"{head} exported the case to {record['recipient'] or 'a recipient not stated'}; "
    if record["completed_index"] is not None:
        return (
            f"{line}manifest-sha256.txt SHA-256 {record['manifest_sha256'] or 'absent'}, ZIP SHA-256 "
            f"{record['zip_sha256'] or 'absent'} (bundle.completed, entry {record['completed_index']})"
        )
    if record["ledger_index"] == last:
        return f"{line}this bundle: its hashes are recorded after it, in a later entry"
    return f"{line}no bundle.completed entry (the export did not finish)"


def custody_text(case_id: str, client: str | None, checkpoint_size: int, records: list[dict[str, Any]]) -> bytes:
    """``chain-of-custody.txt``: one line per record, UTF-8, LF."""
    last = checkpoint_size - 1
    lines = [
        f"CHAIN OF CUSTODY: case {case_id} ({client or 'client absent'})",
        f"Generated from the case's ledger entries in this bundle (checkpoint size {checkpoint_size}); "
        "offboard verify generates it again and compares.",
        "Times are the server's clock (UTC). [n] is the ledger index of the entry that records the event.",
        "",
        f"Exports ({sum(r['event'] == EXPORT_EVENT for r in records)}):",
        *(_line(r, last) for r in records if r["event"] == EXPORT_EVENT),
        "",
        f"Evidence retrievals ({sum(r['event'] == RETRIEVAL_EVENT for r in records)}):",
        *(_line(r, last) for r in records if r["event"] == RETRIEVAL_EVENT),
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def custody_csv(records: list[dict[str, Any]]) -> bytes:
    """``chain-of-custody.csv``: RFC 4180 (CRLF, fields quoted when needed), a header row, ``null`` empty."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CUSTODY_FIELDS)
    for record in records:
        writer.writerow(["" if record[name] is None else record[name] for name in CUSTODY_FIELDS])
    return buffer.getvalue().encode("utf-8")


def custody_files(
    entries: Sequence[Entry], *, case_id: str, client: str | None, checkpoint_size: int
) -> dict[str, bytes]:
    """The three renderings, by bag path."""
    records = custody_records(entries)
    return {
        layout.CUSTODY_JSON: canonical.dumps(custody_document(case_id, checkpoint_size, records)),
        layout.CUSTODY_TXT: custody_text(case_id, client, checkpoint_size, records),
        layout.CUSTODY_CSV: custody_csv(records),
    }
