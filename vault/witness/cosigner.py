"""The witness's checks and its cosignature: C2SP tlog-witness ``add-checkpoint``, section by section.

In the spec's order: the body's format (400); the checkpoint's origin is a configured log (404); a
trusted key of that log signed it and no trusted signature fails (403); old size <= size (400); an
empty tree has the empty root, and no proof comes from size 0 (422). Then, atomically with the write of
the new state (``statefile.WitnessState.advance``): the old size is the size last cosigned (else 409
with that size); equal sizes have equal roots, otherwise the RFC 9162 consistency proof from the stored
root verifies (``vault.ledger.verifiers``, the ledger's one verifier) (422). Only then is the checkpoint
cosigned (tlog-cosignature/v1, the current time) and the new state committed, before the answer leaves.

Submissions of one log are serialized by a lock per origin inside the process and by the state file's
write lock across processes; the witness never cosigns two inconsistent checkpoints of one log.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from signing.cosignature import cosign, cosigner_of
from signing.errors import MalformedNote
from signing.keys import Signer, Verifier
from signing.note import parse_note
from vault.clock import Clock, system_clock
from vault.ledger.checkpoint import (
    CheckpointBody,
    CheckpointSignatureInvalid,
    MalformedCheckpoint,
    SignedCheckpoint,
    open_checkpoint,
)
from vault.ledger.hashing import EMPTY_ROOT
from vault.ledger.verifiers import InvalidProof, verify_consistency
from vault.witness.refusals import (
    InconsistentCheckpoint,
    MalformedSubmission,
    SizeConflict,
    UnknownLog,
    UntrustedCheckpoint,
)
from vault.witness.statefile import LogRecord, WitnessState
from vault.witness.submission import Submission, parse_submission


def logs_by_origin(verifiers: Sequence[Verifier]) -> dict[str, tuple[Verifier, ...]]:
    """The logs a witness serves: each log key's name is its checkpoint origin (as Offboard names them)."""
    found: dict[str, list[Verifier]] = {}
    for verifier in verifiers:
        found.setdefault(verifier.name, []).append(verifier)
    return {origin: tuple(keys) for origin, keys in found.items()}


@dataclass(frozen=True, slots=True)
class Cosigned:
    """A successful add-checkpoint: the answer's signature lines and the state now stored."""

    #: The response body: the witness's cosignature line(s), each ending in a newline.
    lines: str
    #: The log's record as committed.
    record: LogRecord


@dataclass(slots=True)
class Witness:
    """One witness: its key, the logs it serves (origin -> trusted log keys), its state and its clock."""

    signer: Signer
    logs: Mapping[str, tuple[Verifier, ...]]
    state: WitnessState
    clock: Clock = system_clock
    _locks: dict[str, threading.Lock] = field(default_factory=dict, init=False, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def vkey(self) -> str:
        """The witness's verifier key in the tlog-cosignature form (type 0x04)."""
        return cosigner_of(self.signer).vkey()

    def _lock(self, origin: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(origin, threading.Lock())

    def add_checkpoint(self, raw: bytes) -> Cosigned:
        """Check a submission and cosign it, or raise one of ``vault.witness.refusals``."""
        submission = parse_submission(raw)
        signed = self._trusted(submission)
        body = signed.body
        if submission.old_size > body.size:
            raise MalformedSubmission(f"the old size {submission.old_size} exceeds the checkpoint size {body.size}")
        if body.size == 0 and body.root_hash != EMPTY_ROOT:
            raise InconsistentCheckpoint("a checkpoint of size 0 must carry the root of the empty tree")
        if submission.old_size == 0 and submission.proof:
            raise InconsistentCheckpoint("a submission from old size 0 must carry no consistency proof")
        cosigned: list[str] = []

        def decide(current: LogRecord | None) -> LogRecord:
            _check_against(current, submission, body)
            timestamp = int(self.clock().timestamp())
            line = cosign(self.signer, signed.note.body, timestamp).to_line()
            cosigned.append(line)
            note = submission.checkpoint + line
            return LogRecord(body.origin, body.size, body.root_hash, note, timestamp)

        with self._lock(body.origin):
            record = self.state.advance(body.origin, decide)
        return Cosigned(lines=cosigned[-1], record=record)

    def _trusted(self, submission: Submission) -> SignedCheckpoint:
        try:
            claimed = CheckpointBody.from_text(parse_note(submission.checkpoint).body)
        except (MalformedNote, MalformedCheckpoint) as exc:
            raise MalformedSubmission(f"the checkpoint is malformed: {exc}") from exc
        keys = self.logs.get(claimed.origin)
        if keys is None:
            raise UnknownLog(f"this witness serves no log with origin {claimed.origin!r}")
        try:
            return open_checkpoint(submission.checkpoint, keys, origin=claimed.origin)
        except CheckpointSignatureInvalid as exc:
            raise UntrustedCheckpoint(f"the checkpoint of {claimed.origin!r} is not signed by its log: {exc}") from exc


def _check_against(current: LogRecord | None, submission: Submission, body: CheckpointBody) -> None:
    """The checks that must be atomic with the write: old size is ours, and the new tree extends ours."""
    size = current.size if current is not None else 0
    if submission.old_size != size:
        raise SizeConflict(
            f"the last checkpoint cosigned for {body.origin!r} has size {size}, not {submission.old_size}", size=size
        )
    if current is None:
        return
    if body.size == current.size:
        if submission.proof:
            raise InconsistentCheckpoint(f"a submission of the size already cosigned ({body.size}) carries no proof")
        if body.root_hash != current.root_hash:
            raise InconsistentCheckpoint(
                f"size {body.size} of {body.origin!r} was cosigned with another root: the log has forked"
            )
        return
    try:
        verify_consistency(current.size, body.size, submission.proof, current.root_hash, body.root_hash)
    except InvalidProof as exc:
        raise InconsistentCheckpoint(
            f"the consistency proof from size {current.size} to {body.size} of {body.origin!r} fails: {exc.message}"
        ) from exc
