"""The final-state gate and the explicit case transitions (``docs/cases.md``, "States and the gate").

``fully_offboarded`` is reachable only through ``close_case``, and only when ``evaluate_gate`` finds
nothing missing: every required step done, every access item revoked with evidence, every handover receipt
acknowledged or waived by an admin with a written reason, every deliverable in an acknowledged receipt (or
waived, ``vault/cases/deliverables.py``), and no open dispute. The gate reports every unmet obligation at
once, never just the first. Closing voids the case's live acknowledgment links.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from vault.cases.access import evidence_of
from vault.cases.deliverables import DELIVERABLE, uncovered_deliverables
from vault.cases.lifecycle import CaseStatus, change_status, get_case, record, writable_case, write_note
from vault.certificates.schedule import schedule_certificate
from vault.clock import Clock, rfc3339, system_clock
from vault.errors import Conflict, InvalidInput, NotFound
from vault.handover.links import void_case_links
from vault.models import AccessItem, Case, CaseStep, CaseWaiver, Evidence, Receipt
from vault.orgs.organizations import Principal, Role
from vault.states import AccessStatus, ReceiptStatus, StepStatus

MIN_WAIVER_REASON = 10


@dataclass(frozen=True, slots=True)
class Missing:
    """One unmet obligation of the gate."""

    #: ``status``, ``step``, ``access``, ``acknowledgment`` or ``deliverable``.
    kind: str
    #: What is missing, in words a person can act on.
    reason: str
    step: str | None = None
    access_item: str | None = None
    receipt: str | None = None
    #: The deliverable's evidence id (kind ``deliverable``).
    evidence: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "reason": self.reason}
        for name in ("step", "access_item", "receipt", "evidence"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


@dataclass(frozen=True, slots=True)
class PendingAcknowledgment:
    """A handover receipt the client has not acknowledged yet."""

    receipt_id: str
    reason: str


PendingSource = Callable[[Session, Case], list[PendingAcknowledgment]]


def pending_acknowledgments(session: Session, case: Case) -> list[PendingAcknowledgment]:
    """Receipts of ``case`` the client has not acknowledged: drafts, sent ones and disputed ones.

    A disputed receipt stays pending until an admin waives it (or the client acknowledges a new one and
    the admin waives the old), so a dispute can never be closed over silently.
    """
    query = select(Receipt).where(Receipt.case_id == case.id).order_by(col(Receipt.created_at))
    waiting: dict[str, str] = {
        ReceiptStatus.DRAFT: "was never sent to the client",
        ReceiptStatus.SENT: "is awaiting the client's acknowledgment",
        ReceiptStatus.DISPUTED: "was disputed by the client",
    }
    found = []
    for receipt in session.exec(query).all():
        if receipt.status == ReceiptStatus.ACKNOWLEDGED:
            continue
        state = waiting.get(receipt.status, f"is {receipt.status}")
        found.append(PendingAcknowledgment(receipt.id, f"handover receipt {receipt.id} {state}"))
    return found


def _waived(waivers: list[CaseWaiver], receipt_id: str) -> bool:
    return any(w.receipt_id is None or w.receipt_id == receipt_id for w in waivers)


def evaluate_gate(session: Session, case: Case, *, pending: PendingSource = pending_acknowledgments) -> list[Missing]:
    """Every obligation standing between ``case`` and ``fully_offboarded``; empty means it may close."""
    missing: list[Missing] = []
    if case.status == CaseStatus.DISPUTED:
        missing.append(Missing("status", "the case is disputed; resolve the dispute first"))
    steps = session.exec(select(CaseStep).where(CaseStep.case_id == case.id).order_by(col(CaseStep.position))).all()
    for step in steps:
        if step.required and step.status != StepStatus.DONE:
            missing.append(Missing("step", f"required step {step.title!r} is not completed", step=step.key))
    items = session.exec(
        select(AccessItem).where(AccessItem.case_id == case.id).order_by(col(AccessItem.added_at))
    ).all()
    for item in items:
        if item.status != AccessStatus.REVOKED:
            missing.append(Missing("access", f"access to {item.name!r} is not revoked", access_item=item.id))
        elif not evidence_of(item):
            missing.append(Missing("access", f"revocation of {item.name!r} has no evidence", access_item=item.id))
    waivers = list(session.exec(select(CaseWaiver).where(CaseWaiver.case_id == case.id)).all())
    receipt_waivers = [w for w in waivers if w.scope == "acknowledgment"]
    for receipt in pending(session, case):
        if not _waived(receipt_waivers, receipt.receipt_id):
            missing.append(Missing("acknowledgment", receipt.reason, receipt=receipt.receipt_id))
    for uncovered in uncovered_deliverables(session, case, waivers):
        at = rfc3339(uncovered.stored_at)
        reason = f"deliverable {uncovered.filename!r}, stored at {at}, is not in an acknowledged receipt"
        missing.append(Missing("deliverable", reason, evidence=uncovered.evidence_id))
    return missing


def close_case(
    session: Session,
    principal: Principal,
    case_id: str,
    *,
    clock: Clock = system_clock,
    pending: PendingSource = pending_acknowledgments,
) -> Case:
    """Move a case to ``fully_offboarded``, or raise ``Conflict`` with ``details["missing"]``."""
    principal.can_write()
    case = get_case(session, principal.organization_id, case_id)
    if case.status == CaseStatus.FULLY_OFFBOARDED:
        raise Conflict(f"case {case_id} is already fully_offboarded", details={"missing": []})
    missing = evaluate_gate(session, case, pending=pending)
    if missing:
        raise Conflict(
            f"case {case_id} cannot be fully offboarded: {len(missing)} obligation(s) unmet",
            details={"missing": [m.to_dict() for m in missing]},
        )
    if case.status == CaseStatus.OPEN:
        change_status(session, case, principal, CaseStatus.IN_PROGRESS, "work recorded", clock=clock)
    final_index = change_status(
        session,
        case,
        principal,
        CaseStatus.FULLY_OFFBOARDED,
        "every obligation met (gate passed)",
        clock=clock,
    )
    # The certificate needs a checkpoint holding the final entry, which exists only after this commit.
    schedule_certificate(session, case=case, final_index=final_index, now=clock())
    # A waived receipt's links are still live here; a closed case answers no more acknowledgments.
    void_case_links(session, case, principal.actor, clock(), reason="the case was closed (fully offboarded)")
    return case


def request_acknowledgment(
    session: Session,
    principal: Principal,
    case_id: str,
    *,
    clock: Clock = system_clock,
    pending: PendingSource = pending_acknowledgments,
) -> Case:
    """``in_progress`` -> ``awaiting_acknowledgment`` once only the client's acknowledgment is left."""
    principal.can_write()
    case = writable_case(session, principal.organization_id, case_id)
    if case.status != CaseStatus.IN_PROGRESS:
        raise Conflict(f"only a case in_progress can await acknowledgment; this one is {case.status}")
    client_side = {"acknowledgment", "deliverable"}
    work = [m for m in evaluate_gate(session, case, pending=pending) if m.kind not in client_side]
    if work:
        raise Conflict(
            f"case {case_id} still has {len(work)} obligation(s) before it can await acknowledgment",
            details={"missing": [m.to_dict() for m in work]},
        )
    change_status(session, case, principal, CaseStatus.AWAITING_ACKNOWLEDGMENT, "handover complete", clock=clock)
    return case


