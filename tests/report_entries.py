"""Crafted ledger entry sets for the report renderer, shared by its unit tests and by the Python/JavaScript
twin test: every section filled, awkward text (quotes, ampersands, ``<script>``, non-BMP emoji, combining
characters, ``$&``, very long text), keys whose UTF-16 order is not their code point order, numbers JSON
writes in exponent form, absent and mistyped fields, an empty case.

Each set is JSON text per entry, as a verifier reads entry files: both renderers parse the same text.
Integers beyond 2^53 and lone surrogates are left out on purpose: no verified entry can hold them (RFC
8785 refuses both), and the two languages do not read them alike.
"""

from __future__ import annotations

import json
from typing import Any

ORIGIN = "vault.example/acme"
CASE = "c-1"
AWKWARD = "Ab \"quoted\" & 'single' <script>alert('x')</script> $& $1 🎉 e\u0301 \u212b \u0000\t\r\n end"
LONG = ("Line of a long note with <b>tags</b> & emoji 🧾, " * 2000) + "\n" + "é" * 5000


def entry(
    kind: str, data: Any, *, time: str = "2026-11-01T10:00:00.000000Z", actor: str = "staff:pm@x", v: int = 1
) -> dict[str, Any]:
    return {"v": v, "type": kind, "time": time, "organization": "org-1", "case": CASE, "actor": actor, "data": data}


def _numbered(documents: list[dict[str, Any]], first: int = 3) -> list[tuple[int, str]]:
    return [(first + 2 * n, json.dumps(document, ensure_ascii=False)) for n, document in enumerate(documents)]


def full_case() -> list[tuple[int, str]]:
    """A case that fills every section, closes, is disputed, resolved and closed again, then exported (v2)."""
    docs = [
        entry(
            "case.opened",
            {
                "client_name": AWKWARD,
                "contacts": ["a@client.example", "b&c@client.example"],
                "owner": "pm@agency.example",
                "owner_id": "s-1",
                "trigger": "contract_end",
                "service_type": "web <agency>",
                "intent_date": "2026-10-30",
                "target_end_date": "2026-11-30",
                "status": "open",
            },
        ),
        entry(
            "case.playbook_snapshot", {"playbook": "web", "version": 3, "sha256": "ab" * 32, "playbook_version": "p"}
        ),
        entry("case.status_changed", {"from": "open", "to": "in_progress", "reason": "work recorded"}),
        entry(
            "case.owner_changed",
            {
                "from": "pm@agency.example",
                "from_id": "s-1",
                "to": "lead@agency.example",
                "to_id": "s-2",
                "reason": "holiday",
            },
        ),
        entry(
            "evidence.stored",
            {
                "evidence": "ev-1",
                "sha256": "11" * 32,
                "size": 1234,
                "filename": "Rapport e\u0301te\u0301 \u212b.pdf",
                "kind": "deliverable",
                "content_type": "application/pdf",
                "storage_key": "k",
                "version_id": None,
                "stored_at": "2026-11-01T10:00:00Z",
            },
        ),
        entry(
            "evidence.stored",
            {
                "evidence": "ev/2",
                "sha256": "22" * 32,
                "size": 0,
                "filename": "../../etc/passwd",
                "kind": "confirmation",
            },
        ),
        entry(
            "evidence.stored",
            {"evidence": "ev-3", "sha256": "33" * 32, "size": 9, "filename": "📄🎉.txt", "kind": "other"},
        ),
        entry(
            "step.completed",
            {
                "step": "handover",
                "title": AWKWARD,
                "note": LONG,
                "evidence": [
                    {"id": "ev-1", "sha256": "11" * 32, "kind": "deliverable"},
                    {"id": "ev-unknown"},
                    "not an object",
                ],
            },
        ),
        entry("step.completed", {"step": "dns", "title": "DNS moved", "evidence": []}),
        entry(
            "access.added",
            {"access_item": "a-1", "name": "GitHub <org>", "kind": "code", "held_by": "agency", "accounts": ["x", "y"]},
        ),
        entry(
            "access.added",
            {"access_item": "a-2", "name": "Stripe", "kind": "billing", "held_by": "client", "accounts": []},
        ),
        entry(
            "access.revoked",
            {
                "access_item": "a-1",
                "name": "GitHub <org>",
                "revoked_by": "ops@x",
                "method": "removed & rotated",
                "evidence": [{"id": "ev-3", "sha256": "33" * 32}],
            },
        ),
        entry(
            "access.verified",
            {"access_item": "a-1", "name": "GitHub <org>", "verified_by": "lead@x", "revoked_by": "ops@x"},
        ),
        entry(
            "receipt.issued",
            {
                "receipt": "r-1",
                "sha256": "44" * 32,
                "key_id": "abcd1234",
                "signature": "c2ln",
                "deliverables": ["ev-1", "ev/2"],
                "checkpoint_size": 12,
            },
        ),
        entry(
            "receipt.sent",
            {
                "receipt": "r-1",
                "links": [
                    {"id": "l-1", "recipient": "a@client.example"},
                    {"id": "l-2", "recipient": "b&c@client.example"},
                ],
                "expires_at": "2026-12-01T00:00:00Z",
                "voided": [],
                "delivery": "smtp",
            },
        ),
        entry(
            "receipt.sent",
            {"receipt": "r-1", "links": [{"id": "l-3", "recipient": "a@client.example"}, "junk"], "expires_at": "x"},
        ),
        entry(
            "receipt.opened",
            {"receipt": "r-1", "link": "l-1", "method": "GET", "ip": "203.0.113.9", "user_agent": 'UA "q"', "count": 1},
            actor="client:a@client.example",
        ),
        entry(
            "receipt.opened",
            {"receipt": "r-1", "link": "l-1", "method": "HEAD", "count": 2},
            actor="client:a@client.example",
        ),
        entry(
            "receipt.acknowledged",
            {
                "id": "ack-1",
                "receipt": "r-1",
                "recipient": "a@client.example",
                "name": "Zoë <Client>",
                "acknowledged_at": "2026-11-03T09:00:00.000001Z",
                "ip": "203.0.113.9",
                "user_agent": "UA",
                "shown_sha256": "55" * 32,
                "token_id": "t",
            },
            actor="client:a@client.example",
        ),
        entry(
            "receipt.countersigned",
            {
                "receipt": "r-1",
                "acknowledgment": "ack-1",
                "sha256": "66" * 32,
                "key_id": "abcd1234",
                "signature": "c2ln",
            },
            actor="system:offboard",
        ),
        entry("case.status_changed", {"from": "in_progress", "to": "fully_offboarded", "reason": "gate passed"}),
        entry("receipt.issued", {"receipt": "r-2", "deliverables": ["ev-3"]}),
        entry(
            "receipt.disputed",
            {
                "receipt": "r-2",
                "link": "l-9",
                "recipient": "b&c@client.example",
                "reason": AWKWARD,
                "shown_sha256": "77" * 32,
            },
            actor="client:b&c@client.example",
        ),
        entry(
            "case.status_changed",
            {"from": "fully_offboarded", "to": "disputed", "reason": "client says <nothing> arrived"},
        ),
        entry("case.note", {"note": "n-1", "text": LONG}),
        entry(
            "case.waiver", {"waiver": "w-1", "scope": "acknowledgment", "receipt": None, "reason": "client unreachable"}
        ),
        entry("case.waiver", {"waiver": "w-2", "scope": "acknowledgment", "receipt": "r-2", "reason": "superseded"}),
        entry(
            "case.waiver",
            {
                "waiver": "w-3",
                "scope": "deliverable",
                "evidence": "ev-3",
                "filename": "design <files>.zip",
                "sha256": "33" * 32,
                "reason": AWKWARD,
            },
        ),
        entry("case.status_changed", {"from": "disputed", "to": "in_progress", "reason": "resolved: resent"}),
        entry(
            "case.status_changed",
            {"from": "in_progress", "to": "fully_offboarded", "reason": "gate passed again"},
            time="2026-11-20T08:00:00.123456Z",
        ),
        entry(
            "custom.thing",
            {
                "\uff5e": "fullwidth tilde (after the emoji in UTF-16 order)",
                "😀": "emoji key",
                "b": 1.5,
                "a": [1, -0.0, 1e21, 0.30000000000000004],
                "10": True,
                "2": False,
                "__proto__": {"z": None, "y": ""},
                "constructor": "c",
                "": "empty key",
                "é": {"nested": ["<&>"]},
            },
        ),
        entry("constructor", {"toString": "x"}),
        entry(
            "bundle.exported",
            {
                "format": "offboard-bundle/2",
                "organization": {"id": "org-1", "name": "Acme & Sons <Ltd> 🎉", "slug": "acme"},
                "evidence": [{"id": "ev-1", "sha256": "11" * 32}, {"id": "ev-3", "sha256": "33" * 32}],
            },
            actor="staff:lead@agency.example",
            time="2026-11-21T12:00:00.000000Z",
            v=2,
        ),
    ]
    return _numbered(docs)


