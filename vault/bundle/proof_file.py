"""``offboard verify FILE.tlog-proof``: the checkpoint of a kept C2SP tlog-proof@v1 and its cosignatures.

The file the acknowledgment page offers carries the checkpoint the receipt's entry is proven in, with the
cosignature lines witnesses had stored for it (``vault/handover/receipt_proof.py``). Alone, without the
entry, the inclusion proof cannot be recomputed (``verify BUNDLE --since FILE`` does that against a
bundle); what can be checked is the log's signature on the checkpoint (with ``--key``) and each witness's
cosignature (with ``--witness-key``, C2SP tlog-cosignature/v1). The report says what was not checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from signing.keys import Verifier
from vault.bundle.verify import BundleVerification, Check
from vault.bundle.witness_checks import KIND, NO_WITNESS, WitnessPolicy, count_cosignatures
from vault.errors import OffboardError
from vault.ledger.checkpoint import open_checkpoint
from vault.ledger.proofs import HEADER, TlogProof


def is_tlog_proof(path: Path) -> bool:
    """Whether the file at ``path`` starts as a tlog-proof (its first line), not as a ZIP."""
    try:
        with path.open("rb") as handle:
            return handle.read(len(HEADER) + 1) == (HEADER + "\n").encode("ascii")
    except OSError:
        return False


def verify_proof_file(
    path: Path, *, pinned: Sequence[Verifier] = (), witnesses: WitnessPolicy | None = None
) -> BundleVerification:
    """Every check that a tlog-proof file allows on its own; never raises on a bad file."""
    name = path.name
    try:
        proof = TlogProof.from_text(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, OffboardError) as exc:
        why = exc.message if isinstance(exc, OffboardError) else str(exc)
        return BundleVerification(
            (Check("proof", name, False, why),), pinned=bool(pinned), refused=f"not a tlog-proof: {why}"
        )
    body = proof.body
    checks = [Check("proof", name, True, f"tlog-proof@v1 of entry {proof.index} in a tree of size {body.size}")]
    warnings: list[Check] = []
    if pinned:
        try:
            open_checkpoint(proof.checkpoint, pinned, origin=body.origin)
            checks.append(Check("checkpoint", name, True, f"size {body.size} signed by the pinned key"))
        except OffboardError as exc:
            checks.append(Check("checkpoint", name, False, exc.message))
    else:
        warnings.append(Check("checkpoint", name, False, "the log's signature was not checked: pass --key"))
    summary = f"{NO_WITNESS} (pass --witness-key to check the cosignatures)"
    if witnesses is not None:
        ok, summary = count_cosignatures(proof.checkpoint, witnesses, size=body.size)
        checks.append(Check(KIND, name, ok, summary))
    return BundleVerification(
        tuple(checks),
        pinned=bool(pinned),
        origin=body.origin,
        checkpoint_size=body.size,
        warnings=tuple(warnings),
        witnesses=summary,
    )
