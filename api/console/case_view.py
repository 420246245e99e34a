"""What the case overview shows (``/cases/{id}``): the playbook steps with their criteria and completions,
the access-revocation register, the client contacts and the evidence a form may attach.

Read in one read session through the domain's readers (the same ones the API's GET routes use); the
values are frozen, so the templates only display them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from api.console.case_header import CaseHeader, case_header
from vault.cases import access, contacts, lifecycle, progress
from vault.certificates.lookup import case_certificates
from vault.evidence.ingest import list_evidence
from vault.models import Evidence
from vault.orgs.organizations import Principal
from vault.orgs.staff import list_staff
from vault.states import AccessStatus, StepStatus

CRITERIA_WORDS = {
    "evidence:any": "at least one evidence item",
    "note": "a note saying what was done",
    "access:all_revoked": "every access item revoked",
}


def criterion_text(criterion: str) -> str:
    """A completion criterion in words (``evidence:deliverable`` -> "evidence of kind deliverable")."""
    if criterion in CRITERIA_WORDS:
        return CRITERIA_WORDS[criterion]
    if criterion.startswith("evidence:"):
        return f"evidence of kind {criterion.removeprefix('evidence:')}"
    return criterion


@dataclass(frozen=True, slots=True)
class EvidenceRef:
    id: str
    name: str
    kind: str
    size: int


@dataclass(frozen=True, slots=True)
class StepRow:
    key: str
    title: str
    description: str
    required: bool
    criteria: tuple[str, ...]
    depends_on: tuple[str, ...]
    due: date
    days_overdue: int
    done: bool
    ready: bool
    completed_at: datetime | None
    completed_by: str | None
    note: str | None
    evidence: tuple[EvidenceRef, ...]
    ledger_index: int | None


@dataclass(frozen=True, slots=True)
class AccessRow:
    id: str
    name: str
    kind: str
    held_by: str
    accounts: tuple[str, ...]
    status: str
    overdue: bool
    revoked_at: datetime | None
    revoked_by: str | None
    method: str | None
    evidence: tuple[EvidenceRef, ...]
    verified_at: datetime | None
    verified_by: str | None


@dataclass(frozen=True, slots=True)
class CertificateRow:
    """The case's latest certificate of completion, as the overview shows it."""

    id: str
    sha256: str
    created_at: datetime
    final_index: int


@dataclass(frozen=True, slots=True)
class CaseOverview:
    case: CaseHeader
    steps: tuple[StepRow, ...]
    access: tuple[AccessRow, ...]
    contacts: tuple[str, ...]
    evidence: tuple[EvidenceRef, ...]
    staff: tuple[str, ...]
    #: ``None`` until the worker has issued one (the case is closed) or for a case never closed.
    certificate: CertificateRow | None = None

    @property
    def ready_steps(self) -> tuple[StepRow, ...]:
        return tuple(s for s in self.steps if s.ready)

    @property
    def active_access(self) -> tuple[AccessRow, ...]:
        return tuple(a for a in self.access if a.status == AccessStatus.ACTIVE)


def _refs(ids: list[object], evidence: dict[str, EvidenceRef]) -> tuple[EvidenceRef, ...]:
    return tuple(evidence.get(str(i), EvidenceRef(str(i), str(i), "", 0)) for i in ids)


def overview(session: Session, principal: Principal, case_id: str, *, today: date) -> CaseOverview:
    """The overview of case ``case_id`` of the principal's organization (``NotFound`` for any other)."""
    org = principal.organization_id
    header = case_header(session, principal, case_id)
    case = lifecycle.get_case(session, org, case_id)
    rows: list[Evidence] = list_evidence(session, org, case_id)
    evidence = {e.id: EvidenceRef(e.id, e.original_filename, e.kind, e.size) for e in rows}
    overdue = {(o.kind, o.ref): o.days_overdue for o in progress.overdue_items(session, case, today)}
    steps = lifecycle.list_steps(session, org, case_id)
    done = {s.key for s in steps if s.status == StepStatus.DONE}
    step_rows = tuple(
        StepRow(
            key=s.key,
            title=s.title,
            description=s.description,
            required=s.required,
            criteria=tuple(criterion_text(str(c)) for c in lifecycle.loads_list(s.criteria)),
            depends_on=tuple(str(d) for d in lifecycle.loads_list(s.depends_on)),
            due=progress.step_due(case, s),
            days_overdue=overdue.get(("step", s.key), 0),
            done=s.key in done,
            ready=s.key not in done and set(map(str, lifecycle.loads_list(s.depends_on))) <= done,
            completed_at=s.completed_at,
            completed_by=s.completed_by,
            note=s.note,
            evidence=_refs(lifecycle.loads_list(s.evidence_ids), evidence),
            ledger_index=s.ledger_index,
        )
        for s in steps
    )
    access_rows = tuple(
        AccessRow(
            id=i.id,
            name=i.name,
            kind=i.kind,
            held_by=i.held_by,
            accounts=tuple(str(a) for a in lifecycle.loads_list(i.accounts)),
            status=i.status,
            overdue=("access", i.id) in overdue,
            revoked_at=i.revoked_at,
            revoked_by=i.revoked_by,
            method=i.revocation_method,
            evidence=_refs(list(access.evidence_of(i)), evidence),
            verified_at=i.verified_at,
            verified_by=i.verified_by,
        )
        for i in access.list_items(session, org, case_id)
    )
    return CaseOverview(
        case=header,
        steps=step_rows,
        access=access_rows,
        contacts=tuple(contacts.list_contacts(session, org, case_id)),
        evidence=tuple(evidence.values()),
        staff=tuple(m.email for m in list_staff(session, org) if m.active),
        certificate=_certificate(session, org, case_id),
    )


def _certificate(session: Session, organization_id: str, case_id: str) -> CertificateRow | None:
    issued = case_certificates(session, organization_id, case_id)
    if not issued:
        return None
    row = issued[-1]
    return CertificateRow(row.id, row.sha256, row.created_at, row.final_index)
