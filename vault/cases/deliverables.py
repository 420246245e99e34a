"""Deliverables the client has not acknowledged (``docs/cases.md``, "States and the gate"; issue 14, item 2).

A deliverable is an evidence of kind ``deliverable``: a file handed over to the client. The other kinds
(``confirmation``, ``communication``, ``other``: the client's confirmations, logged calls and emails,
notes, the proofs of access revocation) are the business's own records and need no acknowledgment. A
deliverable is covered when a receipt the client acknowledged lists it, when a receipt whose
acknowledgment an admin waived lists it, or when an admin waived it by itself (scope ``deliverable``).
Every other deliverable, such as one stored after the last acknowledged receipt, keeps the case open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from vault.handover.receipts import document_of
from vault.models import Case, CaseWaiver, Evidence, Receipt
from vault.states import ReceiptStatus

DELIVERABLE = "deliverable"


@dataclass(frozen=True, slots=True)
class UncoveredDeliverable:
    """A deliverable of the case that no acknowledged (or waived) receipt lists and no waiver names."""

    evidence_id: str
    filename: str
    stored_at: datetime


def _listed(receipt: Receipt) -> set[str]:
    """The evidence ids a receipt lists as handed over, read from its signed document."""
    return {str(item["evidence"]) for item in document_of(receipt)["deliverables"]}


def uncovered_deliverables(session: Session, case: Case, waivers: list[CaseWaiver]) -> list[UncoveredDeliverable]:
    """Every deliverable of ``case`` not covered, in the order they were stored; ``waivers`` are the case's."""
    waived_receipts = {w.receipt_id for w in waivers if w.scope == "acknowledgment"}
    covered = {w.evidence_id for w in waivers if w.scope == DELIVERABLE}
    for receipt in session.exec(select(Receipt).where(Receipt.case_id == case.id)).all():
        waived = None in waived_receipts or receipt.id in waived_receipts
        if receipt.status == ReceiptStatus.ACKNOWLEDGED or waived:
            covered |= _listed(receipt)
    query = select(Evidence).where(Evidence.case_id == case.id, Evidence.kind == DELIVERABLE)
    rows = session.exec(query.order_by(col(Evidence.stored_at), col(Evidence.id))).all()
    return [UncoveredDeliverable(r.id, r.original_filename, r.stored_at) for r in rows if r.id not in covered]
