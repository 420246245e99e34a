"""Stored evidence rows; the bytes live in the object store."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from vault.clock import system_clock
from vault.models.core import new_id


class Evidence(SQLModel, table=True):
    """One stored file of a case. The object's bytes live in the object store under ``storage_key``."""

    __tablename__ = "evidence"
    __table_args__ = (UniqueConstraint("case_id", "sha256", name="uq_evidence_case_sha256"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    case_id: str = Field(foreign_key="offboarding_case.id", index=True)
    sha256: str = Field(max_length=64, index=True)
    size: int
    content_type: str = Field(max_length=200)
    original_filename: str = Field(max_length=1024)
    kind: str = Field(max_length=32)
    description: str | None = Field(default=None, max_length=4000)
    storage_key: str = Field(max_length=512)
    version_id: str | None = Field(default=None, max_length=1024)
    #: JSON text of safe PDF metadata, or ``None`` for non-PDF files.
    pdf_info: str | None = None
    stored_at: datetime = Field(default_factory=system_clock)
    #: Ledger index of the ``evidence.stored`` entry.
    ledger_index: int | None = None
