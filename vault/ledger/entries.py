"""Ledger entries: RFC 8785 canonical JSON, the exact bytes that are hashed, stored and served.

An entry is ``{"v": 1, "type", "time", "organization", "case", "actor", "data"}``; ``docs/ledger.md``
lists the types and their ``data``. Entry bytes are produced once, at append, and never re-serialized.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import rfc8785

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
    return canonical_json(document)


#: Integers JSON numbers carry exactly (RFC 8785 serializes numbers as IEEE 754 doubles).
_SAFE_INT = 2**53 - 1


def _plain(value: object) -> bool:
    """Whether ``json.dumps`` is guaranteed to write ``value`` exactly as RFC 8785 does: objects with ASCII
    keys (so code point order is UTF-16 order), strings, booleans, null, and integers a double holds.
    Floats are left to ``rfc8785``, which implements the ECMAScript number format. Exact types only
    (subclasses such as enums go to ``rfc8785``); iterative, as this runs on every append."""
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if not -_SAFE_INT <= item <= _SAFE_INT:  # type: ignore[operator]
                return False
        elif kind is dict:
            for key, inner in item.items():  # type: ignore[attr-defined]
                if type(key) is not str or not key.isascii():
                    return False
                pending.append(inner)
        elif kind is list:
            pending.extend(item)  # type: ignore[arg-type]
        else:
            return False
    return True


def canonical_json(document: Any) -> bytes:
    """RFC 8785 canonical JSON bytes.

    Every ledger append runs this, and ``rfc8785.dumps`` (pure Python) was the largest CPU cost of an
    append. For the values entries are made of, the standard library's C encoder with sorted keys, no
    whitespace and raw UTF-8 produces the same bytes (string escapes match RFC 8785 section 3.2.2.2), so
    it is used when ``_plain`` proves it safe; anything else goes to ``rfc8785``. A property test holds the
    two equal.
    """
    if _plain(document):
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: let rfc8785 refuse it with its own message
    try:
        return rfc8785.dumps(document)
    except Exception as exc:  # rfc8785 raises its own error types for floats, big ints, bad keys
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
