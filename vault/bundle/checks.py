"""The content checks of a bundle: keys, checkpoint, every inclusion and consistency proof, evidence
against its ledger entries, receipt signatures and timestamps (``docs/bundle.md``, "Verifying").

The chain of trust: a pinned key (or, unpinned, the bundle's own keys) verifies the C2SP checkpoint
note; its root and size verify each entry's RFC 9162 inclusion proof (section 2.1.3.2); those three steps
are ``ledger_checks.py``. Here each verified ``evidence.stored`` entry names the SHA-256 and size its
evidence file must have; earlier checkpoints are consistency-proven (section 2.1.4.2) to be prefixes of
the bundle's. ``bundle.json`` only says where things are: every claim in it is checked against the signed
data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from signing.detached import DetachedSignature
from signing.errors import BadSignature, MalformedSignature
from signing.keys import Verifier
from vault.bundle import layout
from vault.bundle.certificate_check import check_certificate
from vault.bundle.claims import ClaimChecks, WarningTuple
from vault.bundle.ledger_checks import LedgerChecks, needed_before_evidence
from vault.bundle.legal_checks import LegalChecks
from vault.bundle.names import FIXED, BagNames
from vault.bundle.records import dicts as _list
from vault.bundle.report_html import check_report
from vault.bundle.since import check_since, proof_reader
from vault.bundle.tsa_tokens import check_token
from vault.bundle.verifier_page import check_verifier_page
from vault.bundle.witness_checks import WitnessPolicy, check_witnesses
from vault.errors import OffboardError
from vault.ledger.checkpoint import open_checkpoint
from vault.ledger.proofs import ConsistencyProof

CheckTuple = tuple[str, str, bool, str]


def _consistency_proof(data: object, bundle_format: object) -> ConsistencyProof:
    """The proof in the field names of the bundle's format: old names in format 3 fail, and new in 1 and 2."""
    if bundle_format in layout.LEGACY_CONSISTENCY_FORMATS:
        return ConsistencyProof.from_legacy_json(data)
    return ConsistencyProof.from_json(data)


