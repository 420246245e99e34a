"""Stored signed PDFs: one row per version of a long-term (PAdES B-LTA) PDF kept in the object store.

A PDF is named by what it renders (``kind`` + ``subject_id``) and the ``edition`` of that subject it shows
(a receipt's status: its PDF changes once it is acknowledged). Each re-timestamp adds a version; older
versions stay (their bytes are prefixes of the newer ones and were handed out).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from vault.clock import system_clock
from vault.models.core import new_id


class StoredPdf(SQLModel, table=True):
    """One version of a stored signed PDF; the bytes live in the object store under ``storage_key``."""

    __tablename__ = "stored_pdf"
    __table_args__ = (UniqueConstraint("kind", "subject_id", "edition", "version", name="uq_stored_pdf_version"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    case_id: str = Field(foreign_key="offboarding_case.id", index=True)
    #: A ``PdfKind``: what the PDF renders.
    kind: str = Field(max_length=32)
    #: The id of the receipt (or other subject) it renders.
    subject_id: str = Field(max_length=64, index=True)
    #: Which state of the subject it shows (a receipt's status when it was rendered).
    edition: str = Field(max_length=32)
    #: 1 when first stored, one more per re-timestamp.
    version: int = 1
    storage_key: str = Field(max_length=512)
    sha256: str = Field(max_length=64)
    size: int
    #: When the PDF's last document timestamp was made, and when that timestamp's TSA certificate expires.
    timestamp_at: datetime
    timestamp_expires_at: datetime = Field(index=True)
    stored_at: datetime = Field(default_factory=system_clock)
    #: Ledger index of the ``<kind>.pdf_stored`` or ``<kind>.pdf_retimestamped`` entry.
    ledger_index: int | None = None
