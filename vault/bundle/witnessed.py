"""Which cosigned checkpoint an export carries (``docs/bundle.md``, "Witnesses"; issue 16, requirement 2).

The bundle's own checkpoint is signed inside the export's unit of work, so no witness has seen it yet:
witnesses cosign asynchronously (``vault/witnessing/submitter.py``). The bundle therefore carries the
latest checkpoint of the log, at most the bundle's size, that holds at least one stored cosignature, as
its C2SP signed note followed by every stored cosignature line (``vault/witnessing/cosigned.py``), and,
when it is older than the bundle's checkpoint, the same note as an earlier checkpoint with its
consistency proof, which ties the witnessed history to the bundle's.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from vault.models import Checkpoint, Cosignature, Organization
from vault.witnessing.cosigned import cosigned_checkpoint


@dataclass(frozen=True, slots=True)
class WitnessedCheckpoint:
    """The latest cosigned checkpoint within a bundle."""

    #: Its tree size.
    size: int
    #: The log's signed note alone, as stored (what an earlier checkpoint file holds).
    note: str
    #: The signed note followed by every stored cosignature line of it.
    cosigned_note: str


def latest_witnessed(session: Session, org: Organization, *, size: int) -> WitnessedCheckpoint | None:
    """The organization's latest checkpoint of at most ``size`` with a stored cosignature, if any."""
    query = (
        select(Checkpoint)
        .where(
            Checkpoint.organization_id == org.id,
            col(Checkpoint.size) <= size,
            col(Checkpoint.id).in_(select(Cosignature.checkpoint_id).where(Cosignature.organization_id == org.id)),
        )
        .order_by(col(Checkpoint.size).desc(), col(Checkpoint.id).desc())
        .limit(1)
    )
    checkpoint = session.exec(query).first()
    if checkpoint is None:
        return None
    cosigned = cosigned_checkpoint(session, org, checkpoint)
    return WitnessedCheckpoint(size=checkpoint.size, note=checkpoint.note, cosigned_note=cosigned.cosigned_note)
