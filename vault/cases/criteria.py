"""A step's completion criteria (``docs/cases.md``, "Steps"): which of them the evidence and the note sent
with a completion (and the case's acknowledged receipts) do not meet, and why. The criteria a playbook may
name are ``playbooks.CRITERIA``.
"""

from __future__ import annotations

from sqlmodel import Session, select

from vault.models import AccessItem, Case, Evidence, Receipt
from vault.states import AccessStatus, ReceiptStatus

#: The criterion of the client's confirmation of the handover: an acknowledged receipt meets it, and the
#: acknowledgment completes such a step itself (``vault/cases/acknowledged_steps.py``).
CLIENT_CONFIRMATION = "receipt:acknowledged"


def acknowledged_receipt(session: Session, case: Case) -> Receipt | None:
    """The first receipt of ``case`` the client acknowledged, if any."""
    acknowledged = Receipt.status == ReceiptStatus.ACKNOWLEDGED.value
    return session.exec(select(Receipt).where(Receipt.case_id == case.id, acknowledged)).first()


def unmet_criteria(session: Session, case: Case, criteria: list[str], evidence: list[Evidence], note: str) -> list[str]:
    """Every criterion the given evidence and note do not meet, each with why."""
    unmet = []
    kinds = {row.kind for row in evidence}
    for criterion in criteria:
        if criterion == "evidence:any" and not evidence:
            unmet.append("evidence:any: attach at least one evidence id of this case")
        elif criterion.startswith("evidence:") and criterion != "evidence:any":
            kind = criterion.removeprefix("evidence:")
            if kind not in kinds:
                unmet.append(f"{criterion}: attach evidence of kind {kind} (attached kinds: {sorted(kinds) or 'none'})")
        elif criterion == CLIENT_CONFIRMATION and "confirmation" not in kinds:
            if acknowledged_receipt(session, case) is None:
                unmet.append(
                    f"{CLIENT_CONFIRMATION}: the client has not acknowledged a handover receipt of this case; "
                    "send one, or attach their written confirmation as evidence of kind confirmation"
                )
        elif criterion == "note" and not note:
            unmet.append("note: write a note saying what was done")
        elif criterion == "access:all_revoked":
            active_only = AccessItem.status == AccessStatus.ACTIVE.value
            query = select(AccessItem).where(AccessItem.case_id == case.id, active_only)
            active = session.exec(query).all()
            if active:
                names = ", ".join(item.name for item in active)
                unmet.append(f"access:all_revoked: {len(active)} access item(s) not revoked: {names}")
    return unmet
