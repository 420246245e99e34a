"""A case's evidence with who uploaded each file, in one query (for pages listing hundreds of files).

Who uploaded a file is not a column of ``evidence``: it is the actor of the file's ``evidence.stored``
ledger entry, the record that counts. An outer join on the entry's index reads both at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_
from sqlmodel import Session, col, select

from vault.cases.lifecycle import get_case
from vault.ledger.entries import decode_entry
from vault.models import Evidence, LedgerEntry


@dataclass(frozen=True, slots=True)
class ListedEvidence:
    evidence: Evidence
    #: The actor of the file's ``evidence.stored`` entry, or ``None`` when it has none (yet).
    uploaded_by: str | None


def evidence_with_uploaders(session: Session, organization_id: str, case_id: str) -> list[ListedEvidence]:
    """Every file of the case in upload order (``NotFound`` for a case of another organization)."""
    get_case(session, organization_id, case_id)
    entry = and_(
        col(LedgerEntry.organization_id) == col(Evidence.organization_id),
        col(LedgerEntry.idx) == col(Evidence.ledger_index),
    )
    query = (
        select(Evidence, LedgerEntry.body)
        .outerjoin(LedgerEntry, entry)
        .where(Evidence.organization_id == organization_id, Evidence.case_id == case_id)
        .order_by(col(Evidence.stored_at), col(Evidence.id))
    )
    listed = []
    for row, body in session.exec(query).all():
        actor = decode_entry(bytes(body)).get("actor") if body is not None else None
        listed.append(ListedEvidence(evidence=row, uploaded_by=actor if isinstance(actor, str) else None))
    return listed