def _waiver_reason(reason: str) -> str:
    reason = reason.strip()
    if len(reason) < MIN_WAIVER_REASON or len(reason) > 4000:
        raise InvalidInput(
            f"a waiver needs a written reason of {MIN_WAIVER_REASON} to 4000 characters "
            f"(for example: the client refused to respond); found {len(reason)}"
        )
    return reason


def _record_waiver(
    session: Session, case: Case, principal: Principal, waiver: CaseWaiver, data: dict[str, Any]
) -> CaseWaiver:
    """Store ``waiver`` and its ``case.waiver`` entry (``data`` after the waiver id and scope)."""
    session.add(waiver)
    session.flush()
    entry = {"waiver": waiver.id, "scope": waiver.scope, **data, "reason": waiver.reason}
    waiver.ledger_index = record(session, case, principal, "case.waiver", entry, lambda: waiver.created_at)
    session.add(waiver)
    return waiver


def waive_acknowledgment(
    session: Session,
    principal: Principal,
    case_id: str,
    *,
    reason: str,
    receipt_id: str | None = None,
    clock: Clock = system_clock,
) -> CaseWaiver:
    """An admin waives the client's acknowledgment (one receipt, or all with ``None``): ``case.waiver``."""
    principal.require(Role.ADMIN)
    case = writable_case(session, principal.organization_id, case_id)
    text = _waiver_reason(reason)
    waiver = CaseWaiver(
        organization_id=case.organization_id,
        case_id=case.id,
        receipt_id=receipt_id,
        reason=text,
        actor=principal.actor,
        created_at=clock(),
    )
    return _record_waiver(session, case, principal, waiver, {"receipt": receipt_id})


