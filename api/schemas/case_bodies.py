"""Cases at the HTTP edge: opening one, its public view with progress and overdue items, state changes, the
gate and the timeline."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from api.schemas.wire_times import optional_rfc3339
from vault.cases.progress import OverdueItem, Progress, TimelineEvent
from vault.models import Case, PlaybookVersion


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
        return optional_rfc3339(value)

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


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=4000)


class OwnerChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owner_email: str = Field(min_length=3, max_length=320)
    reason: str = Field(min_length=1, max_length=2000)


class ContactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320, description="The client contact's email address.")


class GatePublic(BaseModel):
    ready: bool = Field(description="True when the case may be closed now.")
    missing: list[dict[str, Any]] = Field(description="Every unmet obligation: kind, reason and what it is.")


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
