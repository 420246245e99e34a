"""What a bundle claims, held against its signed entries: completeness here; the case binding of every receipt
and acknowledgment in ``binding.py``; every field of ``bundle.json`` and ``bag-info.txt`` in ``labels.py``
(``docs/bundle.md``, "Verifying", steps 13 to 15).

The checks in ``ledger_checks.py`` establish which entries are authentic (inclusion in the signed checkpoint).
These establish that nothing of the case was left out and nothing from elsewhere was spliced in:

- **Completeness.** Each version 2 entry of a case links to the case's previous entry (index and leaf hash,
  ``vault.ledger.entries.CaseLink``), and a format 2 bundle ends with its own ``bundle.exported`` entry, the
  last entry of the log at the bundle's checkpoint. Walking the links back from that entry must reach the
  case's first entry (``prev: null``) through entries that are all in the bundle; any gap fails, naming the
  missing index. A walk that reaches a version 1 entry (written before links existed) proves completeness
  only from there: that is a warning, shown and never counted as a pass.
- **Binding.** A receipt is the case's only if a verified ``receipt.issued`` entry of the case records its
  SHA-256 and signature; an acknowledgment only if a verified ``receipt.countersigned`` entry records its
  SHA-256. Every receipt and countersignature the entries record must be in the bundle, and every
  deliverable a receipt lists must be in it with the same SHA-256.
- **Labels.** ``bundle.json`` and ``bag-info.txt`` are indexes, never a source of truth: every field a reader
  is shown is compared with the signed entry it comes from, and a disagreement fails naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vault.bundle import layout
from vault.bundle.binding import check_receipts
from vault.bundle.labels import check_labels
from vault.bundle.records import data_of as _data
from vault.bundle.records import dicts as _list
from vault.ledger.entries import NoLink, case_link

CheckTuple = tuple[str, str, bool, str]
#: (kind, item, detail) of a warning: shown, never a pass.
WarningTuple = tuple[str, str, str]


@dataclass(slots=True)
class ClaimChecks:
    """Runs once, after the entries are verified and every member is hashed."""

    index: Mapping[str, Any]
    #: The verified entries of the bundle's case, by ledger index, and their leaf hashes.
    entries: Mapping[int, dict[str, Any]]
    leaves: Mapping[int, bytes]
    #: Indexes whose entry file is in the bundle, verified or not (for clearer messages).
    present: set[int]
    files: Mapping[str, bytes]
    sha256: Mapping[str, str]
    case_id: str | None
    checkpoint_size: int | None
    #: The verified checkpoint's origin.
    origin: str | None = None
    out: list[CheckTuple] = field(default_factory=list)
    warnings: list[WarningTuple] = field(default_factory=list)
    #: The index from which the bundle proves it holds every entry of its case (``None``: not proven),
    #: and whether that index is the case's first entry (no warning about earlier ones).
    complete_from: int | None = None
    complete: bool = False

    def add(self, kind: str, item: str, ok: bool, detail: str) -> None:
        self.out.append((kind, item, ok, detail))

    def run(self) -> list[CheckTuple]:
        if self.case_id is None or self.checkpoint_size is None:
            return self.out  # the index or the checkpoint failed; nothing can be held against them
        tip = self._export_record()
        if tip is not None:
            self._chain(tip)
            self._exported_set(tip)
        check_labels(self, tip)
        check_receipts(self)
        return self.out

    def of_type(self, entry_type: str) -> list[tuple[int, dict[str, Any]]]:
        return [(i, e) for i, e in sorted(self.entries.items()) if e.get("type") == entry_type]

    # --- completeness --------------------------------------------------------------------------

    def _export_record(self) -> int | None:
        """The bundle's own ``bundle.exported`` entry (format 2), or ``None`` with a failure or warning."""
        size, fmt = self.checkpoint_size, self.index.get("format")
        assert size is not None  # noqa: S101 - run() checked it
        if fmt == layout.FORMAT_1:
            linked = [i for i, e in sorted(self.entries.items()) if e.get("v") != 1]
            if linked:
                self.add(
                    "completeness",
                    layout.INDEX,
                    False,
                    f"bundle.json says format {fmt}, but entries {linked[:5]} carry case links, which only "
                    "format 2 exports hold",
                )
            else:
                self.warnings.append(
                    (
                        "completeness",
                        "case",
                        "not provable: a format 1 bundle carries no export record, so "
                        "entries of the case may have been left out",
                    )
                )
            return None
        if not self.entries:
            self.add("completeness", "case", False, "the bundle holds no verified entry of its case")
            return None
        tip = max(self.entries)
        entry = self.entries[tip]
        if entry.get("type") != "bundle.exported" or entry.get("v") == 1:
            self.add(
                "completeness",
                layout.entry_path(tip),
                False,
                f"the case's last entry in the bundle (entry {tip}) is a {entry.get('type')}, not the export's "
                "bundle.exported record: entries after it may have been left out",
            )
            return None
        if tip != size - 1:
            self.add(
                "completeness",
                layout.entry_path(tip),
                False,
                f"the bundle's checkpoint (size {size}) does not end with its export record (entry {tip}): "
                f"entries {tip + 1} to {size - 1} may belong to the case",
            )
            return None
        return tip

    def _chain(self, tip: int) -> None:
        on_chain: set[int] = set()
        current, legacy_from, broken = tip, None, False
        while True:
            on_chain.add(current)
            link = case_link(self.entries[current])
            if isinstance(link, NoLink):
                if link.legacy:
                    legacy_from = current
                else:
                    self.add("completeness", layout.entry_path(current), False, f"entry {current}: {link.reason}")
                    broken = True
                break
            if link is None:
                break  # the case's first entry
            missing = self._link_problem(current, link.index, link.leaf_hash)
            if missing is not None:
                self.add("completeness", layout.entry_path(link.index), False, missing)
                broken = True
                break
            current = link.index
        for index in sorted(set(self.entries) - on_chain):
            if legacy_from is not None and index < legacy_from and self.entries[index].get("v") == 1:
                continue  # before the links began: covered by the warning below
            if not broken:
                self.add(
                    "completeness",
                    layout.entry_path(index),
                    False,
                    f"entry {index} names the case but is not on its chain of links: it belongs to another history",
                )
        if broken:
            return
        if legacy_from is not None:
            self.complete_from = legacy_from
            self.warnings.append(
                (
                    "completeness",
                    "case",
                    f"not provable for entries before index {legacy_from}: entry {legacy_from} was written "
                    "before case links; every entry from it to the export is present",
                )
            )
            return
        self.complete_from, self.complete = current, True
        self.add(
            "completeness",
            "case",
            True,
            f"all {len(on_chain)} entries of the case, from its first (entry {current}) to this export "
            f"(entry {tip}), are present",
        )

    def _link_problem(self, current: int, previous: int, leaf: bytes) -> str | None:
        if previous >= current:
            return f"entry {current} links to entry {previous}, which is not before it"
        if previous not in self.entries:
            why = " (its file is present but did not verify)" if previous in self.present else ""
            return (
                f"entry {previous} of the case is missing{why}: entry {current} links to it as the case's "
                "previous entry"
            )
        if self.leaves[previous] != leaf:
            return f"entry {previous} is not the entry that entry {current} links to (its leaf hash differs)"
        return None

    def _exported_set(self, tip: int) -> None:
        """The evidence the export entry says the bundle holds, against what bundle.json lists."""
        recorded = {str(e.get("id")): e.get("sha256") for e in _list(_data(self.entries[tip]).get("evidence"))}
        listed = {str(e.get("id")): e.get("sha256") for e in _list(self.index.get("evidence"))}
        for evidence_id in sorted(recorded.keys() | listed.keys()):
            want, found = recorded.get(evidence_id), listed.get(evidence_id)
            if want == found:
                continue
            if found is None:
                detail = f"evidence {evidence_id} is recorded in the export entry {tip} but not in the bundle"
            elif want is None:
                detail = f"evidence {evidence_id} is in the bundle but the export entry {tip} does not record it"
            else:
                detail = f"evidence {evidence_id}: the export entry {tip} records SHA-256 {want}, bundle.json {found}"
            self.add("completeness", f"evidence {evidence_id}", False, detail)


__all__ = ["ClaimChecks", "WarningTuple"]