def waive_deliverable(
    session: Session,
    principal: Principal,
    case_id: str,
    *,
    evidence_id: str,
    reason: str,
    clock: Clock = system_clock,
) -> CaseWaiver:
    """An admin waives the client's acknowledgment of one deliverable no acknowledged receipt lists
    (scope ``deliverable``): ``case.waiver`` naming the evidence and its SHA-256."""
    principal.require(Role.ADMIN)
    case = writable_case(session, principal.organization_id, case_id)
    text = _waiver_reason(reason)
    evidence = session.get(Evidence, evidence_id)
    if evidence is None or evidence.organization_id != case.organization_id or evidence.case_id != case.id:
        raise NotFound(f"no evidence {evidence_id!r} in case {case.id}")
    if evidence.kind != DELIVERABLE:
        raise InvalidInput(
            f"evidence {evidence_id} is of kind {evidence.kind}; only a deliverable needs the client's "
            "acknowledgment, so only a deliverable can be waived"
        )
    waiver = CaseWaiver(
        organization_id=case.organization_id,
        case_id=case.id,
        scope=DELIVERABLE,
        evidence_id=evidence.id,
        reason=text,
        actor=principal.actor,
        created_at=clock(),
    )
    data = {"evidence": evidence.id, "filename": evidence.original_filename, "sha256": evidence.sha256}
    return _record_waiver(session, case, principal, waiver, data)


def list_waivers(session: Session, organization_id: str, case_id: str) -> list[CaseWaiver]:
    get_case(session, organization_id, case_id)
    query = select(CaseWaiver).where(CaseWaiver.case_id == case_id).order_by(col(CaseWaiver.created_at))
    return list(session.exec(query).all())


def dispute(session: Session, principal: Principal, case_id: str, *, reason: str, clock: Clock = system_clock) -> Case:
    """Record a disagreement; allowed in every state but ``disputed``, fully offboarded included."""
    principal.can_write()
    case = get_case(session, principal.organization_id, case_id)
    if case.status == CaseStatus.DISPUTED:
        raise Conflict(f"case {case_id} is already disputed")
    note = write_note(session, case, principal, "dispute", reason, entry=None, clock=clock)
    note.ledger_index = change_status(session, case, principal, CaseStatus.DISPUTED, note.text, clock=clock)
    session.add(note)
    return case


def resolve_dispute(
    session: Session, principal: Principal, case_id: str, *, reason: str, clock: Clock = system_clock
) -> Case:
    """End a dispute: the case returns to ``in_progress`` and must pass the gate again to close."""
    principal.can_write()
    case = get_case(session, principal.organization_id, case_id)
    if case.status != CaseStatus.DISPUTED:
        raise Conflict(f"case {case_id} is {case.status}, not disputed")
    note = write_note(session, case, principal, "resolution", reason, entry=None, clock=clock)
    note.ledger_index = change_status(session, case, principal, CaseStatus.IN_PROGRESS, note.text, clock=clock)
    case.closed_at = None
    session.add_all([note, case])
    return case


def start_work(session: Session, principal: Principal, case_id: str, *, clock: Clock = system_clock) -> Case:
    """``open`` -> ``in_progress`` explicitly (recording work does it implicitly)."""
    principal.can_write()
    case = writable_case(session, principal.organization_id, case_id)
    change_status(session, case, principal, CaseStatus.IN_PROGRESS, "work started", clock=clock)
    return case
