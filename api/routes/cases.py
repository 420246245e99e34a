"""``/api/v1/cases``: offboarding cases, their steps, access register, notes, state and timeline.

Write routes commit (``services.transact``, the one write path) before answering, so a 2xx means the
change and its ledger entry are durable. The gate answers 409 with ``missing``: every unmet obligation.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlmodel import Session

from api.deps import PrincipalDep, ServicesDep, SessionDep
from api.errors import COMMON_RESPONSES, responses
from api.schemas import (
    AccessCreate,
    AccessPublic,
    AccessRevoke,
    AccessVerify,
    CaseCreate,
    CasePublic,
    CommunicationCreate,
    ContactCreate,
    EvidencePublic,
    GatePublic,
    NoteCreate,
    NotePublic,
    OwnerChange,
    Reason,
    StepComplete,
    StepPublic,
    TimelineEventPublic,
    WaiverCreate,
    WaiverPublic,
)
from vault.cases import access, contacts, gate, progress
from vault.cases import lifecycle as cases
from vault.db import Unit, read_session
from vault.handover.communications import log_communication
from vault.models import Case, PlaybookVersion
from vault.services import Services

router = APIRouter(prefix="/api/v1/cases", tags=["cases"], responses=COMMON_RESPONSES)
WRITE = responses(403, 409)


def view(session: Session, case: Case, services: Services) -> CasePublic:
    """The case with its playbook reference, progress and overdue items as of the injected clock."""
    version = session.get(PlaybookVersion, case.playbook_version_id) if case.playbook_version_id else None
    today = services.clock().date()
    return CasePublic.of(
        case,
        playbook=version,
        progress=progress.progress(session, case),
        overdue=progress.overdue_items(session, case, today),
    )


@router.post("", status_code=status.HTTP_201_CREATED, responses=responses(403))
def open_case(body: CaseCreate, principal: PrincipalDep, services: ServicesDep) -> CasePublic:
    def work(session: Unit) -> CasePublic:
        case = cases.open_case(
            session,
            principal,
            client_name=body.client_name,
            owner_email=body.owner_email,
            contacts=body.contacts,
            service_type=body.service_type,
            trigger=body.trigger,
            intent_date=body.intent_date,
            target_end_date=body.target_end_date,
            clock=services.clock,
        )
        return view(session, case, services)

    return services.transact(work)


@router.get("")
def list_cases(
    principal: PrincipalDep,
    session: SessionDep,
    services: ServicesDep,
    overdue: Annotated[bool, Query(description="Only cases with overdue steps or access.")] = False,
) -> list[CasePublic]:
    org = principal.organization_id
    if overdue:
        rows = progress.overdue_cases(session, org, services.clock().date())
    else:
        rows = cases.list_cases(session, org)
    return [view(session, c, services) for c in rows]


@router.get("/{case_id}")
def get_case(case_id: str, principal: PrincipalDep, session: SessionDep, services: ServicesDep) -> CasePublic:
    return view(session, cases.get_case(session, principal.organization_id, case_id), services)


@router.get("/{case_id}/steps")
def list_steps(case_id: str, principal: PrincipalDep, session: SessionDep) -> list[StepPublic]:
    case = cases.get_case(session, principal.organization_id, case_id)
    steps = cases.list_steps(session, principal.organization_id, case_id)
    return [StepPublic.of(s, progress.step_due(case, s)) for s in steps]


@router.post("/{case_id}/steps/{step_key}/complete", responses=WRITE)
def complete_step(
    case_id: str, step_key: str, body: StepComplete, principal: PrincipalDep, services: ServicesDep
) -> StepPublic:
    def work(session: Unit) -> StepPublic:
        step = cases.complete_step(
            session,
            principal,
            case_id,
            step_key,
            evidence_ids=body.evidence_ids,
            note=body.note,
            clock=services.clock,
        )
        case = cases.get_case(session, principal.organization_id, case_id)
        return StepPublic.of(step, progress.step_due(case, step))

    return services.transact(work)


@router.get("/{case_id}/access")
def list_access(case_id: str, principal: PrincipalDep, session: SessionDep) -> list[AccessPublic]:
    return [AccessPublic.of(i) for i in access.list_items(session, principal.organization_id, case_id)]


@router.post("/{case_id}/access", status_code=status.HTTP_201_CREATED, responses=WRITE)
def add_access(case_id: str, body: AccessCreate, principal: PrincipalDep, services: ServicesDep) -> AccessPublic:
    def work(session: Unit) -> AccessPublic:
        item = access.add_item(
            session,
            principal,
            case_id,
            name=body.name,
            kind=body.kind,
            held_by=body.held_by,
            accounts=body.accounts,
            clock=services.clock,
        )
        return AccessPublic.of(item)

    return services.transact(work)


@router.post("/{case_id}/access/{item_id}/revoke", responses=WRITE)
def revoke_access(
    case_id: str, item_id: str, body: AccessRevoke, principal: PrincipalDep, services: ServicesDep
) -> AccessPublic:
    def work(session: Unit) -> AccessPublic:
        item = access.revoke_item(
            session,
            principal,
            case_id,
            item_id,
            method=body.method,
            evidence_ids=body.evidence_ids,
            revoked_by=body.revoked_by,
            clock=services.clock,
        )
        return AccessPublic.of(item)

    return services.transact(work)


@router.post("/{case_id}/access/{item_id}/verify", responses=WRITE)
def verify_access(
    case_id: str, item_id: str, body: AccessVerify, principal: PrincipalDep, services: ServicesDep
) -> AccessPublic:
    def work(session: Unit) -> AccessPublic:
        item = access.verify_item(
            session, principal, case_id, item_id, verified_by=body.verified_by, clock=services.clock
        )
        return AccessPublic.of(item)

    return services.transact(work)


@router.post("/{case_id}/contacts", status_code=status.HTTP_201_CREATED, responses=WRITE)
def add_contact(case_id: str, body: ContactCreate, principal: PrincipalDep, services: ServicesDep) -> CasePublic:
    """Add a client contact (who will receive acknowledgment links); 409 if already one."""

    def work(session: Unit) -> CasePublic:
        contacts.add_contact(session, principal, case_id, email=body.email, clock=services.clock)
        return view(session, cases.get_case(session, principal.organization_id, case_id), services)

    return services.transact(work)


@router.delete("/{case_id}/contacts/{email}", responses=WRITE)
def remove_contact(case_id: str, email: str, principal: PrincipalDep, services: ServicesDep) -> CasePublic:
    """Remove a client contact; their live acknowledgment links are voided. 404 if not a contact."""

    def work(session: Unit) -> CasePublic:
        contacts.remove_contact(session, principal, case_id, email=email, clock=services.clock)
        return view(session, cases.get_case(session, principal.organization_id, case_id), services)

    return services.transact(work)


@router.get("/{case_id}/notes")
def list_notes(case_id: str, principal: PrincipalDep, session: SessionDep) -> list[NotePublic]:
    return [NotePublic.of(n) for n in cases.list_notes(session, principal.organization_id, case_id)]


@router.post("/{case_id}/notes", status_code=status.HTTP_201_CREATED, responses=responses(403))
def add_note(case_id: str, body: NoteCreate, principal: PrincipalDep, services: ServicesDep) -> NotePublic:
    def work(session: Unit) -> NotePublic:
        return NotePublic.of(cases.add_note(session, principal, case_id, body.text, clock=services.clock))

    return services.transact(work)


@router.post("/{case_id}/owner", responses=WRITE)
def change_owner(case_id: str, body: OwnerChange, principal: PrincipalDep, services: ServicesDep) -> CasePublic:
    def work(session: Unit) -> CasePublic:
        case = cases.change_owner(
            session,
            principal,
            case_id,
            owner_email=body.owner_email,
            reason=body.reason,
            clock=services.clock,
        )
        return view(session, case, services)

    return services.transact(work)


@router.post("/{case_id}/start", responses=WRITE)
def start_work(case_id: str, principal: PrincipalDep, services: ServicesDep) -> CasePublic:
    def work(session: Unit) -> CasePublic:
        return view(session, gate.start_work(session, principal, case_id, clock=services.clock), services)

    return services.transact(work)


@router.post("/{case_id}/await-acknowledgment", responses=WRITE)
def await_acknowledgment(case_id: str, principal: PrincipalDep, services: ServicesDep) -> CasePublic:
    def work(session: Unit) -> CasePublic:
        case = gate.request_acknowledgment(session, principal, case_id, clock=services.clock)
        return view(session, case, services)

    return services.transact(work)


@router.get("/{case_id}/gate")
def check_gate(case_id: str, principal: PrincipalDep, session: SessionDep) -> GatePublic:
    case = cases.get_case(session, principal.organization_id, case_id)
    missing = [m.to_dict() for m in gate.evaluate_gate(session, case)]
    if case.status == cases.CaseStatus.FULLY_OFFBOARDED:
        return GatePublic(ready=False, missing=[])
    return GatePublic(ready=not missing, missing=missing)


@router.post("/{case_id}/close", responses=WRITE)
def close_case(case_id: str, principal: PrincipalDep, services: ServicesDep) -> CasePublic:
    def work(session: Unit) -> CasePublic:
        return view(session, gate.close_case(session, principal, case_id, clock=services.clock), services)

    return services.transact(work)


@router.get("/{case_id}/waivers")
def list_waivers(case_id: str, principal: PrincipalDep, session: SessionDep) -> list[WaiverPublic]:
    return [WaiverPublic.of(w) for w in gate.list_waivers(session, principal.organization_id, case_id)]


@router.post("/{case_id}/waivers", status_code=status.HTTP_201_CREATED, responses=WRITE)
def waive(case_id: str, body: WaiverCreate, principal: PrincipalDep, services: ServicesDep) -> WaiverPublic:
    def work(session: Unit) -> WaiverPublic:
        if body.evidence_id is not None:
            waiver = gate.waive_deliverable(
                session, principal, case_id, evidence_id=body.evidence_id, reason=body.reason, clock=services.clock
            )
        else:
            waiver = gate.waive_acknowledgment(
                session, principal, case_id, reason=body.reason, receipt_id=body.receipt_id, clock=services.clock
            )
        return WaiverPublic.of(waiver)

    return services.transact(work)


@router.post("/{case_id}/dispute", responses=WRITE)
def dispute(case_id: str, body: Reason, principal: PrincipalDep, services: ServicesDep) -> CasePublic:
    def work(session: Unit) -> CasePublic:
        case = gate.dispute(session, principal, case_id, reason=body.reason, clock=services.clock)
        return view(session, case, services)

    return services.transact(work)


@router.post("/{case_id}/resolve", responses=WRITE)
def resolve(case_id: str, body: Reason, principal: PrincipalDep, services: ServicesDep) -> CasePublic:
    def work(session: Unit) -> CasePublic:
        case = gate.resolve_dispute(session, principal, case_id, reason=body.reason, clock=services.clock)
        return view(session, case, services)

    return services.transact(work)


@router.post(
    "/{case_id}/communications",
    status_code=status.HTTP_201_CREATED,
    responses={
        **WRITE,
        200: {"model": EvidencePublic, "description": "The same communication was logged before"},
    },
)
def log_comm(
    case_id: str,
    body: CommunicationCreate,
    principal: PrincipalDep,
    services: ServicesDep,
    response: Response,
) -> EvidencePublic:
    with read_session(services.engine) as session:
        result = log_communication(
            session,
            services.transact,
            services.store,
            principal,
            case_id,
            services.ingest_limits,
            channel=body.channel,
            text=body.text,
            subject=body.subject,
            occurred_at=body.occurred_at,
            participants=body.participants,
            clock=services.clock,
        )
    if result.duplicate:
        response.status_code = status.HTTP_200_OK
    return EvidencePublic.of(result.evidence, duplicate=result.duplicate)


@router.get("/{case_id}/timeline")
def get_timeline(case_id: str, principal: PrincipalDep, session: SessionDep) -> list[TimelineEventPublic]:
    return [TimelineEventPublic.of(e) for e in progress.timeline(session, principal.organization_id, case_id)]
