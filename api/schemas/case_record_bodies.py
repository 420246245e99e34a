"""What is recorded on a case at the HTTP edge: completed steps, notes, waivers (of acknowledgments and of
deliverables) and logged communications."""

from __future__ import annotations

import json
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

from api.schemas.wire_times import optional_rfc3339
from vault.clock import rfc3339
from vault.models import CaseNote, CaseStep, CaseWaiver


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
        return optional_rfc3339(value)

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
    evidence_id: str | None = Field(
        default=None,
        max_length=36,
        description="One deliverable no acknowledged receipt lists (scope deliverable) instead of receipts.",
    )

    @model_validator(mode="after")
    def _one_scope(self) -> WaiverCreate:
        if self.receipt_id is not None and self.evidence_id is not None:
            raise ValueError("a waiver names one receipt or one deliverable (evidence_id), not both")
        return self


class WaiverPublic(BaseModel):
    id: str
    case_id: str
    scope: str
    receipt_id: str | None
    evidence_id: str | None
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


class CommunicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str = Field(description="email, call or meeting.")
    text: str = Field(min_length=1, max_length=200_000)
    subject: str = Field(default="", max_length=300)
    occurred_at: datetime | None = None
    participants: list[str] = Field(default_factory=list, max_length=50)
