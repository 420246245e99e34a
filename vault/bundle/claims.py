"""What a bundle claims, held against its signed entries: completeness, the case binding of every receipt and
acknowledgment, and every field of ``bundle.json`` (``docs/bundle.md``, "Completeness" and "Claims").

The checks in ``checks.py`` establish which entries are authentic (inclusion in the signed checkpoint).
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

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vault.bundle import bagit, layout
from vault.ledger.entries import NoLink, case_link

CheckTuple = tuple[str, str, bool, str]
#: (kind, item, detail) of a warning: shown, never a pass.
WarningTuple = tuple[str, str, str]

ACK_SUFFIX = "-acknowledgment"


def _list(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _data(entry: Mapping[str, Any]) -> dict[str, Any]:
    data = entry.get("data")
    return data if isinstance(data, dict) else {}


def ack_status(block: Mapping[str, Any]) -> str:
    """The ``status`` that ``bundle.json`` gives an acknowledgment, from its signed acknowledgment block."""
    return f"acknowledged by {block.get('name')} <{block.get('recipient')}> at {block.get('acknowledged_at')}"


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

    def _add(self, kind: str, item: str, ok: bool, detail: str) -> None:
        self.out.append((kind, item, ok, detail))

    def run(self) -> list[CheckTuple]:
        if self.case_id is None or self.checkpoint_size is None:
            return self.out  # the index or the checkpoint failed; nothing can be held against them
        tip = self._export_record()
        if tip is not None:
            self._chain(tip)
            self._exported_set(tip)
        self._index_fields(tip)
        self._bag_info(tip)
        self._evidence_labels()
        self._receipts()
        return self.out

    def _of_type(self, entry_type: str) -> list[tuple[int, dict[str, Any]]]:
        return [(i, e) for i, e in sorted(self.entries.items()) if e.get("type") == entry_type]

    # --- completeness --------------------------------------------------------------------------

    def _export_record(self) -> int | None:
        """The bundle's own ``bundle.exported`` entry (format 2), or ``None`` with a failure or warning."""
        size, fmt = self.checkpoint_size, self.index.get("format")
        assert size is not None  # noqa: S101 - run() checked it
        if fmt == layout.FORMAT_1:
            linked = [i for i, e in sorted(self.entries.items()) if e.get("v") != 1]
            if linked:
                self._add(
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
            self._add("completeness", "case", False, "the bundle holds no verified entry of its case")
            return None
        tip = max(self.entries)
        entry = self.entries[tip]
        if entry.get("type") != "bundle.exported" or entry.get("v") == 1:
            self._add(
                "completeness",
                layout.entry_path(tip),
                False,
                f"the case's last entry in the bundle (entry {tip}) is a {entry.get('type')}, not the export's "
                "bundle.exported record: entries after it may have been left out",
            )
            return None
        if tip != size - 1:
            self._add(
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
                    self._add("completeness", layout.entry_path(current), False, f"entry {current}: {link.reason}")
                    broken = True
                break
            if link is None:
                break  # the case's first entry
            missing = self._link_problem(current, link.index, link.leaf_hash)
            if missing is not None:
                self._add("completeness", layout.entry_path(link.index), False, missing)
                broken = True
                break
            current = link.index
        for index in sorted(set(self.entries) - on_chain):
            if legacy_from is not None and index < legacy_from and self.entries[index].get("v") == 1:
                continue  # before the links began: covered by the warning below
            if not broken:
                self._add(
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
        self._add(
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
            self._add("completeness", f"evidence {evidence_id}", False, detail)

    # --- bundle.json against the signed entries -------------------------------------------------

    def _field(self, name: str, listed: Any, signed: Any, source: str) -> None:
        if listed != signed:
            self._add(
                "index", f"{layout.INDEX} {name}", False, f"bundle.json says {listed!r}; {source} records {signed!r}"
            )

    def _index_fields(self, tip: int | None) -> None:
        opened = self._of_type("case.opened")
        if opened:
            index, entry = opened[0]
            self._field("client_name", self.index.get("client_name"), _data(entry).get("client_name"), f"entry {index}")
        else:
            self.warnings.append(
                ("index", f"{layout.INDEX} client_name", "not checked: case.opened is not in the bundle")
            )
        organization = self.index.get("organization")
        organization = organization if isinstance(organization, dict) else {}
        some = next(iter(self.entries.values()), None)
        if some is not None:
            self._field("organization.id", organization.get("id"), some.get("organization"), "every entry")
        if tip is None:
            return
        export = self.entries[tip]
        signed_org = _data(export).get("organization")
        signed_org = signed_org if isinstance(signed_org, dict) else {}
        source = f"the export entry {tip}"
        for key in ("id", "name", "slug"):
            self._field(f"organization.{key}", organization.get(key), signed_org.get(key), source)
        self._field("exported_at", self.index.get("exported_at"), export.get("time"), source)
        self._field("exported_by", self.index.get("exported_by"), export.get("actor"), source)

    def _bag_info(self, tip: int | None) -> None:
        """``bag-info.txt``'s labels, which BagIt tools show, against the signed values they repeat."""
        data = self.files.get(layout.BAG_INFO_TXT)
        try:
            info = bagit.BagInfo.parse(data) if data is not None else None
        except bagit.MalformedBag:
            info = None
        if info is None:
            return  # the bag checks already fail a missing or malformed bag-info.txt
        signed: dict[str, object] = {
            "External-Identifier": self.case_id,
            "Offboard-Case": self.case_id,
            "Offboard-Format": self.index.get("format"),
            "Offboard-Origin": self.origin,
            "Offboard-Checkpoint-Size": str(self.checkpoint_size),
        }
        opened = self._of_type("case.opened")
        if opened:
            client = str(_data(opened[0][1]).get("client_name"))
            signed["External-Description"] = f"Offboarding evidence bundle for {client}"
        if tip is not None:
            export = self.entries[tip]
            organization = _data(export).get("organization")
            signed["Source-Organization"] = organization.get("name") if isinstance(organization, dict) else None
            signed["Offboard-Exported-By"] = export.get("actor")
            signed["Bagging-Date"] = str(export.get("time"))[:10]
        for label, value in signed.items():
            found, want = info.get(label), bagit.clean_value(str(value))
            if found != want:
                self._add(
                    "bag", f"{layout.BAG_INFO_TXT} {label}", False, f"says {found!r}; the signed data say {want!r}"
                )

    def _evidence_labels(self) -> None:
        stored = {str(_data(e).get("evidence")): (i, _data(e)) for i, e in self._of_type("evidence.stored")}
        for item in _list(self.index.get("evidence")):
            evidence_id = str(item.get("id"))
            found = stored.get(evidence_id)
            if found is None:
                continue  # the evidence checks already fail an item without its verified entry
            index, data = found
            signed = {
                "filename": data.get("filename"),
                "kind": data.get("kind"),
                "content_type": data.get("content_type"),
                "size": data.get("size"),
                "ledger_index": index,
                "path": layout.evidence_path(evidence_id, str(data.get("filename"))),
            }
            wrong = [name for name, value in signed.items() if item.get(name) != value]
            detail = (
                f"bundle.json gives {', '.join(f'{n} {item.get(n)!r}' for n in wrong)}; entry {index} records "
                + ", ".join(f"{n} {signed[n]!r}" for n in wrong)
            )
            self._add(
                "evidence", f"evidence {evidence_id}", not wrong, detail if wrong else f"labels as in entry {index}"
            )

    # --- receipts and acknowledgments ----------------------------------------------------------

    def _receipts(self) -> None:
        issued = {str(_data(e).get("receipt")): (i, _data(e)) for i, e in self._of_type("receipt.issued")}
        countersigned = {str(_data(e).get("receipt")): (i, _data(e)) for i, e in self._of_type("receipt.countersigned")}
        listed = {str(item.get("id")): item for item in _list(self.index.get("receipts"))}
        for receipt_id, item in listed.items():
            if receipt_id.endswith(ACK_SUFFIX):
                ok, detail = self._acknowledgment(receipt_id.removesuffix(ACK_SUFFIX), item, countersigned)
            else:
                ok, detail = self._receipt(receipt_id, item, issued)
            self._add("binding", str(item.get("json")), ok, detail)
        for receipt_id, (index, _) in sorted(issued.items()):
            if receipt_id not in listed:
                self._add(
                    "binding",
                    f"receipt {receipt_id}",
                    False,
                    f"entry {index} issued receipt {receipt_id}; the bundle lacks it",
                )
        for receipt_id, (index, _) in sorted(countersigned.items()):
            if receipt_id + ACK_SUFFIX not in listed:
                self._add(
                    "binding",
                    f"receipt {receipt_id}",
                    False,
                    f"entry {index} countersigned the client's acknowledgment of receipt {receipt_id}; "
                    "the bundle lacks it",
                )

    def _document(self, item: Mapping[str, Any], receipt_id: str) -> tuple[bytes, dict[str, Any], dict[str, Any]] | str:
        json_path, sig_path = layout.receipt_paths(receipt_id)[:2]
        if item.get("json") != json_path or item.get("sig") != sig_path:
            return (
                f"bundle.json places it at {item.get('json')!r} and {item.get('sig')!r}, "
                f"not {json_path!r} and {sig_path!r}"
            )
        body, sig_bytes = self.files.get(json_path), self.files.get(sig_path)
        if body is None or sig_bytes is None:
            return "its signed document or signature is missing"
        try:
            document, sig = json.loads(body), json.loads(sig_bytes)
        except ValueError as exc:
            return f"not JSON: {exc}"
        if not isinstance(document, dict) or not isinstance(sig, dict):
            return "not a JSON object"
        return body, document, sig

    def _receipt(
        self, receipt_id: str, item: Mapping[str, Any], issued: Mapping[str, tuple[int, dict[str, Any]]]
    ) -> tuple[bool, str]:
        parsed = self._document(item, receipt_id)
        if isinstance(parsed, str):
            return False, parsed
        body, document, sig = parsed
        case = document.get("case")
        case_of = case.get("id") if isinstance(case, dict) else None
        if case_of != self.case_id or document.get("id") != receipt_id:
            return False, f"receipt {document.get('id')} is of case {case_of}, not this bundle's case {self.case_id}"
        record = issued.get(receipt_id)
        if record is None:
            return False, f"no verified receipt.issued entry of this case records receipt {receipt_id}"
        index, data = record
        digest = hashlib.sha256(body).hexdigest()
        if (data.get("sha256"), data.get("signature"), data.get("key_id")) != (
            digest,
            sig.get("signature"),
            sig.get("key_id"),
        ):
            return False, f"entry {index} records another document or signature for receipt {receipt_id}"
        status = self._receipt_status(receipt_id)
        if item.get("status") != status:
            return False, f"bundle.json says status {item.get('status')!r}; the entries say {status!r}"
        problem = self._deliverables(document)
        if problem is not None:
            return False, problem
        return True, f"receipt of this case, SHA-256 {digest} as issued in entry {index}; every deliverable present"

    def _receipt_status(self, receipt_id: str) -> str:
        types = {e.get("type") for e in self.entries.values() if _data(e).get("receipt") == receipt_id}
        for entry_type, status in (
            ("receipt.countersigned", "acknowledged"),
            ("receipt.disputed", "disputed"),
            ("receipt.sent", "sent"),
        ):
            if entry_type in types:
                return status
        return "draft"

    def _deliverables(self, document: Mapping[str, Any]) -> str | None:
        held = {str(e.get("id")): e.get("path") for e in _list(self.index.get("evidence"))}
        for item in _list(document.get("deliverables")):
            evidence_id, want = str(item.get("evidence")), item.get("sha256")
            path = held.get(evidence_id)
            found = self.sha256.get(str(path)) if path is not None else None
            if found is None:
                return (
                    f"deliverable {evidence_id} ({item.get('filename')}) is listed by the receipt but not in the bundle"
                )
            if found != want:
                return f"deliverable {evidence_id}: the receipt lists SHA-256 {want}, the bundle's file is {found}"
        return None

    def _acknowledgment(
        self, receipt_id: str, item: Mapping[str, Any], countersigned: Mapping[str, tuple[int, dict[str, Any]]]
    ) -> tuple[bool, str]:
        parsed = self._document(item, receipt_id + ACK_SUFFIX)
        if isinstance(parsed, str):
            return False, parsed
        body, document, sig = parsed
        receipt = document.get("receipt")
        receipt = receipt if isinstance(receipt, dict) else {}
        case = receipt.get("case")
        case_of = case.get("id") if isinstance(case, dict) else None
        block = document.get("acknowledgment")
        block = block if isinstance(block, dict) else {}
        if case_of != self.case_id or receipt.get("id") != receipt_id or block.get("receipt") != receipt_id:
            return False, (
                f"acknowledgment of receipt {block.get('receipt')} of case {case_of}, not of receipt {receipt_id} "
                f"of this bundle's case {self.case_id}"
            )
        record = countersigned.get(receipt_id)
        if record is None:
            return (
                False,
                f"no verified receipt.countersigned entry of this case records an acknowledgment of {receipt_id}",
            )
        index, data = record
        digest = hashlib.sha256(body).hexdigest()
        if (data.get("sha256"), data.get("signature"), data.get("key_id")) != (
            digest,
            sig.get("signature"),
            sig.get("key_id"),
        ):
            return False, f"entry {index} countersigned another document for receipt {receipt_id}"
        receipt_path = layout.receipt_paths(receipt_id)[0]
        try:
            own = json.loads(self.files.get(receipt_path) or b"null")
        except ValueError:
            own = None
        if own != receipt:
            return False, f"it acknowledges another document than {receipt_path}"
        if item.get("status") != ack_status(block):
            return (
                False,
                f"bundle.json says status {item.get('status')!r}; the signed acknowledgment says {ack_status(block)!r}",
            )
        return True, f"the client's acknowledgment of receipt {receipt_id}, countersigned in entry {index}"


__all__ = ["ACK_SUFFIX", "ClaimChecks", "WarningTuple", "ack_status"]
