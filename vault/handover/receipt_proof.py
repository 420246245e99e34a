"""The client's ``.tlog-proof`` of their receipt: C2SP tlog-proof@v1 of the receipt's ledger entry.

Proven in the first checkpoint whose tree holds the entry (published now if none does yet), so every
download of one receipt's proof is the same file, and every later bundle of the case carries a
consistency proof from that checkpoint (``vault/bundle/receipt_files.py``): the client keeps the file and
checks a later bundle with ``offboard verify BUNDLE --since FILE``.

The embedded checkpoint is the cosigned one (C2SP tlog-proof@v1 takes the checkpoint note verbatim, and
a signed note carries cosignatures as extra signature lines): the log's note followed by every
cosignature line witnesses returned for it so far (``vault/witnessing/cosigned.py``), which
``offboard verify FILE --witness-key VKEY`` checks. So the file gains those lines as witnesses answer.
Witnesses are sent each organization's latest checkpoint only, so one superseded before a submission
pass may never be cosigned: its file then carries no cosignature, and a later bundle's witnessed
checkpoint, consistency-proven to extend it, is what a witness vouches for.
"""

from __future__ import annotations

from sqlmodel import Session

from vault.clock import Clock, system_clock
from vault.config import Settings
from vault.errors import NotFound
from vault.ledger import service
from vault.ledger.proofs import TlogProof
from vault.ledger.publish import first_checkpoint_covering
from vault.models import Organization
from vault.models.handover import Receipt
from vault.witnessing.cosigned import cosigned_checkpoint


def receipt_tlog_proof(
    session: Session, settings: Settings, *, organization_id: str, receipt_id: str, clock: Clock = system_clock
) -> TlogProof:
    """The tlog-proof of receipt ``receipt_id``'s ledger entry; may publish a checkpoint (caller commits)."""
    receipt = session.get(Receipt, receipt_id)
    if receipt is None or receipt.organization_id != organization_id or receipt.ledger_index is None:
        raise NotFound(f"no issued receipt {receipt_id}")
    org = session.get(Organization, organization_id)
    if org is None:  # pragma: no cover - a receipt always has its organization (foreign key)
        raise NotFound("the receipt's organization is gone")
    checkpoint = first_checkpoint_covering(session, organization_id, receipt.ledger_index)
    if checkpoint is None:
        checkpoint = service.current_checkpoint(session, settings, org, clock=clock)
    inclusion = service.prove_inclusion(session, organization_id, receipt.ledger_index, checkpoint.size)
    return TlogProof.of(inclusion, cosigned_checkpoint(session, org, checkpoint).cosigned_note)
