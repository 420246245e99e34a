"""The steps a client's acknowledgment completes (``docs/cases.md``, "Steps", issue 14 item 1).

When the client acknowledges a handover receipt, every step of the case not completed yet whose criteria
name the client's confirmation (``receipt:acknowledged``) is completed, provided its dependencies are
done and the acknowledgment meets all of its criteria. Each is a ``step.completed`` entry like a manual
completion, by the client contact who acknowledged, naming the receipt and the acknowledgment. A later
acknowledgment of another receipt finds those steps done and completes nothing again.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from vault.cases.criteria import CLIENT_CONFIRMATION, unmet_criteria
from vault.cases.lifecycle import begin_work, dumps_list, loads_list, record
from vault.models import Acknowledgment, Case, CaseStep, Receipt
from vault.orgs.organizations import Principal, Role
from vault.states import StepStatus


def complete_by_acknowledgment(
    session: Session, case: Case, *, receipt: Receipt, acknowledgment: Acknowledgment, now: datetime
) -> list[CaseStep]:
    """Complete the client-confirmation steps ``acknowledgment`` of ``receipt`` meets; returns them.

    Runs in the acknowledging transaction, after the receipt's status became ``acknowledged``."""
    client = Principal(case.organization_id, Role.MEMBER, f"client:{acknowledgment.recipient}")
    steps = session.exec(select(CaseStep).where(CaseStep.case_id == case.id).order_by(col(CaseStep.position))).all()
    done = {step.key for step in steps if step.status == StepStatus.DONE}
    note = f"the client ({acknowledgment.recipient}) acknowledged handover receipt {receipt.id}"
    completed = []
    for step in steps:
        criteria = loads_list(step.criteria)
        if step.key in done or CLIENT_CONFIRMATION not in criteria:
            continue
        # A step waiting on others stays open: staff complete it once they are done (its criterion is met).
        if not set(loads_list(step.depends_on)) <= done or unmet_criteria(session, case, criteria, [], note):
            continue
        begin_work(session, case, client, clock=lambda: now)
        data = {
            "step": step.key,
            "title": step.title,
            "evidence": [],
            "note": note,
            "receipt": receipt.id,
            "receipt_sha256": receipt.sha256,
            "acknowledgment": acknowledgment.id,
        }
        step.ledger_index = record(session, case, client, "step.completed", data, lambda: now)
        step.status, step.completed_at, step.completed_by = StepStatus.DONE.value, now, client.actor
        step.evidence_ids, step.note = dumps_list([]), note
        session.add(step)
        done.add(step.key)
        completed.append(step)
    if completed:
        case.updated_at = now
        session.add(case)
        session.flush()
    return completed
