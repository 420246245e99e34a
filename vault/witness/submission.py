"""The C2SP tlog-witness ``add-checkpoint`` request body: parsing it, and building it (for logs and tests).

Body: ``old <size>`` (ASCII decimal, no leading zeros, ``0`` for zero), zero to 63 lines of one base64
hash each (the RFC 9162 consistency proof from the old size), an empty line, then the signed checkpoint.
Every line ends in a newline. The proof lines are never empty, so the first empty line ends them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vault.ledger.checkpoint import b64decode_hash, b64encode, parse_decimal
from vault.witness.refusals import MalformedSubmission

#: tlog-witness: "The client MUST NOT send more than 63 consistency proof lines."
MAX_PROOF_LINES = 63


@dataclass(frozen=True, slots=True)
class Submission:
    """A parsed add-checkpoint request; the checkpoint's signatures are not yet checked."""

    #: The size of the checkpoint the client believes the witness cosigned last (0 for none).
    old_size: int
    #: The consistency proof from ``old_size`` to the checkpoint's size, RFC 9162 order.
    proof: tuple[bytes, ...]
    #: The signed checkpoint note, verbatim.
    checkpoint: str

    def to_text(self) -> str:
        lines = [f"old {self.old_size}", *(b64encode(h) for h in self.proof)]
        return "".join(line + "\n" for line in lines) + "\n" + self.checkpoint


def submission_text(old_size: int, proof: Sequence[bytes], checkpoint: str) -> str:
    """The request body for ``checkpoint`` with ``proof`` from ``old_size``."""
    return Submission(old_size=old_size, proof=tuple(proof), checkpoint=checkpoint).to_text()


def parse_submission(raw: bytes) -> Submission:
    """Parse an add-checkpoint body, or raise ``MalformedSubmission`` saying what was expected."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedSubmission("expected a UTF-8 request body") from exc
    head, separator, checkpoint = text.partition("\n\n")
    if not separator:
        raise MalformedSubmission("expected an empty line between the old size and proof lines and the checkpoint")
    first, *proof_lines = head.split("\n")
    if not first.startswith("old "):
        raise MalformedSubmission(f"expected the first line 'old <size>', found {first[:80]!r}")
    old_size = parse_decimal(first.removeprefix("old "), "the old size", MalformedSubmission)
    if len(proof_lines) > MAX_PROOF_LINES:
        raise MalformedSubmission(f"expected at most {MAX_PROOF_LINES} proof lines, found {len(proof_lines)}")
    proof = tuple(
        b64decode_hash(line, f"consistency proof line {i + 1}", MalformedSubmission)
        for i, line in enumerate(proof_lines)
    )
    if not checkpoint:
        raise MalformedSubmission("expected a signed checkpoint after the empty line")
    return Submission(old_size=old_size, proof=proof, checkpoint=checkpoint)