def odd_case() -> list[tuple[int, str]]:
    """Absent and mistyped fields everywhere; the last entry is a format-1 export (v1), so export facts are absent."""
    docs = [
        entry("case.opened", {"client_name": "", "contacts": "not a list", "owner": None, "status": 7}),
        entry("case.opened", {"client_name": "second opened entry is ignored"}),
        {"v": 1, "type": "case.status_changed", "data": "not an object"},
        {
            "v": 1,
            "type": "evidence.stored",
            "time": 5,
            "actor": ["a"],
            "data": {"evidence": 1, "filename": None, "size": "12"},
        },
        {"v": 1, "type": "step.completed", "data": {}},
        {"v": 1, "type": "access.revoked", "data": {"name": "Only revoked"}},
        {"v": 1, "type": "access.verified", "data": {"access_item": {"id": 1}, "name": ["n"]}},
        {"v": 1, "type": "receipt.acknowledged", "data": {}},
        {"v": 1, "type": "receipt.countersigned", "data": {"receipt": 5}},
        {"v": 1, "type": "receipt.sent", "data": {"receipt": 5, "links": {"not": "a list"}}},
        {"v": 1, "type": "case.waiver", "data": {}},
        {"v": 1, "data": {"only": "data"}},
        {"v": 1, "type": ["a", "list"], "data": {}},
        {
            "v": True,
            "type": "bundle.exported",
            "data": {"format": "offboard-bundle/2", "organization": {"name": "Not v2"}},
        },
        entry(
            "bundle.exported",
            {"manifest_sha256": "88" * 32, "payload_oxum": "1.1", "checkpoint_size": 9, "format": "offboard-bundle/1"},
        ),
    ]
    return _numbered(docs, first=0)


def empty_case() -> list[tuple[int, str]]:
    return []


CASES = {"full": full_case, "odd": odd_case, "empty": empty_case}


def decoded(case: list[tuple[int, str]]) -> list[tuple[int, dict[str, Any]]]:
    return [(index, json.loads(text)) for index, text in case]
