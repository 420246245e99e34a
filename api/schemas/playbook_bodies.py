"""Playbooks at the HTTP edge: the list, one version with its canonical document, and an upload."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from vault.clock import rfc3339
from vault.models import Playbook, PlaybookVersion


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
