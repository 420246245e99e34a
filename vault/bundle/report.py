"""What a bundle's report shows, read from the case's ledger entries alone (``docs/bundle.md``, "The report").

``build_report`` takes the case's entries the bundle carries, in index order, as ``(index, document)``
pairs: at export the plan's entries, at verification the documents the verifier has just verified. Every
value comes from them, or from the checkpoint's origin and size; a value no entry records is ``None``,
shown as "absent", never guessed and never read from the database. ``report_html`` renders the result
as ``report.html`` and ``pdf`` as ``report.pdf``.

``templates/bundle/verify.html`` carries a JavaScript twin of this module, of ``report_cells`` (how a
value is shown), ``report_timeline`` and ``report_html`` (``reportData``, ``renderReport``) that must
produce the same bytes: nothing here is sorted by locale, truncated or formatted as floating point. The
one table-driven step is the evidence path (``layout.evidence_path``, Unicode NFKD), which follows the
exporter's Unicode version.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vault.bundle import layout
from vault.bundle.report_cells import ABSENT, Cell, Entry, Section, shown, text
from vault.bundle.report_cells import at as _at
from vault.bundle.report_cells import data_of as _data
from vault.bundle.report_cells import joined as _joined
from vault.bundle.report_cells import of_type as _of_type
from vault.bundle.report_timeline import SUMMARY_FIELDS, summary, timeline, utf16_order
from vault.states import CaseStatus

CLAIMS: tuple[tuple[str, str, str], ...] = (
    (
        "Ledger entries (data/ledger/entries)",
        "Each entry's exact bytes are leaf N of the organization's log as described by the signed checkpoint "
        "(inclusion proof), so it cannot have been altered without breaking the proof.",
        "That the event described happened as written, or at the time written: the time is the server's "
        "clock. An entry proves what was recorded, not that it is true.",
    ),
    (
        "Signed checkpoint (data/ledger/checkpoint)",
        "The holder of the organization's key vouched for this log size and root. With the key pinned out "
        "of band, no one else could have produced it.",
        "Anything if the key is not pinned: a bundle can carry any key. It does not prove when it was "
        "signed (see timestamps), nor that the log shown to others was the same (compare checkpoints).",
    ),
    (
        "Earlier checkpoints with consistency proofs",
        "The log given to the client earlier is a prefix of this one: nothing recorded then was changed.",
        "That entries appended since are true.",
    ),
    (
        "Evidence files (data/evidence)",
        "Each file's bytes hash to the SHA-256 recorded in its evidence.stored entry.",
        "That the client received or opened the file; only an acknowledgment can say that.",
    ),
    (
        "RFC 3161 timestamps (data/timestamps)",
        "The checkpoint note existed no later than the TSA's genTime, for whoever trusts the TSA's root.",
        "When each entry was written before that time.",
    ),
    (
        "Receipts (data/receipts)",
        "The organization signed exactly this list of deliverables and terms.",
        "The client's agreement, unless an acknowledgment block is present and countersigned.",
    ),
    (
        "This report (data/report.html)",
        "That it is exactly what the bundle's verified ledger entries say: offboard verify and verify.html "
        "render it again from those entries and fail if one byte differs. Every value in it is read from a "
        "signed entry; what no entry records reads absent.",
        "More than the entries do. It shows what was recorded, so steps never completed and systems never "
        "registered do not appear in it.",
    ),
    (
        "The PDF report (data/report.pdf)",
        "Nothing. It is a convenience copy rendered from the same entries, and no verifier checks it.",
        "Anything: read report.html or the entries.",
    ),
    (
        "The export (the bundle.exported entry)",
        "The case's last entry, inside this bundle with its proof: who exported the bundle, when (server "
        "clock), for which organization, and the SHA-256 of every evidence file it holds.",
        "That the case stopped there: entries recorded after the export are in a later bundle or the log.",
    ),
    (
        "The verifier page (data/verify.html)",
        "Nothing: whoever could edit the bundle could replace it with a page that always says PASS.",
        "Use a copy obtained independently (its SHA-256 is published in Offboard's README and at "
        "/.well-known/offboard/verify.html.sha256); offboard verify says when the bundled page differs.",
    ),
)

#: The row a bundle whose export entry records the legal packaging (``data.legal``) adds to ``CLAIMS``.
LEGAL_CLAIM = (
    "Legal packaging (data/legal)",
    "That the chain of custody, the load file and the declarations' facts are exactly what the case's "
    "verified entries record (offboard verify and verify.html generate them again and compare): every export "
    "and evidence retrieval with its ledger index, and every evidence file with the SHA-256, size, custodian "
    "and date of its evidence.stored entry.",
    "That the declarations are true or admissible: they are unsigned drafts until a qualified person checks "
    "the facts and signs them, and whether one meets FRE 902(14) or another rule is for a court. Nor the "
    "load file's MD5 values: computed at export for tools that need them, no verifier checks them.",
)
#: ``LEGAL_CLAIM`` for a bundle whose entries record MD5s (``evidence.md5``, from the worker after upload).
LEGAL_CLAIM_RECORDED_MD5 = (
    LEGAL_CLAIM[0],
    LEGAL_CLAIM[1].removesuffix(".") + ", and the MD5 its evidence.md5 entry records, where one does.",
    "That the declarations are true or admissible: they are unsigned drafts until a qualified person checks "
    "the facts and signs them, and whether one meets FRE 902(14) or another rule is for a court. Nor that an "
    "MD5 is of the file's bytes: no verifier recomputes one (the worker hashed the bytes after upload, those "
    "of files without an evidence.md5 entry were computed at export), and SHA-256 is what the proofs rest on.",
)


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything the two renderings show, as display strings (``None``: absent)."""

    title: str
    facts: tuple[tuple[str, Cell], ...]
    final_state: tuple[tuple[str, Cell], ...]
    #: Deliverables, steps, access, acknowledgment, notes, timeline and claims, in that order.
    sections: tuple[Section, ...]


