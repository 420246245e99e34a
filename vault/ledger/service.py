"""What the API and CLI ask of an organization's log: entries, proofs, checkpoints, key rotation.

Proofs are the wire values of ``vault.ledger.proofs`` (``InclusionProof``, ``ConsistencyProof``), whose
JSON carries hashes as standard padded base64 (as in checkpoints); range errors are ``InvalidInput`` (HTTP 400).
"""

from __future__ import annotations

from sqlmodel import Session

from vault.clock import Clock, system_clock
from vault.config import Settings
from vault.errors import InvalidInput
from vault.ledger import keyring, log
from vault.ledger.entries import EntryDraft
from vault.ledger.proofs import ConsistencyProof, InclusionProof
from vault.ledger.publish import head, latest_checkpoint, publish
from vault.ledger.tree import consistency_nodes_needed, consistency_proof, inclusion_nodes_needed, inclusion_proof
from vault.models import Checkpoint, Organization


def _check_size(session: Session, org_id: str, tree_size: int, what: str, current: int | None = None) -> None:
    if current is None:
        current = log.size(session, org_id)
    if tree_size < 0:
        raise InvalidInput(f"{what} must be >= 0; got {tree_size}")
    if tree_size > current:
        raise InvalidInput(f"{what} {tree_size} is beyond the log (size {current})")


def prove_inclusion(session: Session, org_id: str, index: int, tree_size: int | None = None) -> InclusionProof:
    current = log.size(session, org_id)
    size = current if tree_size is None else tree_size
    _check_size(session, org_id, size, "tree_size", current)
    if index < 0 or index >= size:
        raise InvalidInput(f"index must be in [0, {size}) for tree_size {size}; got {index}")
    # The leaf hash is stored node (0, index): one query fetches it with the proof's nodes.
    nodes = log.fetch_nodes(session, org_id, [(0, index), *inclusion_nodes_needed(index, size)])
    return InclusionProof(index, size, nodes[(0, index)], tuple(inclusion_proof(index, size, nodes)))


def prove_consistency(session: Session, org_id: str, first: int, second: int) -> ConsistencyProof:
    _check_size(session, org_id, second, "second")
    if first < 1:
        raise InvalidInput(f"first must be >= 1 (no consistency proof from an empty tree); got {first}")
    if first > second:
        raise InvalidInput(f"first ({first}) must not exceed second ({second})")
    nodes = log.fetch_nodes(session, org_id, consistency_nodes_needed(first, second))
    return ConsistencyProof(first, second, tuple(consistency_proof(first, second, nodes)))


def current_checkpoint(
    session: Session, settings: Settings, org: Organization, *, clock: Clock = system_clock
) -> Checkpoint:
    """The latest checkpoint if it covers every committed entry, else a freshly signed one (caller commits)."""
    latest = latest_checkpoint(session, org.id)
    if latest is not None and latest.size == log.size(session, org.id):
        return latest
    return publish(session, settings, org, clock=clock)


def ensure_first_key(
    session: Session, settings: Settings, org: Organization, actor: str, *, clock: Clock = system_clock
) -> bool:
    """Give an organization without a signing key its first one and record ``key.created`` in the log, as
    ``rotate_key`` records the later ones; returns whether a key was created."""
    if keyring.keys_of(session, org.id):
        return False
    key = keyring.ensure_key(session, settings, org, clock=clock)
    log.append(
        session,
        EntryDraft(
            type="key.created",
            organization_id=org.id,
            case_id=None,
            actor=actor,
            data={"new": keyring.verifier_of(key).vkey()},
        ),
        clock=clock,
    )
    return True


def rotate_key(
    session: Session, settings: Settings, org: Organization, actor: str, *, clock: Clock = system_clock
) -> int:
    """Retire the active key, create the next, and record the rotation in the log; returns its index."""
    old, new = keyring.rotate(session, settings, org, clock=clock)
    appended = log.append(
        session,
        EntryDraft(
            type="key.rotated",
            organization_id=org.id,
            case_id=None,
            actor=actor,
            data={
                "old": keyring.verifier_of(old).vkey(),
                "new": keyring.verifier_of(new).vkey(),
            },
        ),
        clock=clock,
    )
    return appended.index


__all__ = [
    "current_checkpoint",
    "ensure_first_key",
    "head",
    "prove_consistency",
    "prove_inclusion",
    "rotate_key",
]
