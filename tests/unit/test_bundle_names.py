"""The bundle's member-name index: folders found by bisection, entry and proof names parsed once, and
every name outside the layout reported with its reason."""

from __future__ import annotations

from vault.bundle import layout
from vault.bundle.names import BagNames

GOOD = {
    layout.CHECKPOINT,
    layout.KEYS_INDEX,
    "data/keys/1a2b3c4d.vkey",
    "data/evidence/ev1-report.pdf",
    "data/ledger/entries/0.json",
    "data/ledger/entries/10.json",
    "data/ledger/proofs/0.tlog-proof",
    "data/ledger/proofs/10.tlog-proof",
    "bagit.txt",
    "manifest-sha256.txt",
}


def test_folders_and_indexes() -> None:
    names = BagNames.index(GOOD)
    assert names.under(layout.ENTRIES_DIR) == ["data/ledger/entries/0.json", "data/ledger/entries/10.json"]
    assert names.under(layout.EVIDENCE_DIR) == ["data/evidence/ev1-report.pdf"]
    assert names.under("data/receipts/") == []
    assert names.entries == {"data/ledger/entries/0.json": 0, "data/ledger/entries/10.json": 10}
    assert names.proofs == {"data/ledger/proofs/0.tlog-proof": 0, "data/ledger/proofs/10.tlog-proof": 10}
    assert list(names.unexpected()) == []


def test_every_name_outside_the_layout_is_reported_with_its_reason() -> None:
    extra = {
        "data/notes.txt",
        "data/ledger/entries/01.json",  # a leading zero is not an index
        "data/ledger/proofs/3.json",
        "data/keys/private.key",
        "tagmanifest-md5.txt",  # a tag file: judged by the bag checks, not here
    }
    found = list(BagNames.index(GOOD | extra).unexpected())
    assert found == [
        ("data/keys/private.key", "unexpected file among the keys"),
        ("data/ledger/entries/01.json", "unexpected file among the ledger entries and proofs"),
        ("data/ledger/proofs/3.json", "unexpected file among the ledger entries and proofs"),
        ("data/notes.txt", "unexpected payload file (not part of the bundle format)"),
    ]