def _export_entry(entries: Sequence[Entry]) -> Mapping[str, Any] | None:
    """The last entry when it is the export's own (entries v2): it is inside its bundle, with its proof."""
    if not entries:
        return None
    document = entries[-1][1]
    version = document.get("v")
    if document.get("type") != "bundle.exported" or type(version) is not int or version < 2:
        return None
    return document


def _facts(entries: Sequence[Entry], origin: str, checkpoint_size: int) -> tuple[tuple[str, Cell], ...]:
    opened = _of_type(entries, "case.opened")
    case = _data(opened[0][1]) if opened else {}
    owner: object = case.get("owner")
    for _, document in _of_type(entries, "case.owner_changed"):
        owner = _data(document).get("to")
    snapshots = _of_type(entries, "case.playbook_snapshot")
    playbook: Cell = None
    if snapshots:
        snapshot = _data(snapshots[0][1])
        playbook = f"{shown(snapshot.get('playbook'))} version {shown(snapshot.get('version'))}"
    export = _export_entry(entries)
    organization = _data(export).get("organization") if export is not None else None
    return (
        ("Organization", text(organization.get("name")) if isinstance(organization, dict) else None),
        ("Case", text(entries[0][1].get("case")) if entries else None),
        ("Client", text(case.get("client_name"))),
        ("Client contacts", _joined(case.get("contacts"))),
        ("Owner", text(owner)),
        ("Trigger", text(case.get("trigger"))),
        ("Service type", text(case.get("service_type"))),
        ("Playbook", playbook),
        ("Intent date", text(case.get("intent_date"))),
        ("Target end date", text(case.get("target_end_date"))),
        ("Opened", _at(opened[0]) if opened else None),
        ("Log origin", origin),
        ("Checkpoint size", str(checkpoint_size)),
        ("Ledger entries in this bundle", str(len(entries))),
        ("Exported at", text(export.get("time")) if export is not None else None),
        ("Exported by", text(export.get("actor")) if export is not None else None),
    )


def _final_state(entries: Sequence[Entry]) -> tuple[tuple[str, Cell], ...]:
    opened = _of_type(entries, "case.opened")
    changes = _of_type(entries, "case.status_changed")
    status: Cell = None
    since: Cell = None
    if opened:
        status, since = text(_data(opened[0][1]).get("status")), _at(opened[0])
    for change in changes:
        status, since = text(_data(change[1]).get("to")), _at(change)
    closed = since if status == CaseStatus.FULLY_OFFBOARDED else None
    last = entries[-1] if entries else None
    return (
        ("Status", status),
        ("Since", since),
        ("Fully offboarded at", closed),
        ("Last entry", f"{last[0]}: {shown(last[1].get('type'))} at {shown(last[1].get('time'))}" if last else None),
    )


