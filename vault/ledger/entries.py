"""Ledger entries: RFC 8785 canonical JSON, the exact bytes that are hashed, stored and served.

An entry is ``{"v": 1, "type", "time", "organization", "case", "actor", "data"}``; ``docs/ledger.md``
lists the types and their ``data``. Entry bytes are produced once, at append, and never re-serialized.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vault import canonical
from vault.clock import rfc3339
from vault.errors import InvalidInput

ENTRY_VERSION = 1


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """What a caller wants recorded; the log adds nothing but the index it lands at."""

    type: str
    organization_id: str
    case_id: str | None
    actor: str
    data: dict[str, Any]


def encode_entry(draft: EntryDraft, time: datetime) -> bytes:
    """Canonical JSON bytes of an entry (RFC 8785)."""
    document: dict[str, Any] = {
        "v": ENTRY_VERSION,
        "type": draft.type,
        "time": rfc3339(time),
        "organization": draft.organization_id,
        "case": draft.case_id,
        "actor": draft.actor,
        "data": draft.data,
    }
    try:
        return canonical.dumps(document)
    except canonical.CanonicalizationError as exc:
        raise InvalidInput(f"ledger entry data is not canonicalizable JSON: {exc}") from exc


def decode_entry(body: bytes) -> dict[str, Any]:
    """Parse entry bytes (for display); the bytes themselves stay the record."""
    value = json.loads(body)
    if not isinstance(value, dict):
        raise InvalidInput("ledger entry is not a JSON object")
    return value


def entry_mismatch(body: bytes, organization_id: str, entry_type: str, case_id: str | None) -> str | None:
    """Why ``body`` cannot be the entry stored in a row with these columns, or ``None`` if it can.

    The leaf hash covers the bytes alone; this ties them to their row, so an entry written straight
    into the table (rather than appended) is caught even at the unsigned end of the log.
    """
    try:
        value = json.loads(body)
    except ValueError:
        return "the bytes are not JSON"
    if not isinstance(value, dict):
        return "the bytes are not a JSON object"
    expected = {"v": ENTRY_VERSION, "organization": organization_id, "type": entry_type, "case": case_id}
    for name, want in expected.items():
        if value.get(name, ...) != want:
            return f"its {name!r} is {value.get(name)!r}, the row says {want!r}"
    if not isinstance(value.get("time"), str) or not isinstance(value.get("actor"), str):
        return "its 'time' or 'actor' is missing"
    if not isinstance(value.get("data"), dict):
        return "its 'data' is not an object"
    return None
