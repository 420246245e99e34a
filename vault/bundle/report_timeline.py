"""The report's timeline: every ledger entry of the case, one row each, its data summarized
(``docs/bundle.md``, "The report"; keys of unknown types in RFC 8785 section 3.2.3 order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vault.bundle.report_cells import Cell, Entry, Section, shown, text
from vault.bundle.report_cells import data_of as _data

#: The fields the timeline shows for each known entry type (other types: every field); the rest (storage
#: keys, signatures, addresses) is in the entry files.
SUMMARY_FIELDS: dict[str, tuple[str, ...]] = {
    "case.opened": ("client_name", "owner", "trigger", "service_type", "intent_date", "target_end_date", "status"),
    "case.playbook_snapshot": ("playbook", "version", "sha256"),
    "case.status_changed": ("from", "to", "reason"),
    "case.owner_changed": ("from", "to", "reason"),
    "case.contact_added": ("contact", "contacts"),
    "case.contact_removed": ("contact", "contacts", "links_voided"),
    "case.waiver": ("scope", "receipt", "evidence", "filename", "reason"),
    "case.note": ("text",),
    "step.completed": ("step", "title", "note", "evidence"),
    "access.added": ("name", "kind", "held_by", "accounts"),
    "access.revoked": ("name", "revoked_by", "method", "evidence"),
    "access.verified": ("name", "verified_by", "revoked_by"),
    "evidence.stored": ("filename", "kind", "size", "sha256"),
    "receipt.issued": ("receipt", "sha256", "deliverables", "checkpoint_size"),
    "receipt.sent": ("receipt", "links", "expires_at"),
    "receipt.links_voided": ("receipt", "voided", "reason"),
    "receipt.opened": ("receipt", "method", "count"),
    "receipt.acknowledged": ("receipt", "name", "recipient", "acknowledged_at", "shown_sha256"),
    "receipt.countersigned": ("receipt", "acknowledgment", "sha256"),
    "receipt.disputed": ("receipt", "recipient", "reason", "shown_sha256"),
    "bundle.exported": ("format", "organization", "evidence", "manifest_sha256", "checkpoint_size"),
}


def utf16_order(key: str) -> bytes:
    """Sort key of RFC 8785 section 3.2.3 (and of JavaScript's default sort): UTF-16 code units."""
    return key.encode("utf-16-be", "surrogatepass")


def summary(document: Mapping[str, Any]) -> Cell:
    """``field: value; ...`` of an entry's data: ``SUMMARY_FIELDS`` of its type, present ones only."""
    data = _data(document)
    kind = document.get("type")
    fields = SUMMARY_FIELDS.get(kind) if isinstance(kind, str) else None
    keys = [k for k in fields if k in data] if fields is not None else sorted(data, key=utf16_order)
    return "; ".join(f"{key}: {shown(data[key])}" for key in keys) or None


def timeline(entries: Sequence[Entry]) -> Section:
    """The timeline section: index, time, actor, type and summary of every entry, in index order."""
    rows = tuple(
        (str(i), text(document.get("time")), text(document.get("actor")), text(document.get("type")), summary(document))
        for i, document in entries
    )
    header = ("Index", "Time (server clock)", "Actor", "Type", "Data")
    title = "Timeline (every ledger entry of the case in this bundle)"
    return Section("timeline", title, header, ("", "", "", "", "code"), rows)