def _filenames(entries: Sequence[Entry]) -> dict[str, str]:
    """Evidence id -> file name, from the evidence.stored entries."""
    names: dict[str, str] = {}
    for _, document in _of_type(entries, "evidence.stored"):
        data = _data(document)
        evidence, filename = data.get("evidence"), data.get("filename")
        if isinstance(evidence, str) and isinstance(filename, str):
            names[evidence] = filename
    return names


def _deliverables(entries: Sequence[Entry]) -> Section:
    rows = []
    for index, document in _of_type(entries, "evidence.stored"):
        data = _data(document)
        evidence, filename = data.get("evidence"), data.get("filename")
        path = None
        if isinstance(evidence, str) and isinstance(filename, str):
            path = layout.evidence_path(evidence, filename)
        rows.append(
            (text(filename), text(data.get("kind")), text(data.get("size")), text(data.get("sha256")), str(index), path)
        )
    header = ("File", "Kind", "Bytes", "SHA-256", "Ledger index", "Path in bundle")
    return Section("deliverables", "Deliverables and evidence", header, ("", "", "", "hash", "", "code"), tuple(rows))


def _steps(entries: Sequence[Entry]) -> Section:
    names = _filenames(entries)
    rows = []
    for index, document in _of_type(entries, "step.completed"):
        data = _data(document)
        attached = data.get("evidence")
        files = None
        if isinstance(attached, list) and attached:
            ids = [item.get("id") if isinstance(item, dict) else None for item in attached]
            files = ", ".join(names[i] if isinstance(i, str) and i in names else shown(i) for i in ids)
        rows.append(
            (
                f"{shown(data.get('title'))} ({shown(data.get('step'))})",
                text(document.get("time")),
                text(document.get("actor")),
                files,
                text(data.get("note")),
                str(index),
            )
        )
    header = ("Step", "Completed (server clock)", "By", "Evidence", "Note", "Ledger index")
    return Section("steps", "Steps completed", header, ("",) * 6, tuple(rows))


def _access(entries: Sequence[Entry]) -> Section:
    items: dict[Cell, dict[str, Entry]] = {}
    for entry in _of_type(entries, "access.added", "access.revoked", "access.verified"):
        event = str(entry[1].get("type")).removeprefix("access.")
        items.setdefault(text(_data(entry[1]).get("access_item")), {})[event] = entry
    rows = []
    for events in items.values():
        added, revoked, verified = events.get("added"), events.get("revoked"), events.get("verified")
        name: Cell = None
        for recorded in events.values():
            name = text(_data(recorded[1]).get("name")) or name
        first = _data(added[1]) if added else {}
        revoked_data = _data(revoked[1]) if revoked else {}
        verified_data = _data(verified[1]) if verified else {}
        status = "verified" if verified else "revoked" if revoked else "active" if added else None
        rows.append(
            (
                f"{shown(name)} ({shown(first.get('kind'))}, held by {shown(first.get('held_by'))})",
                status,
                f"{shown(revoked[1].get('time'))} by {shown(revoked_data.get('revoked_by'))}" if revoked else None,
                text(revoked_data.get("method")),
                f"{shown(verified[1].get('time'))} by {shown(verified_data.get('verified_by'))}" if verified else None,
                ", ".join(f"{event} {entry[0]}" for event, entry in events.items()),
            )
        )
    header = ("System", "Status", "Revoked", "Method", "Verified", "Ledger entries")
    return Section("access", "Access revocations", header, ("",) * 6, tuple(rows))


def _acknowledgments(entries: Sequence[Entry]) -> Section:
    receipts: dict[Cell, list[Entry]] = {}
    for entry in entries:
        kind = entry[1].get("type")
        if isinstance(kind, str) and kind.startswith("receipt."):
            receipts.setdefault(text(_data(entry[1]).get("receipt")), []).append(entry)
    rows = []
    for receipt, events in receipts.items():
        last: dict[str, Entry] = {}
        recipients: list[str] = []
        opened = 0
        for entry in events:
            kind = str(entry[1].get("type"))
            last[kind] = entry
            if kind == "receipt.opened":
                opened += 1
            links = _data(entry[1]).get("links") if kind == "receipt.sent" else None
            for link in links if isinstance(links, list) else []:
                recipient = shown(link.get("recipient") if isinstance(link, dict) else None)
                if recipient not in recipients:
                    recipients.append(recipient)
        rows.append(
            (
                receipt,
                _at(last["receipt.issued"]) if "receipt.issued" in last else None,
                ", ".join(recipients) or None,
                str(opened),
                _when(last, "receipt.acknowledged", _acknowledged),
                _at(last["receipt.countersigned"]) if "receipt.countersigned" in last else None,
                _when(last, "receipt.disputed", _disputed),
            )
        )
    header = ("Receipt", "Issued", "Sent to", "Opened", "Acknowledged", "Countersigned", "Disputed")
    return Section("acknowledgment", "Acknowledgment record", header, ("code",) + ("",) * 6, tuple(rows))


