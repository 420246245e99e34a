"""Handover receipts, their acknowledgment links and the client's acknowledgment (``docs/receipts.md``).

A receipt's signed document is stored as the exact canonical bytes that were signed; it is never
re-serialized. A link stores only the SHA-256 of its token. ``acknowledgment.receipt_id`` is unique, so
the database itself refuses a second acknowledgment of one receipt, whatever races above it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from vault.clock import system_clock
from vault.models.core import new_id
from vault.states import LinkState, ReceiptStatus


class Receipt(SQLModel, table=True):
    """The organization's signed statement of what it handed over for one case."""

    __tablename__ = "receipt"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    case_id: str = Field(foreign_key="offboarding_case.id", index=True)
    #: A ``ReceiptStatus``: ``draft`` (signed, not sent), ``sent``, ``acknowledged`` or ``disputed``.
    status: str = Field(default=ReceiptStatus.DRAFT.value, max_length=16)
    #: RFC 8785 canonical JSON of the receipt; ``signature`` is over exactly these bytes.
    document: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sha256: str = Field(max_length=64)
    signature: bytes = Field(sa_column=Column(LargeBinary(64), nullable=False))
    key_id: str = Field(max_length=8)
    key_name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=system_clock)
    created_by: str = Field(max_length=200)
    ledger_index: int | None = None
    sent_at: datetime | None = None
    closed_at: datetime | None = None
    dispute_reason: str | None = None


class ReceiptLink(SQLModel, table=True):
    """One recipient's acknowledgment link: the token's hash, never the token."""

    __tablename__ = "receipt_link"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    receipt_id: str = Field(foreign_key="receipt.id", index=True)
    recipient: str = Field(max_length=320)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    #: A ``LinkState`` a row can hold: ``live``, ``used`` or ``voided``.
    status: str = Field(default=LinkState.LIVE.value, max_length=16)
    created_at: datetime = Field(default_factory=system_clock)
    expires_at: datetime
    opened_count: int = 0
    used_at: datetime | None = None
    voided_at: datetime | None = None
    #: The token sealed (AES-256-GCM) under a key derived from the organization's signing key ``sealed_by``,
    #: so a reminder carries the same link without the token being stored readable (``docs/receipts.md``).
    token_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    #: The 8-hex key id of the signing key the token is sealed under.
    sealed_by: str | None = Field(default=None, max_length=8)


class Acknowledgment(SQLModel, table=True):
    """The client's acknowledgment and the server's countersignature over receipt + acknowledgment."""

    __tablename__ = "receipt_acknowledgment"
    __table_args__ = (UniqueConstraint("receipt_id", name="uq_acknowledgment_receipt"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    receipt_id: str = Field(foreign_key="receipt.id")
    link_id: str = Field(foreign_key="receipt_link.id")
    recipient: str = Field(max_length=320)
    acknowledged_at: datetime
    ip: str = Field(max_length=64)
    user_agent: str = Field(max_length=1000)
    typed_name: str = Field(max_length=200)
    shown_sha256: str = Field(max_length=64)
    #: Canonical JSON of ``{"receipt", "receipt_signature", "acknowledgment"}``, countersigned.
    document: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sha256: str = Field(max_length=64)
    signature: bytes = Field(sa_column=Column(LargeBinary(64), nullable=False))
    key_id: str = Field(max_length=8)
    key_name: str = Field(max_length=200)
    ledger_index: int | None = None
