"""The completeness walk and the field checks of ``vault.bundle.claims`` on crafted entries: every way a chain
of case links can be cut, forked or started early, and the warnings that are never a pass."""

from __future__ import annotations

import hashlib
from typing import Any

from vault.bundle import layout
from vault.bundle.claims import ClaimChecks
from vault.canonical import dumps
from vault.ledger.entries import CaseLink, case_link, link_mismatch

CASE = "case-1"
ORG = "org-1"


def _leaf(entry: dict[str, Any]) -> bytes:
    return hashlib.sha256(b"\x00" + dumps(entry)).digest()


def chain(types: list[str], *, legacy: int = 0, first: int = 0) -> dict[int, dict[str, Any]]:
    """Entries of one case at indexes first, first + 2, ...; the first ``legacy`` are version 1."""
    entries: dict[int, dict[str, Any]] = {}
    previous: CaseLink | None = None
    for n, entry_type in enumerate(types):
        index = first + 2 * n
        entry: dict[str, Any] = {
            "v": 1 if n < legacy else 2,
            "type": entry_type,
            "time": f"2026-12-0{1 + n % 9}T10:00:00.000000Z",
            "organization": ORG,
            "case": CASE,
            "actor": "staff:pm@agency.example",
            "data": {"client_name": "Globex"} if entry_type == "case.opened" else {},
        }
        if n >= legacy:
            entry["prev"] = previous.to_json() if previous is not None else None
        if entry_type == "bundle.exported":
            entry["data"] = {"format": layout.FORMAT, "organization": {"id": ORG, "name": "Agency", "slug": "a"}}
            entry["data"]["evidence"] = []
        entries[index] = entry
        previous = CaseLink(index, _leaf(entry))
    return entries


def claims(entries: dict[int, dict[str, Any]], *, fmt: str = layout.FORMAT, size: int | None = None) -> ClaimChecks:
    tip = max(entries)
    index = {
        "format": fmt,
        "case": CASE,
        "client_name": "Globex",
        "organization": {"id": ORG, "name": "Agency", "slug": "a"},
        "exported_at": entries[tip]["time"],
        "exported_by": entries[tip]["actor"],
        "evidence": [],
        "receipts": [],
    }
    checks = ClaimChecks(
        index=index,
        entries=entries,
        leaves={i: _leaf(e) for i, e in entries.items()},
        present=set(entries),
        files={},
        sha256={},
        case_id=CASE,
        checkpoint_size=size if size is not None else tip + 1,
    )
    checks.run()
    return checks


def failures(checks: ClaimChecks) -> list[str]:
    return [f"[{kind}] {item}: {detail}" for kind, item, ok, detail in checks.out if not ok]


TYPES = ["case.opened", "evidence.stored", "case.note", "bundle.exported"]


def test_a_whole_chain_is_complete_from_the_first_entry() -> None:
    checks = claims(chain(TYPES, first=4))
    assert failures(checks) == [] and checks.warnings == []
    assert checks.complete_from == 4
    assert any(ok and "all 4 entries of the case" in detail for _, _, ok, detail in checks.out)


def test_each_missing_entry_is_named() -> None:
    for gone in (0, 2, 4):
        entries = chain(TYPES)
        del entries[gone]
        checks = claims(entries)
        assert any(f"entry {gone} of the case is missing" in f for f in failures(checks)), gone
        assert checks.complete_from is None


def test_a_present_but_unverified_entry_is_said_so() -> None:
    entries = chain(TYPES)
    del entries[2]
    checks = ClaimChecks(
        index={"format": layout.FORMAT, "evidence": [], "receipts": []},
        entries=entries,
        leaves={i: _leaf(e) for i, e in entries.items()},
        present={0, 2, 4, 6},
        files={},
        sha256={},
        case_id=CASE,
        checkpoint_size=7,
    )
    checks.run()
    assert any("its file is present but did not verify" in f for f in failures(checks))


def test_an_entry_replaced_by_another_with_the_same_index_breaks_the_link() -> None:
    entries = chain(TYPES)
    entries[2] = {**entries[2], "data": {"text": "rewritten"}}
    assert any("leaf hash differs" in f for f in failures(claims(entries)))


def test_an_entry_off_the_chain_is_spliced() -> None:
    entries = chain(TYPES)
    entries[3] = {**entries[2], "data": {"text": "from another history"}}
    assert any("entry 3 names the case but is not on its chain" in f for f in failures(claims(entries)))


def test_the_last_entry_must_be_the_export_record_ending_the_checkpoint() -> None:
    entries = chain(TYPES[:-1])
    assert any("not the export's bundle.exported record" in f for f in failures(claims(entries)))
    late = claims(chain(TYPES), size=12)
    assert any("does not end with its export record (entry 6): entries 7 to 11" in f for f in failures(late))


def test_a_chain_reaching_version_1_entries_warns_and_never_passes() -> None:
    checks = claims(chain(TYPES, legacy=2))
    assert failures(checks) == []
    assert checks.complete_from == 2
    assert [w[2] for w in checks.warnings] == [
        "not provable for entries before index 2: entry 2 was written before case links; every entry from it "
        "to the export is present"
    ]
    assert not any(kind == "completeness" and ok for kind, _, ok, _ in checks.out)


def test_format_1_warns_unless_it_holds_linked_entries() -> None:
    legacy = chain(TYPES, legacy=4)
    checks = claims(legacy, fmt=layout.FORMAT_1)
    assert failures(checks) == [] and checks.complete_from is None
    assert "a format 1 bundle carries no export record" in checks.warnings[0][2]
    relabeled = claims(chain(TYPES), fmt=layout.FORMAT_1)
    assert any("carry case links, which only format 2 exports hold" in f for f in failures(relabeled))


def test_index_fields_are_held_against_the_entries() -> None:
    entries = chain(TYPES)
    checks = claims(entries)
    assert failures(checks) == []
    forged = ClaimChecks(
        index={
            "format": layout.FORMAT,
            "client_name": "Other Ltd",
            "organization": {"id": ORG, "name": "Forged", "slug": "a"},
            "exported_at": "2020-01-01T00:00:00.000000Z",
            "exported_by": entries[6]["actor"],
            "evidence": [],
            "receipts": [],
        },
        entries=entries,
        leaves={i: _leaf(e) for i, e in entries.items()},
        present=set(entries),
        files={},
        sha256={},
        case_id=CASE,
        checkpoint_size=7,
    )
    forged.run()
    found = failures(forged)
    assert any("client_name: bundle.json says 'Other Ltd'; entry 0 records 'Globex'" in f for f in found)
    assert any("organization.name" in f and "'Forged'" in f for f in found)
    assert any("exported_at" in f for f in found)
    assert len(found) == 3


def test_case_link_parsing_and_the_log_check() -> None:
    entries = chain(TYPES)
    assert case_link(entries[0]) is None
    link = case_link(entries[2])
    assert isinstance(link, CaseLink) and link.index == 0
    assert link_mismatch(entries[2], CaseLink(0, _leaf(entries[0]))) is None
    assert "the previous one is entry 1" in str(link_mismatch(entries[2], CaseLink(1, _leaf(entries[0]))))
    assert "claims to be its case's first entry" in str(link_mismatch(entries[0], CaseLink(0, b"x" * 32)))
    broken = {**entries[2], "prev": {"index": 0, "leaf_hash": "not base64"}}
    assert "not 32 bytes of base64" in str(link_mismatch(broken, None))
    assert link_mismatch({**entries[2], "v": 1}, None) is None  # version 1: nothing to check
