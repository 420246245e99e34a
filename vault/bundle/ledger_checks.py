"""The ledger checks of a bundle: its index, keys, checkpoint and entries (``docs/bundle.md``, "Verifying",
steps 3 to 5: C2SP signed-note verifier keys, the tlog-checkpoint, RFC 9162 section 2.1.3.2 inclusion).

They run before the evidence is hashed and read only the members ``needed_before_evidence`` names; what
they establish (the trusted keys, the verified checkpoint, the verified entries and their leaf hashes) is
what ``checks.ContentChecks`` holds everything else against.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from signing.errors import InvalidKey
from signing.keys import Verifier, parse_vkey
from vault.bundle import layout
from vault.bundle.inclusion import SharedTree, parse_proof_head
from vault.bundle.names import BagNames
from vault.bundle.records import dicts as _list
from vault.canonical import parse_canonical
from vault.errors import OffboardError
from vault.ledger.checkpoint import SignedCheckpoint, open_checkpoint
from vault.ledger.hashing import leaf_hash

CheckTuple = tuple[str, str, bool, str]


def needed_before_evidence(path: str) -> bool:
    """Whether ``LedgerChecks.run`` reads this member (so it is hashed before the evidence)."""
    return path in (layout.INDEX, layout.CHECKPOINT, layout.KEYS_INDEX) or path.startswith(
        (layout.KEYS_DIR, layout.ENTRIES_DIR, layout.PROOFS_DIR)
    )


@dataclass(slots=True)
class LedgerChecks:
    """Runs once (``run()``), appending its checks to ``out``, which the content checks share."""

    files: Mapping[str, bytes]
    names: set[str]
    bag: BagNames
    pinned: tuple[Verifier, ...]
    out: list[CheckTuple]
    #: ``bundle.json`` once it parsed with a known format (else empty), and what it names.
    index: dict[str, Any] = field(default_factory=dict)
    case_id: str | None = None
    origin: str | None = None
    #: The keys trusted from step 3 on: the pinned ones, or (unpinned) the bundle's own.
    trusted: tuple[Verifier, ...] = ()
    #: The checkpoint once it verified with a trusted key, and its size.
    checkpoint: SignedCheckpoint | None = None
    checkpoint_size: int | None = None
    #: The verified entries of the case, by ledger index, and their leaf hashes.
    entries: dict[int, dict[str, Any]] = field(default_factory=dict)
    leaves: dict[int, bytes] = field(default_factory=dict)
    _decoded: dict[str, bytes] = field(default_factory=dict)
    _tree: SharedTree | None = None

    def add(self, kind: str, item: str, ok: bool, detail: str) -> None:
        self.out.append((kind, item, ok, detail))

    def text(self, path: str) -> str | None:
        """A member as UTF-8 text; ``None`` (and a failed ``bag`` check) when it is missing or not text."""
        data = self.files.get(path)
        if data is None:
            if path not in self.names:
                self.add("bag", path, False, "missing")
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            self.add("bag", path, False, "not UTF-8 text")
            return None

    def run(self) -> None:
        self._read_index()
        self._keys()
        self._read_checkpoint()
        self._ledger_entries()

    # --- index and keys ------------------------------------------------------------------------

    def _read_index(self) -> None:
        text = self.text(layout.INDEX)
        if text is None:
            return
        try:
            index = json.loads(text)
        except ValueError as exc:
            self.add("index", layout.INDEX, False, f"not JSON: {exc}")
            return
        if not isinstance(index, dict) or index.get("format") not in layout.FORMATS:
            found = index.get("format") if isinstance(index, dict) else type(index).__name__
            self.add("index", layout.INDEX, False, f"expected format {layout.FORMAT!r}, found {found!r}")
            return
        self.index = index
        self.case_id = index.get("case") if isinstance(index.get("case"), str) else None
        self.origin = index.get("origin") if isinstance(index.get("origin"), str) else None
        self.add("index", layout.INDEX, bool(self.case_id and self.origin), f"case {self.case_id}, log {self.origin}")

    def _keys(self) -> None:
        bundled: list[Verifier] = []
        paths = [n for n in self.bag.under(layout.KEYS_DIR) if n.endswith(".vkey")]
        for path in paths:
            text = self.text(path) or ""
            try:
                verifier = parse_vkey(text.removesuffix("\n"))
            except InvalidKey as exc:
                self.add("keys", path, False, f"not a C2SP verifier key: {exc}")
                continue
            if layout.key_path(bytes(verifier.key_id).hex()) != path:
                self.add("keys", path, False, f"holds key {bytes(verifier.key_id).hex()}, named otherwise")
                continue
            bundled.append(verifier)
            self.add("keys", path, True, f"verifier key {verifier.name} {bytes(verifier.key_id).hex()}")
        listing = self._keys_listing()
        for path in sorted(set(listing) ^ set(paths)):
            self.add("keys", path, False, "key file and keys.json disagree (listed xor present)")
        if self.pinned:
            self.trusted = self.pinned
            bundled_ids = {(v.name, bytes(v.key_id), v.public_key) for v in bundled}
            for key in self.pinned:
                found = (key.name, bytes(key.key_id), key.public_key) in bundled_ids
                detail = "the pinned key is the bundle's key" if found else "the bundle does not carry the pinned key"
                self.add("keys", f"pinned {key.vkey()}", found, detail)
        else:
            self.trusted = tuple(bundled)
            if not bundled:
                self.add("keys", layout.KEYS_DIR, False, "no verifier key in the bundle and none pinned")

    def _keys_listing(self) -> list[str]:
        text = self.text(layout.KEYS_INDEX)
        try:
            keys = _list(json.loads(text).get("keys")) if text else []
        except (ValueError, AttributeError) as exc:
            self.add("keys", layout.KEYS_INDEX, False, f"not the keys listing: {exc}")
            return []
        return [str(k.get("path")) for k in keys]

    # --- checkpoint and entries ----------------------------------------------------------------

    def _read_checkpoint(self) -> None:
        text = self.text(layout.CHECKPOINT)
        if text is None or not self.trusted:
            return
        try:
            signed = open_checkpoint(text, self.trusted, origin=self.origin)
        except OffboardError as exc:
            self.add("checkpoint", layout.CHECKPOINT, False, exc.message)
            return
        claimed = (self.index.get("checkpoint") or {}).get("size")
        if claimed != signed.body.size:
            self.add("checkpoint", layout.CHECKPOINT, False, f"size {signed.body.size}, bundle.json says {claimed}")
            return
        self.checkpoint = signed
        self.checkpoint_size = signed.body.size
        names = ", ".join(v.name for v in signed.note.verified_by)
        self.add("checkpoint", layout.CHECKPOINT, True, f"size {signed.body.size} signed by {names}")

    def _ledger_entries(self) -> None:
        on_disk, proofs = set(self.bag.entries.values()), set(self.bag.proofs.values())
        listed = {i for i in self.index.get("entries", []) if isinstance(i, int)}
        for index in sorted(on_disk | proofs | listed):
            self._entry(index, index in listed)

    def _entry(self, index: int, listed: bool) -> None:
        path, proof_path = layout.entry_path(index), layout.proof_path(index)
        body, proof_text = self.files.get(path), self.text(proof_path)
        if body is None or proof_text is None or not listed:
            missing = path if body is None else proof_path if proof_text is None else layout.INDEX
            self.add("entry", path, False, f"entry {index}: {missing} is missing or does not list it")
            return
        hashes = self._proof_hashes(index, proof_path, proof_text)
        if hashes is None or self.checkpoint is None:
            return
        body_cp = self.checkpoint.body
        if index >= body_cp.size:
            self.add(
                "entry",
                path,
                False,
                f"the bundle's checkpoint (size {body_cp.size}) is older than entry {index} it must cover",
            )
            return
        if self._tree is None:
            self._tree = SharedTree(body_cp.size, body_cp.root_hash)
        leaf = leaf_hash(body)
        try:
            self._tree.verify(leaf, index, hashes)
        except OffboardError as exc:
            self.add("entry", path, False, f"{path} is not leaf {index} per {proof_path}: {exc.message}")
            return
        document, canonical = parse_canonical(body)
        if not isinstance(document, dict) or not canonical or document.get("case") != self.case_id:
            self.add("entry", path, False, f"entry {index} is not canonical JSON of case {self.case_id}")
            return
        self.entries[index] = document
        self.leaves[index] = leaf
        self.add("entry", path, True, f"leaf {index} of the signed tree of size {body_cp.size}")

    def _proof_hashes(self, index: int, proof_path: str, proof_text: str) -> tuple[bytes, ...] | None:
        """The proof's hashes when it is a tlog-proof of ``index`` against the verified checkpoint."""
        head, _, embedded = proof_text.partition("\n\n")
        if self.checkpoint is None or embedded != self.checkpoint.text:
            why = "no verified checkpoint" if self.checkpoint is None else "another checkpoint"
            self.add("entry", proof_path, False, f"proof of entry {index} is against {why}")
            return None
        try:
            # The embedded checkpoint is byte for byte the verified one, so only the head is parsed here.
            proof_index, hashes = parse_proof_head(head, self._decoded)
        except OffboardError as exc:
            self.add("entry", proof_path, False, f"malformed tlog-proof: {exc.message}")
            return None
        if proof_index != index:
            self.add("entry", proof_path, False, f"proof names index {proof_index}, expected {index}")
            return None
        return hashes


__all__ = ["LedgerChecks", "needed_before_evidence"]
