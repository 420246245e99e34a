"""``offboard verify BUNDLE --since FILE``: is the bundle's log consistent with a checkpoint the client kept?

FILE is a signed checkpoint note, or a C2SP tlog-proof (``.tlog-proof``, the file the acknowledgment page
offers), whose embedded checkpoint is the one held. The held checkpoint must verify with the keys the
bundle's checkpoint verified with, for the same origin; then RFC 9162 section 2.1.4.2: the bundle must
carry a consistency proof from the held size to its own (``data/ledger/checkpoints/<n>.consistency.json``,
exported for every checkpoint a receipt or a ``.tlog-proof`` gave the client), and that proof must
lead from the *held* root to the bundle's root. A log shown to the client one way and to the verifier
another (a fork) fails here, with the sizes and the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from signing.keys import Verifier
from vault.errors import OffboardError
from vault.ledger.checkpoint import SignedCheckpoint, open_checkpoint
from vault.ledger.proofs import HEADER as TLOG_PROOF_HEADER
from vault.ledger.proofs import ConsistencyProof, TlogProof
from vault.ledger.verifiers import verify_consistency

KIND = "since"


def held_checkpoint_text(text: str) -> str:
    """The checkpoint note of a kept file: the file itself, or the one a tlog-proof embeds."""
    if text.startswith(TLOG_PROOF_HEADER + "\n"):
        return TlogProof.from_text(text).checkpoint
    return text


def check_since(
    text: str,
    *,
    item: str,
    trusted: Sequence[Verifier],
    checkpoint: SignedCheckpoint | None,
    proof_from: Callable[[int], ConsistencyProof | None],
) -> tuple[str, str, bool, str]:
    """One check ``(kind, item, ok, detail)``: the bundle's log extends the held checkpoint in ``text``."""
    if checkpoint is None:
        return KIND, item, False, "the bundle's own checkpoint did not verify, so nothing can be held against it"
    bundle = checkpoint.body
    try:
        held = open_checkpoint(held_checkpoint_text(text), trusted, origin=bundle.origin).body
    except OffboardError as exc:
        return KIND, item, False, f"the kept checkpoint is not one of this log's: {exc.message}"
    forked = f"the log has forked: the bundle's log is not the one whose checkpoint of size {held.size} you kept"
    if held.size > bundle.size:
        return (
            KIND,
            item,
            False,
            (
                f"the kept checkpoint (size {held.size}) is newer than the bundle's (size {bundle.size}); "
                "export a newer bundle to check it"
            ),
        )
    if held.size == bundle.size or held.size == 0:
        same = held.root_hash == bundle.root_hash if held.size else True
        detail = f"size {held.size} is a prefix of size {bundle.size}"
        return KIND, item, same, detail if same else f"{forked} (same size, another root)"
    proof = proof_from(held.size)
    if proof is None:
        return KIND, item, False, f"the bundle carries no consistency proof from size {held.size} to {bundle.size}"
    try:
        verify_consistency(held.size, bundle.size, proof.hashes, held.root_hash, bundle.root_hash)
    except OffboardError as exc:
        return KIND, item, False, f"{forked}: {exc.message}"
    return (
        KIND,
        item,
        True,
        f"the checkpoint you kept (size {held.size}) is a prefix of the bundle's (size {bundle.size})",
    )


def proof_reader(
    text_of: Callable[[str], str | None], path_of: Callable[[int], str]
) -> Callable[[int], ConsistencyProof | None]:
    """Reads ``<n>.consistency.json`` from the bundle; a missing or malformed file is no proof."""

    def read(size: int) -> ConsistencyProof | None:
        raw = text_of(path_of(size))
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            if "first_size" in data:
                return ConsistencyProof.from_legacy_json(data)
            return ConsistencyProof.from_json(data)
        except (ValueError, TypeError, OffboardError):
            return None

    return read
