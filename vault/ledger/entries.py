"""Ledger entries: RFC 8785 canonical JSON, the exact bytes that are hashed, stored and served.

An entry is ``{"v": 2, "type", "time", "organization", "case", "actor", "data"}``, and a case's entry also
``"prev"``: ``null`` for the case's first entry, else the index and leaf hash of the case's previous entry
(``CaseLink``). The links make each case a hash chain inside the Merkle log, so a bundle can prove it holds
every entry of its case (``docs/bundle.md``, "Completeness"). Version 1 entries, written before the links,
have no ``prev``. ``docs/ledger.md`` lists the types and their ``data``. Entry bytes are produced once, at
append, and never re-serialized.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vault import canonical
from vault.clock import rfc3339
from vault.errors import InvalidInput

ENTRY_VERSION = 2
#: Versions a stored entry may carry: 1 (before case links) and 2.
KNOWN_VERSIONS = (1, 2)


@dataclass(frozen=True, slots=True)
class CaseLink:
    """Where a case's previous entry is: its ledger index and its RFC 9162 leaf hash."""

    index: int
    leaf_hash: bytes

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "leaf_hash": base64.b64encode(self.leaf_hash).decode("ascii")}


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """What a caller wants recorded; the log adds nothing but the index it lands at."""

    type: str
    organization_id: str
    case_id: str | None
    actor: str
    data: dict[str, Any]


def encode_entry(draft: EntryDraft, time: datetime, prev: CaseLink | None = None) -> bytes:
    """Canonical JSON bytes of an entry (RFC 8785). ``prev`` is the case's previous entry (``None``: this is
    the case's first); entries without a case carry no link."""
    document: dict[str, Any] = {
        "v": ENTRY_VERSION,
        "type": draft.type,
        "time": rfc3339(time),
        "organization": draft.organization_id,
        "case": draft.case_id,
        "actor": draft.actor,
        "data": draft.data,
    }
    if draft.case_id is not None:
        document["prev"] = prev.to_json() if prev is not None else None
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


def decode_entries(bodies: Iterable[bytes]) -> list[dict[str, Any]]:
    """``decode_entry`` of many entries, sharing equal keys and short string values between them: a case's
    thousands of entries repeat the same keys, organization, case and actor, which would otherwise be held
    once per entry."""
    shared: dict[str, str] = {}

    def share(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        return {
            shared.setdefault(key, key): shared.setdefault(value, value)
            if type(value) is str and len(value) <= _SHARED_CHARS
            else value
            for key, value in pairs
        }

    decoder = json.JSONDecoder(object_pairs_hook=share)
    out = []
    for body in bodies:
        value = decoder.decode(body.decode(json.detect_encoding(body), "surrogatepass"))  # as json.loads does
        if not isinstance(value, dict):
            raise InvalidInput("ledger entry is not a JSON object")
        out.append(value)
    return out


#: Longest string value ``decode_entries`` shares (ids are 36 characters).
_SHARED_CHARS = 40


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
    if value.get("v") not in KNOWN_VERSIONS:
        return f"its 'v' is {value.get('v')!r}, expected one of {KNOWN_VERSIONS}"
    expected = {"organization": organization_id, "type": entry_type, "case": case_id}
    for name, want in expected.items():
        if value.get(name, ...) != want:
            return f"its {name!r} is {value.get(name)!r}, the row says {want!r}"
    if not isinstance(value.get("time"), str) or not isinstance(value.get("actor"), str):
        return "its 'time' or 'actor' is missing"
    if not isinstance(value.get("data"), dict):
        return "its 'data' is not an object"
    if value["v"] >= 2 and case_id is not None and "prev" not in value:
        return "it is a version 2 case entry without 'prev'"
    return None


@dataclass(frozen=True, slots=True)
class NoLink:
    """An entry that carries no usable case link, and why (a version 1 entry, or a malformed ``prev``)."""

    reason: str
    #: Whether the entry predates links (version 1) rather than carrying a broken one.
    legacy: bool = False


def case_link(value: dict[str, Any]) -> CaseLink | NoLink | None:
    """The ``prev`` of a decoded case entry: a ``CaseLink``, ``None`` (the case's first entry), or ``NoLink``."""
    if value.get("v") == 1:
        return NoLink("a version 1 entry carries no case link", legacy=True)
    prev = value.get("prev", ...)
    if prev is None:
        return None
    if not isinstance(prev, dict) or not isinstance(prev.get("index"), int) or isinstance(prev.get("index"), bool):
        return NoLink(f"its 'prev' is not a link: {prev!r}")
    try:
        leaf = base64.b64decode(str(prev.get("leaf_hash")), validate=True)
    except ValueError:
        leaf = b""
    if len(leaf) != 32:
        return NoLink(f"its 'prev' leaf hash is not 32 bytes of base64: {prev.get('leaf_hash')!r}")
    return CaseLink(prev["index"], leaf)


def link_mismatch(value: dict[str, Any], previous: CaseLink | None) -> str | None:
    """Why a decoded case entry's link disagrees with its case's actual previous entry, or ``None``."""
    link = case_link(value)
    if isinstance(link, NoLink):
        return None if link.legacy else link.reason
    if link is None and previous is not None:
        return f"it claims to be its case's first entry, but entry {previous.index} came before"
    if link is not None and (previous is None or link != previous):
        actual = "none" if previous is None else f"entry {previous.index}"
        return f"it links to entry {link.index} as its case's previous entry; the previous one is {actual}"
    return None