@dataclass(slots=True)
class ContentChecks:
    """Runs once over the hashed members of one bundle: ``check_ledger()``, then ``check_files()``."""

    files: dict[str, bytes]
    sha256: dict[str, str]
    names: set[str]
    pinned: tuple[Verifier, ...]
    tsa_roots: list[x509.Certificate] | None
    case_id: str | None = None
    origin: str | None = None
    checkpoint_size: int | None = None
    #: ``--since``: (file name, text) of a checkpoint or tlog-proof the client kept (``since.py``).
    since: tuple[str, str] | None = None
    #: ``--witness-key``: the witnesses whose cosignatures must be on the witnessed checkpoint (``None``: none).
    witnesses: WitnessPolicy | None = None
    #: One sentence on the witnesses: who cosigned, or that no independent witness was checked.
    witness_summary: str = ""
    _out: list[CheckTuple] = field(default_factory=list)
    #: Findings shown beside the checks, never a pass, that do not change the verdict: what could not be
    #: proven either way (``claims.py``) and a ``verify.html`` other than ours (``_pages``).
    warnings: list[WarningTuple] = field(default_factory=list)
    #: The index from which the bundle proves it holds every entry of its case (``None``: not proven),
    #: and whether that is the case's first entry.
    complete_from: int | None = None
    complete: bool = False
    _names: BagNames = field(init=False)
    #: Steps 3 to 5; what they verified is what every later check is held against.
    _ledger: LedgerChecks = field(init=False)
    #: The pages' verdicts when ``pages_ahead`` judged them early.
    _early_pages: tuple[tuple[bool, str], tuple[bool, str]] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._names = BagNames.index(self.names)
        self._ledger = LedgerChecks(self.files, self.names, self._names, self.pinned, self._out)

    def _add(self, kind: str, item: str, ok: bool, detail: str) -> None:
        self._out.append((kind, item, ok, detail))

    def _text(self, path: str) -> str | None:
        return self._ledger.text(path)

    def check_ledger(self) -> None:
        """Index, keys, checkpoint and entries: reads only members ``needed_before_evidence`` names."""
        ledger = self._ledger
        ledger.run()
        self.case_id, self.origin, self.checkpoint_size = ledger.case_id, ledger.origin, ledger.checkpoint_size

    def check_files(self) -> list[CheckTuple]:
        """The rest, which needs every member's SHA-256 (evidence); returns every check of both steps."""
        self._evidence()
        self._earlier()
        if self.since is not None:
            name, text = self.since
            read = proof_reader(self._text, layout.consistency_path)
            self._out.append(
                check_since(
                    text, item=name, trusted=self._ledger.trusted, checkpoint=self._ledger.checkpoint, proof_from=read
                )
            )
        self._witnessed()
        self._receipts()
        self._timestamps()
        ledger = self._ledger
        self._out.extend(check_certificate(self.files, self.names, ledger.entries, ledger.trusted, self.origin))
        self._claims()
        self._legal()
        self._pages()
        self._known_files()
        return self._out

    def _claims(self) -> None:
        ledger = self._ledger
        claims = ClaimChecks(
            index=ledger.index,
            entries=ledger.entries,
            leaves=ledger.leaves,
            present=set(self._names.entries.values()),
            files=self.files,
            sha256=self.sha256,
            case_id=self.case_id,
            checkpoint_size=self.checkpoint_size,
            origin=ledger.checkpoint.body.origin if ledger.checkpoint is not None else None,
        )
        self._out.extend(claims.run())
        self.warnings.extend(claims.warnings)
        self.complete_from, self.complete = claims.complete_from, claims.complete

    def _witnessed(self) -> None:
        def optional(path: str) -> str | None:
            # Absent is no bag failure here: a bundle made before any cosignature carries neither file.
            return self._text(path) if path in self.names else None

        verdict = check_witnesses(
            optional(layout.WITNESSED),
            item=layout.WITNESSED,
            policy=self.witnesses,
            trusted=self._ledger.trusted,
            checkpoint=self._ledger.checkpoint,
            earlier_text=lambda size: optional(layout.earlier_checkpoint_path(size)),
        )
        self._out.extend(verdict.checks)
        self.witness_summary = verdict.summary

    def _legal(self) -> None:
        ledger = self._ledger
        checkpoint = ledger.checkpoint.body if ledger.checkpoint is not None else None
        present = self._names.under(layout.LEGAL_DIR)
        legal = LegalChecks(ledger.entries, self.files, self.sha256, present, self.case_id, checkpoint)
        self._out.extend(legal.run())

    # --- evidence ------------------------------------------------------------------------------

    def _evidence(self) -> None:
        listed = _list(self._ledger.index.get("evidence"))
        seen_paths: set[str] = set()
        seen_ids: set[str] = set()
        for item in listed:
            path, evidence_id = str(item.get("path")), str(item.get("id"))
            seen_paths.add(path)
            seen_ids.add(evidence_id)
            self._add("evidence", path, *self._evidence_item(item, path, evidence_id))
        for path in (n for n in self._names.under(layout.EVIDENCE_DIR) if n not in seen_paths):
            self._add("evidence", path, False, "file not listed in bundle.json, so not tied to any ledger entry")
        for index, entry in sorted(self._ledger.entries.items()):
            data = entry.get("data") or {}
            if entry.get("type") == "evidence.stored" and data.get("evidence") not in seen_ids:
                self._add(
                    "evidence",
                    layout.entry_path(index),
                    False,
                    f"entry {index} records evidence {data.get('evidence')} but the bundle has no file for it",
                )

    def _evidence_item(self, item: dict[str, Any], path: str, evidence_id: str) -> tuple[bool, str]:
        if not path.startswith(layout.EVIDENCE_DIR) or path not in self.sha256:
            return False, "missing from the bag (or unreadable)"
        index = item.get("ledger_index")
        entry = self._ledger.entries.get(index) if isinstance(index, int) else None
        if entry is None or entry.get("type") != "evidence.stored":
            return False, f"its ledger entry {index} is missing or did not verify"
        data = entry.get("data") or {}
        found = self.sha256[path]
        if data.get("evidence") != evidence_id or data.get("sha256") != found:
            recorded = f"{data.get('sha256')} for {data.get('evidence')}"
            return False, f"SHA-256 {found}; ledger entry {index} records {recorded}"
        if item.get("sha256") != found:
            return False, f"bundle.json says SHA-256 {item.get('sha256')}, file is {found}"
        return True, f"SHA-256 {found} as recorded in ledger entry {index}"

    # --- earlier checkpoints, receipts, timestamps ---------------------------------------------

    def _earlier(self) -> None:
        listed = _list(self._ledger.index.get("earlier_checkpoints"))
        expected: set[str] = set()
        for item in listed:
            size = item.get("size")
            if not isinstance(size, int):
                self._add("consistency", layout.INDEX, False, f"earlier checkpoint without a size: {item}")
                continue
            path, proof_path = layout.earlier_checkpoint_path(size), layout.consistency_path(size)
            expected |= {path, proof_path}
            self._add("consistency", path, *self._consistent(size, path, proof_path))
        for path in (n for n in self._names.under(layout.EARLIER_DIR) if n not in expected):
            self._add("consistency", path, False, "not listed in bundle.json")

    def _consistent(self, size: int, path: str, proof_path: str) -> tuple[bool, str]:
        text, proof_text = self._text(path), self._text(proof_path)
        if text is None or proof_text is None:
            return False, "checkpoint or consistency proof missing"
        checkpoint = self._ledger.checkpoint
        if checkpoint is None:
            return False, "no verified bundle checkpoint to be consistent with"
        try:
            earlier = open_checkpoint(text, self._ledger.trusted, origin=self.origin)
            proof = _consistency_proof(json.loads(proof_text), self._ledger.index.get("format"))
            bundle_size = checkpoint.body.size
            if earlier.body.size != size:
                return False, f"bundle.json lists it as size {size}; the checkpoint has size {earlier.body.size}"
            if proof.first != size:
                return False, f"the consistency proof starts from size {proof.first}, not {size}"
            if proof.second != bundle_size:
                return False, (
                    f"the consistency proof leads to size {proof.second}, but the bundle's checkpoint has size "
                    f"{bundle_size}: the proof belongs to another checkpoint"
                )
            proof.verify(earlier.body.root_hash, checkpoint.body.root_hash)
        except OffboardError as exc:
            return False, exc.message
        except ValueError as exc:
            return False, f"consistency proof is not JSON: {exc}"
        return True, f"size {size} is a prefix of size {checkpoint.body.size}"

    def _receipts(self) -> None:
        expected: set[str] = set()
        notes = {str(i.get("path")): i for i in _list(self._ledger.index.get("earlier_checkpoints"))}
        for item in _list(self._ledger.index.get("receipts")):
            json_path, sig_path, pdf = str(item.get("json")), str(item.get("sig")), item.get("pdf")
            expected |= {json_path, sig_path, str(pdf)}
            ok, detail = self._receipt(json_path, sig_path, str(item.get("id")), notes)
            if ok and pdf is not None and pdf not in self.names:
                ok, detail = False, f"{pdf} is missing"
            self._add("receipt", json_path, ok, detail)
        for path in (n for n in self._names.under(layout.RECEIPTS_DIR) if n not in expected):
            self._add("receipt", path, False, "not listed in bundle.json")

    def _receipt(self, json_path: str, sig_path: str, receipt_id: str, notes: dict[str, Any]) -> tuple[bool, str]:
        document, sig_text = self.files.get(json_path), self._text(sig_path)
        if document is None or sig_text is None:
            return False, "receipt or signature missing"
        try:
            sig = DetachedSignature.from_bundle_json(json.loads(sig_text))
        except (ValueError, MalformedSignature) as exc:
            return False, f"{sig_path} is not a signature record: {exc}"
        key_id = sig.key_id
        key = next((v for v in self._ledger.trusted if bytes(v.key_id).hex() == key_id), None)
        if key is None:
            return False, f"signed with key {key_id}, which is not trusted"
        try:
            sig.verify(key, document)
        except BadSignature as exc:
            return False, f"signature does not verify: {exc}"
        try:
            given = json.loads(document).get("checkpoint")
        except (ValueError, AttributeError):
            return False, "the signed receipt is not a JSON object"
        if isinstance(given, dict):
            given = given.get("note")
        if isinstance(given, str):
            carried = [p for p, i in notes.items() if f"receipt:{receipt_id}" in i.get("given_in", [])]
            if not any(self.files.get(p) == given.encode("utf-8") for p in carried):
                return False, "the checkpoint the receipt gave is not carried with a consistency proof"
        return True, f"Ed25519 signature by {key.name} {key_id} verifies"

    def _timestamps(self) -> None:
        expected: set[str] = set()
        for item in _list(self._ledger.index.get("timestamps")):
            size = item.get("size")
            if not isinstance(size, int):
                self._add("timestamp", layout.INDEX, False, f"timestamp without a size: {item}")
                continue
            path, note_path = layout.timestamp_path(size), str(item.get("note"))
            expected |= {path, layout.timestamp_chain_path(size)}
            token, note = self.files.get(path), self.files.get(note_path)
            allowed = note_path in (layout.CHECKPOINT, layout.earlier_checkpoint_path(size))
            if token is None or note is None or not allowed:
                self._add("timestamp", path, False, f"token or its checkpoint note {note_path} is missing")
                continue
            self._add("timestamp", path, *check_token(token, note, self.tsa_roots))
        for path in (n for n in self._names.under(layout.TIMESTAMPS_DIR) if n not in expected):
            self._add("timestamp", path, False, "not listed in bundle.json")

    # --- the pages: report.html rendered again, verify.html compared ------------------------------

    def _pages(self) -> None:
        """``report.html`` must be the rendering of the verified entries; ``verify.html`` should be ours.

        A differing ``verify.html`` is a warning, not a failure: the page is a tool, not evidence, so it
        cannot make the records false, and a bundle made by an older Offboard carries an older page.
        Failing would reject every genuine old bundle, and give a verdict ``verify.html`` itself cannot
        give (a page cannot check its own bytes); the warning still says plainly not to trust it.
        """
        report, (same, detail) = self._early_pages if self._early_pages is not None else self._page_verdicts()
        self._add("report", layout.REPORT_HTML, *report)
        if same:
            self._add("verifier", layout.VERIFY_HTML, True, detail)
        else:
            self.warnings.append(("verifier", layout.VERIFY_HTML, detail))

    def pages_ahead(self) -> None:
        """Judge the two pages now, after ``check_ledger``: they need no evidence digest, so ``verify_bundle``
        runs this while the evidence is still hashing; ``check_files`` reports them in their place."""
        self._early_pages = self._page_verdicts()

    def _page_verdicts(self) -> tuple[tuple[bool, str], tuple[bool, str]]:
        entries = sorted(self._ledger.entries.items())
        report = check_report(self.files, entries, self.origin, self.checkpoint_size)
        return report, check_verifier_page(self.files.get(layout.VERIFY_HTML))

    def _known_files(self) -> None:
        for path in sorted(FIXED - self.names):
            self._add("bag", path, False, "missing")
        for path, why in self._names.unexpected():
            self._add("bag", path, False, why)


__all__ = ["ContentChecks", "needed_before_evidence"]
