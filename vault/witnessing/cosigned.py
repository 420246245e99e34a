"""A checkpoint with its witnesses' cosignatures, and whether the organization's policy counts it witnessed.

The cosigned note is the log's signed note followed by the stored cosignature lines: still a valid signed
note for the log's key (signed-note verifiers ignore unknown keys), and checkable line by line with the
witnesses' keys. Only cosignatures by witnesses configured now count towards the policy.
``witness_standing`` is what the console's ledger page shows: each witness, what it last answered, and the
latest checkpoint's verdict in one line that never reads as witnessed when it is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from vault.ledger.publish import latest_checkpoint
from vault.models import Checkpoint, Cosignature, Organization
from vault.witnessing.roster import WitnessPolicy, policy_of, witnesses_of


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


@dataclass(frozen=True, slots=True)
class ConfiguredWitness:
    """One configured witness as the ledger page lists it."""

    name: str
    url: str
    #: A ``WitnessStatus`` value: how its last submission ended.
    status: str
    detail: str
    known_size: int
    last_attempt_at: datetime | None
    #: Whether its cosignature of the latest checkpoint is stored.
    cosigned: bool
    #: The time its cosignature states (None if it has not cosigned, or states a time no calendar holds).
    cosigned_at: datetime | None


@dataclass(frozen=True, slots=True)
class WitnessStanding:
    """The organization's witnesses, its policy, and its latest checkpoint's cosignatures."""

    witnesses: tuple[ConfiguredWitness, ...]
    policy: WitnessPolicy
    #: None before the first checkpoint is signed.
    latest: CosignedCheckpoint | None

    @property
    def headline(self) -> str:
        """``witnessed``, or ``NOT witnessed: k of N cosigned`` (N the policy's number) and why."""
        if self.latest is None:
            return "NOT witnessed: no checkpoint has been signed yet"
        if self.latest.witnessed:
            return "witnessed"
        if self.policy.configured == 0:
            return "NOT witnessed: no witnesses are configured"
        return f"NOT witnessed: {len(self.latest.signed_by)} of {self.policy.required} cosigned"


def witness_standing(session: Session, org: Organization) -> WitnessStanding:
    row = latest_checkpoint(session, org.id)
    latest = cosigned_checkpoint(session, org, row) if row is not None else None
    times = {s.key_id: _posix_time(s.timestamp) for s in (latest.signed_by if latest else ())}
    states = tuple(
        ConfiguredWitness(
            name=w.name,
            url=w.url,
            status=w.status,
            detail=w.detail,
            known_size=w.known_size,
            last_attempt_at=w.last_attempt_at,
            cosigned=w.key_id in times,
            cosigned_at=times.get(w.key_id),
        )
        for w in witnesses_of(session, org.id)
    )
    return WitnessStanding(witnesses=states, policy=policy_of(session, org), latest=latest)


def _posix_time(timestamp: int) -> datetime | None:
    try:
        return datetime.fromtimestamp(timestamp, UTC)
    except (OverflowError, ValueError, OSError):
        return None  # a verified signature over a time beyond year 9999: shown as cosigned, without a time
