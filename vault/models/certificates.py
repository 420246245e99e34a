"""Certificates of completion: one row per closing of a case, with the signed statement and its PDF.

The statement's canonical bytes are stored exactly as signed and never re-serialized; the PDF is rendered
and PAdES-signed once, when the certificate is issued, and kept as it was handed out
(``docs/certificate.md``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from vault.clock import system_clock
from vault.models.core import new_id


class Certificate(SQLModel, table=True):
    """The organization's signed certificate that a case reached ``fully_offboarded``."""

    __tablename__ = "certificate"
    # One certificate per closing: a case reopened by a dispute and closed again gets a second one.
    __table_args__ = (UniqueConstraint("case_id", "final_index", name="uq_certificate_case_final"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    case_id: str = Field(foreign_key="offboarding_case.id", index=True)
    #: Ledger index of the ``case.status_changed`` entry to ``fully_offboarded`` the certificate states.
    final_index: int
    #: RFC 8785 canonical JSON of the statement; ``signature`` is over exactly these bytes.
    document: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sha256: str = Field(max_length=64)
    signature: bytes = Field(sa_column=Column(LargeBinary(64), nullable=False))
    key_id: str = Field(max_length=8)
    key_name: str = Field(max_length=200)
    #: The PAdES-signed PDF rendering, as issued.
    pdf: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=system_clock)
    #: Ledger index of the ``certificate.issued`` entry.
    ledger_index: int | None = None
