"""Pydantic models at the HTTP edge: request bodies and public views of domain rows.

The wire values of the ledger and of signatures (proofs, detached signatures) are not restated here:
``model_of`` builds their models from the value type's own JSON TypedDict, so the API's JSON and the
value's ``to_json()`` cannot drift apart.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model, field_serializer

from signing.detached import ReceiptSignatureJSON
from vault.cases.progress import OverdueItem, Progress, TimelineEvent
from vault.clock import rfc3339
from vault.ledger.proofs import ConsistencyProofJSON, InclusionProofJSON
from vault.models import (
    AccessItem,
    ApiToken,
    Case,
    CaseNote,
    CaseStep,
    CaseWaiver,
    Evidence,
    Organization,
    Playbook,
    PlaybookVersion,
    StaffMember,
)


def model_of(shape: type, name: str) -> type[BaseModel]:
    """A pydantic model with exactly the fields, types and order of the TypedDict ``shape``."""
    fields: dict[str, Any] = {key: (kind, ...) for key, kind in get_type_hints(shape).items()}
    model: type[BaseModel] = create_model(name, __module__=__name__, **fields)
    return model


#: ``GET /api/v1/ledger/proof/inclusion``: ``InclusionProof.to_json()``.
InclusionProofOut = model_of(InclusionProofJSON, "InclusionProofOut")
#: ``GET /api/v1/ledger/proof/consistency``: ``ConsistencyProof.to_json()``.
ConsistencyProofOut = model_of(ConsistencyProofJSON, "ConsistencyProofOut")

if TYPE_CHECKING:
    # mypy cannot see the fields of a model built at run time; to it, this is a model of unknown fields.
    class DetachedSignatureOut(BaseModel):
        """A receipt's or acknowledgment's signature: ``DetachedSignature.to_json()``."""

else:
    DetachedSignatureOut = model_of(ReceiptSignatureJSON, "DetachedSignatureOut")


def _time(value: datetime | None) -> str | None:
    return rfc3339(value) if value is not None else None


class CaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_name: str = Field(min_length=1, max_length=300)
    owner_email: str = Field(min_length=3, max_length=320, description="Must be a staff member.")
    contacts: list[str] = Field(default_factory=list, max_length=20, description="Client contact emails.")
    service_type: str | None = Field(default=None, description="Playbook key; default: the default playbook.")
    trigger: str | None = Field(
        default=None, description="cancellation (default), contract_end, early_termination, project_concluded"
    )
    intent_date: date | None = Field(default=None, description="When the client said so; default today.")
    target_end_date: date | None = Field(default=None, description="Default: intent date + last due offset.")


class ProgressPublic(BaseModel):
    steps_done: int
    steps_required: int
    optional_done: int
    optional_total: int
    access_revoked: int
    access_total: int

    @classmethod
    def of(cls, value: Progress) -> ProgressPublic:
        return cls.model_validate(value, from_attributes=True)


class OverduePublic(BaseModel):
    kind: str = Field(description="step or access")
    ref: str = Field(description="The step key or the access item id.")
    title: str
    due: date
    days_overdue: int

    @classmethod
    def of(cls, value: OverdueItem) -> OverduePublic:
        return cls.model_validate(value, from_attributes=True)


class PlaybookRef(BaseModel):
    key: str
    version: int
    sha256: str


class CasePublic(BaseModel):
    id: str
    organization_id: str
    client_name: str
    contacts: list[str] = Field(default_factory=list)
    owner_email: str
    owner_id: str | None = None
    status: str
    trigger: str = "cancellation"
    service_type: str = ""
    intent_date: date | None = None
    target_end_date: date | None = None
    opened_at: datetime
    closed_at: datetime | None = None
    playbook: PlaybookRef | None = None
    progress: ProgressPublic | None = None
    overdue: list[OverduePublic] = Field(default_factory=list)

    @field_serializer("opened_at", "closed_at")
    def _time(self, value: datetime | None) -> str | None:
        return _time(value)

    @classmethod
    def of(
        cls,
        case: Case,
        *,
        playbook: PlaybookVersion | None = None,
        progress: Progress | None = None,
        overdue: list[OverdueItem] | None = None,
    ) -> CasePublic:
        return cls(
            id=case.id,
            organization_id=case.organization_id,
            client_name=case.client_name,
            contacts=json.loads(case.client_contacts),
            owner_email=case.owner_email,
            owner_id=case.owner_id,
            status=case.status,
            trigger=case.trigger,
            service_type=case.service_type,
            intent_date=case.intent_date,
            target_end_date=case.target_end_date,
            opened_at=case.opened_at,
            closed_at=case.closed_at,
            playbook=PlaybookRef(key=playbook.key, version=playbook.version, sha256=playbook.sha256)
            if playbook is not None
            else None,
            progress=ProgressPublic.of(progress) if progress is not None else None,
            overdue=[OverduePublic.of(o) for o in overdue or []],
        )


class StepPublic(BaseModel):
    key: str
    title: str
    description: str
    required: bool
    depends_on: list[str]
    criteria: list[str]
    due: date
    status: str
    completed_at: datetime | None
    completed_by: str | None
    evidence_ids: list[str]
    note: str | None
    ledger_index: int | None

    @field_serializer("completed_at")
    def _time(self, value: datetime | None) -> str | None:
        return _time(value)

    @classmethod
    def of(cls, step: CaseStep, due: date) -> StepPublic:
        return cls(
            key=step.key,
            title=step.title,
            description=step.description,
            required=step.required,
            depends_on=json.loads(step.depends_on),
            criteria=json.loads(step.criteria),
            due=due,
            status=step.status,
            completed_at=step.completed_at,
            completed_by=step.completed_by,
            evidence_ids=json.loads(step.evidence_ids),
            note=step.note,
            ledger_index=step.ledger_index,
        )


class StepComplete(BaseModel):
    model_config = ConfigDict(extra="forbid")

    evidence_ids: list[str] = Field(default_factory=list, max_length=100)
    note: str | None = Field(default=None, max_length=10_000)


class AccessCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(description="sso, app, code_repository, cloud_account, shared_drive or other.")
    held_by: str = Field(default="client", description="client or team.")
    accounts: list[str] = Field(default_factory=list, max_length=50)


class AccessRevoke(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: str = Field(min_length=1, max_length=4000, description="How the access was removed.")
    evidence_ids: list[str] = Field(min_length=1, max_length=100)
    revoked_by: str | None = Field(default=None, description="Staff email of who did it; default the caller.")


class AccessVerify(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verified_by: str | None = Field(default=None, description="Staff email of the second person.")


class AccessPublic(BaseModel):
    id: str
    case_id: str
    name: str
    kind: str
    held_by: str
    accounts: list[str]
    status: str
    added_at: datetime
    added_by: str
    revoked_at: datetime | None
    revoked_by: str | None
    revocation_method: str | None
    evidence_ids: list[str]
    verified_at: datetime | None
    verified_by: str | None
    ledger_indexes: dict[str, int | None]

    @field_serializer("added_at", "revoked_at", "verified_at")
    def _time(self, value: datetime | None) -> str | None:
        return _time(value)

    @classmethod
    def of(cls, item: AccessItem) -> AccessPublic:
        return cls(
            id=item.id,
            case_id=item.case_id,
            name=item.name,
            kind=item.kind,
            held_by=item.held_by,
            accounts=json.loads(item.accounts),
            status=item.status,
            added_at=item.added_at,
            added_by=item.added_by,
            revoked_at=item.revoked_at,
            revoked_by=item.revoked_by,
            revocation_method=item.revocation_method,
            evidence_ids=json.loads(item.revocation_evidence_ids),
            verified_at=item.verified_at,
            verified_by=item.verified_by,
            ledger_indexes={
                "added": item.added_index,
                "revoked": item.revoked_index,
                "verified": item.verified_index,
            },
        )


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=4000)


class OwnerChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owner_email: str = Field(min_length=3, max_length=320)
    reason: str = Field(min_length=1, max_length=2000)


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=10_000)


class NotePublic(BaseModel):
    id: str
    case_id: str
    kind: str
    text: str
    author: str
    created_at: datetime
    ledger_index: int | None

    @field_serializer("created_at")
    def _time(self, value: datetime) -> str:
        return rfc3339(value)

    @classmethod
    def of(cls, row: CaseNote) -> NotePublic:
        return cls.model_validate(row, from_attributes=True)


class WaiverCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=4000, description="Why the acknowledgment is waived.")
    receipt_id: str | None = Field(default=None, description="One receipt; default all of the case.")


class WaiverPublic(BaseModel):
    id: str
    case_id: str
    scope: str
    receipt_id: str | None
    reason: str
    actor: str
    created_at: datetime
    ledger_index: int | None

    @field_serializer("created_at")
    def _time(self, value: datetime) -> str:
        return rfc3339(value)

    @classmethod
    def of(cls, row: CaseWaiver) -> WaiverPublic:
        return cls.model_validate(row, from_attributes=True)


class GatePublic(BaseModel):
    ready: bool = Field(description="True when the case may be closed now.")
    missing: list[dict[str, Any]] = Field(description="Every unmet obligation: kind, reason and what it is.")


class CommunicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str = Field(description="email, call or meeting.")
    text: str = Field(min_length=1, max_length=200_000)
    subject: str = Field(default="", max_length=300)
    occurred_at: datetime | None = None
    participants: list[str] = Field(default_factory=list, max_length=50)


class TimelineEventPublic(BaseModel):
    index: int = Field(description="The entry's index in the organization's ledger.")
    type: str
    time: str
    actor: str
    data: dict[str, Any]
    leaf_hash: str = Field(description="Hex RFC 9162 leaf hash of the entry bytes.")

    @classmethod
    def of(cls, event: TimelineEvent) -> TimelineEventPublic:
        return cls.model_validate(event, from_attributes=True)


class StaffCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)
    name: str = Field(default="", max_length=200)
    role: str = Field(default="member", description="admin, member or viewer.")


class StaffUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool


class StaffPublic(BaseModel):
    id: str
    email: str
    name: str
    role: str
    active: bool
    created_at: datetime
    ledger_index: int | None

    @field_serializer("created_at")
    def _time(self, value: datetime) -> str:
        return rfc3339(value)

    @classmethod
    def of(cls, row: StaffMember) -> StaffPublic:
        return cls.model_validate(row, from_attributes=True)


class PlaybookPublic(BaseModel):
    key: str
    title: str
    latest_version: int
    is_default: bool

    @classmethod
    def of(cls, row: Playbook) -> PlaybookPublic:
        return cls.model_validate(row, from_attributes=True)


class PlaybookVersionPublic(BaseModel):
    key: str
    version: int
    title: str
    sha256: str = Field(description="SHA-256 of the RFC 8785 canonical JSON in `document`.")
    document: dict[str, Any]
    created_at: datetime
    created_by: str
    ledger_index: int | None

    @field_serializer("created_at")
    def _time(self, value: datetime) -> str:
        return rfc3339(value)

    @classmethod
    def of(cls, row: PlaybookVersion) -> PlaybookVersionPublic:
        return cls(
            key=row.key,
            version=row.version,
            title=row.title,
            sha256=row.sha256,
            document=json.loads(row.document),
            created_at=row.created_at,
            created_by=row.created_by,
            ledger_index=row.ledger_index,
        )


class PlaybookUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    yaml: str | None = Field(default=None, max_length=256 * 1024, description="The playbook as YAML text.")
    document: dict[str, Any] | None = Field(default=None, description="Or the playbook as a JSON object.")


class OrganizationPublic(BaseModel):
    id: str
    slug: str
    name: str

    @classmethod
    def of(cls, row: Organization) -> OrganizationPublic:
        return cls.model_validate(row, from_attributes=True)


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    role: str = Field(default="member", description="admin, member or viewer.")


class TokenPublic(BaseModel):
    id: str
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None
    secret: str | None = Field(default=None, description="Only in the creation response; never stored.")

    @field_serializer("created_at", "revoked_at")
    def _time(self, value: datetime | None) -> str | None:
        return _time(value)

    @classmethod
    def of(cls, row: ApiToken) -> TokenPublic:
        return cls(
            id=row.id, name=row.name, role=row.role, created_at=row.created_at, revoked_at=row.revoked_at
        )


class EvidencePublic(BaseModel):
    id: str
    case_id: str
    sha256: str = Field(description="Lower-case hex SHA-256 of the stored bytes.")
    size: int
    content_type: str
    original_filename: str = Field(description="The uploaded name, escaped; never used as a path.")
    kind: str
    description: str | None
    stored_at: datetime
    ledger_index: int | None
    pdf: dict[str, Any] | None = Field(default=None, description="Safe PDF metadata; parseable=false if hostile.")
    duplicate: bool = False

    @field_serializer("stored_at")
    def _time(self, value: datetime) -> str:
        return rfc3339(value)

    @classmethod
    def of(cls, row: Evidence, *, duplicate: bool = False) -> EvidencePublic:
        return cls(
            id=row.id,
            case_id=row.case_id,
            sha256=row.sha256,
            size=row.size,
            content_type=row.content_type,
            original_filename=row.original_filename,
            kind=row.kind,
            description=row.description,
            stored_at=row.stored_at,
            ledger_index=row.ledger_index,
            pdf=json.loads(row.pdf_info) if row.pdf_info else None,
            duplicate=duplicate,
        )
