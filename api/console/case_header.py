"""The header every page of one case shows (client, status, owner, dates, progress) and its tabs.

A case's pages are tabs of one case (overview, evidence, receipts, timeline) rather than one long page, so
each stays quick with hundreds of files and thousands of ledger entries; they share this header.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from vault.cases import lifecycle, progress
from vault.orgs.organizations import Principal
from vault.states import CaseStatus

TABS = (("overview", "Overview"), ("evidence", "Evidence"), ("receipts", "Receipts"), ("timeline", "Timeline"))
STATUS_LABELS = {
    CaseStatus.OPEN: "Open",
    CaseStatus.IN_PROGRESS: "In progress",
    CaseStatus.AWAITING_ACKNOWLEDGMENT: "Awaiting acknowledgment",
    CaseStatus.FULLY_OFFBOARDED: "Fully offboarded",
    CaseStatus.DISPUTED: "Disputed",
}


def status_label(status: str) -> str:
    try:
        return STATUS_LABELS[CaseStatus(status)]
    except ValueError:
        return status


@dataclass(frozen=True, slots=True)
class CaseHeader:
    id: str
    client_name: str
    status: str
    status_label: str
    owner_email: str
    service_type: str
    intent_date: date
    target_end_date: date | None
    done: int
    required: int
    closed: bool
    tabs: tuple[tuple[str, str], ...] = TABS


def case_header(session: Session, principal: Principal, case_id: str) -> CaseHeader:
    """The header of case ``case_id`` of the principal's organization (``NotFound`` for any other)."""
    case = lifecycle.get_case(session, principal.organization_id, case_id)
    counted = progress.progress(session, case)
    return CaseHeader(
        id=case.id,
        client_name=case.client_name,
        status=case.status,
        status_label=status_label(case.status),
        owner_email=case.owner_email,
        service_type=case.service_type,
        intent_date=case.intent_date,
        target_end_date=case.target_end_date,
        done=counted.steps_done,
        required=counted.steps_required,
        closed=case.status == CaseStatus.FULLY_OFFBOARDED,
    )
