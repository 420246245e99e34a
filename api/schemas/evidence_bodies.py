"""Evidence at the HTTP edge: the public view of one stored file."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_serializer

from vault.clock import rfc3339
from vault.models import Evidence


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
