"""Pydantic models at the HTTP edge: request bodies and public views of domain rows, one module per resource.

The wire values of the ledger and of signatures (proofs, detached signatures) are not restated here:
``wire_values.model_of`` builds their models from the value type's own JSON TypedDict, so the API's JSON
and the value's ``to_json()`` cannot drift apart. Routes import from ``api.schemas``; the modules are how
the models are kept, not part of the interface.
"""

from __future__ import annotations

from api.schemas.access_bodies import AccessCreate, AccessPublic, AccessRevoke, AccessVerify
from api.schemas.case_bodies import (
    CaseCreate,
    CasePublic,
    ContactCreate,
    GatePublic,
    OverduePublic,
    OwnerChange,
    PlaybookRef,
    ProgressPublic,
    Reason,
    TimelineEventPublic,
)
from api.schemas.case_record_bodies import (
    CommunicationCreate,
    NoteCreate,
    NotePublic,
    StepComplete,
    StepPublic,
    WaiverCreate,
    WaiverPublic,
)
from api.schemas.evidence_bodies import EvidencePublic
from api.schemas.org_bodies import (
    OrganizationPublic,
    OrganizationRename,
    StaffCreate,
    StaffPublic,
    StaffUpdate,
    TokenCreate,
    TokenPublic,
)
from api.schemas.playbook_bodies import PlaybookPublic, PlaybookUpload, PlaybookVersionPublic
from api.schemas.wire_values import ConsistencyProofOut, DetachedSignatureOut, InclusionProofOut, model_of

__all__ = [
    "AccessCreate",
    "AccessPublic",
    "AccessRevoke",
    "AccessVerify",
    "CaseCreate",
    "CasePublic",
    "CommunicationCreate",
    "ContactCreate",
    "ConsistencyProofOut",
    "DetachedSignatureOut",
    "EvidencePublic",
    "GatePublic",
    "InclusionProofOut",
    "NoteCreate",
    "NotePublic",
    "OrganizationPublic",
    "OrganizationRename",
    "OverduePublic",
    "OwnerChange",
    "PlaybookPublic",
    "PlaybookRef",
    "PlaybookUpload",
    "PlaybookVersionPublic",
    "ProgressPublic",
    "Reason",
    "StaffCreate",
    "StaffPublic",
    "StaffUpdate",
    "StepComplete",
    "StepPublic",
    "TimelineEventPublic",
    "TokenCreate",
    "TokenPublic",
    "WaiverCreate",
    "WaiverPublic",
    "model_of",
]
