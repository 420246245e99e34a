"""The access register at the HTTP edge: adding, revoking and verifying an access item, and its public view."""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from api.schemas.wire_times import optional_rfc3339
from vault.models import AccessItem


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
        return optional_rfc3339(value)

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