def _when(last: dict[str, Entry], kind: str, describe: Callable[[Entry], str]) -> Cell:
    return describe(last[kind]) if kind in last else None


def _acknowledged(entry: Entry) -> str:
    data = _data(entry[1])
    who = f"{shown(data.get('name'))} <{shown(data.get('recipient'))}>"
    return f"by {who} at {shown(data.get('acknowledged_at'))} (entry {entry[0]})"


def _disputed(entry: Entry) -> str:
    data = _data(entry[1])
    return f"by {shown(data.get('recipient'))} at {_at(entry)}: {shown(data.get('reason'))}"


def _waived(data: Mapping[str, Any]) -> str:
    """What a ``case.waiver`` waived: the acknowledgment of one deliverable, of one receipt, or of all."""
    if data.get("scope") == "deliverable":
        return (
            f"acknowledgment waived for deliverable {shown(data.get('filename'))} ({shown(data.get('evidence'))}): "
            f"{shown(data.get('reason'))}"
        )
    scope = "every receipt" if data.get("receipt") is None else f"receipt {shown(data.get('receipt'))}"
    return f"{shown(data.get('scope'))} waived for {scope}: {shown(data.get('reason'))}"


def _notes(entries: Sequence[Entry]) -> Section:
    rows = []
    for index, document in entries:
        data, kind = _data(document), document.get("type")
        if kind == "case.note":
            row = ("note", text(data.get("text")))
        elif kind == "case.waiver":
            row = ("waiver", _waived(data))
        elif kind == "receipt.disputed":
            row = ("client dispute", f"receipt {shown(data.get('receipt'))}: {shown(data.get('reason'))}")
        elif kind == "case.status_changed" and data.get("to") == CaseStatus.DISPUTED:
            row = ("dispute", text(data.get("reason")))
        elif kind == "case.status_changed" and data.get("from") == CaseStatus.DISPUTED:
            row = ("resolution", text(data.get("reason")))
        else:
            continue
        rows.append((text(document.get("time")), row[0], text(document.get("actor")), row[1], str(index)))
    header = ("Written (server clock)", "Kind", "Author", "Text", "Ledger index")
    return Section("notes", "Notes and disputes", header, ("", "", "", "text", ""), tuple(rows))


def build_report(entries: Sequence[Entry], *, origin: str, checkpoint_size: int) -> ReportData:
    """The report of the case whose entries (in index order) a bundle carries."""
    facts = _facts(entries, origin, checkpoint_size)
    title = "What each record proves, and what it does not"
    export = _export_entry(entries)
    legal = export is not None and _data(export).get("legal") == layout.LEGAL_FORMAT
    recorded = any(document.get("type") == "evidence.md5" for _, document in entries)
    rows = (*CLAIMS, LEGAL_CLAIM_RECORDED_MD5 if recorded else LEGAL_CLAIM) if legal else CLAIMS
    claims = Section("claims", title, ("Record", "Proves", "Does not prove"), ("", "", ""), rows)
    return ReportData(
        title=f"Offboarding evidence: {shown(facts[2][1])}",
        facts=facts,
        final_state=_final_state(entries),
        sections=(
            _deliverables(entries),
            _steps(entries),
            _access(entries),
            _acknowledgments(entries),
            _notes(entries),
            timeline(entries),
            claims,
        ),
    )


__all__ = [
    "ABSENT",
    "CLAIMS",
    "LEGAL_CLAIM",
    "LEGAL_CLAIM_RECORDED_MD5",
    "SUMMARY_FIELDS",
    "Cell",
    "Entry",
    "ReportData",
    "Section",
    "build_report",
    "shown",
    "summary",
    "text",
    "utf16_order",
]
