"""A checkpoint with its witnesses' cosignatures, and whether the organization's policy counts it witnessed.

The cosigned note is the log's signed note followed by the stored cosignature lines: still a valid signed
note for the log's key (signed-note verifiers ignore unknown keys), and checkable line by line with the
witnesses' keys. Only cosignatures by witnesses configured now count towards the policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from vault.models import Checkpoint, Cosignature, Organization
from vault.witnessing.roster import policy_of, witnesses_of


@dataclass(frozen=True, slots=True)
class WitnessSignature:
    """Who cosigned, and at which POSIX time."""

    name: str
    key_id: str
    timestamp: int


@dataclass(frozen=True, slots=True)
class CosignedCheckpoint:
    """A checkpoint, its cosignatures, and the policy's verdict."""

    #: The log's signed note verbatim, then one line per stored cosignature.
    cosigned_note: str
    #: Whether cosignatures from at least ``required`` configured witnesses are stored.
    witnessed: bool
    #: How many the policy asks for (0: no witness is configured, and so never witnessed).
    required: int
    #: Configured witnesses.
    configured: int
    #: The configured witnesses whose cosignature is stored, in line order.
    signed_by: tuple[WitnessSignature, ...]
    #: One sentence for people: witnessed by whom, or why it is not.
    summary: str


def cosigned_checkpoint(session: Session, org: Organization, checkpoint: Checkpoint) -> CosignedCheckpoint:
    query = select(Cosignature).where(Cosignature.checkpoint_id == checkpoint.id).order_by(col(Cosignature.id))
    rows = list(session.exec(query))
    configured = {w.vkey for w in witnesses_of(session, org.id)}
    policy = policy_of(session, org)
    signed = tuple(
        WitnessSignature(r.witness_name, r.witness_key_id, r.timestamp) for r in rows if r.witness_vkey in configured
    )
    witnessed = policy.required > 0 and len(signed) >= policy.required
    names = ", ".join(s.name for s in signed) or "none"
    if witnessed:
        summary = f"witnessed: {len(signed)} of {policy.configured} witnesses cosigned ({names})"
    elif policy.configured == 0:
        summary = "unwitnessed: no witnesses are configured, so no independent party has checked this checkpoint"
    else:
        summary = (
            f"unwitnessed: {len(signed)} of the {policy.required} cosignatures required "
            f"({policy.describe()}; cosigned by: {names})"
        )
    return CosignedCheckpoint(
        cosigned_note=checkpoint.note + "".join(r.line for r in rows),
        witnessed=witnessed,
        required=policy.required,
        configured=policy.configured,
        signed_by=signed,
        summary=summary,
    )
