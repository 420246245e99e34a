"""SQLModel tables. Values that leave the domain are frozen dataclasses or pydantic models, not these rows.

Ids are random UUID strings. Times are stored as aware UTC datetimes.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from vault.clock import system_clock


def new_id() -> str:
    return str(uuid.uuid4())


class Organization(SQLModel, table=True):
    """A service business using Offboard: the tenant. Everything else hangs off one."""

    __tablename__ = "organization"

    id: str = Field(default_factory=new_id, primary_key=True)
    slug: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(max_length=200)
    #: Checkpoint origin line; ``None`` means ``<host of base_url>/<slug>``.
    origin: str | None = Field(default=None, max_length=200)
    is_default: bool = Field(default=False)
    created_at: datetime = Field(default_factory=system_clock)


class ApiToken(SQLModel, table=True):
    """A bearer credential of one organization. Only the SHA-256 of the secret is stored."""

    __tablename__ = "api_token"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    name: str = Field(max_length=200)
    role: str = Field(max_length=16)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    created_at: datetime = Field(default_factory=system_clock)
    revoked_at: datetime | None = None


class Case(SQLModel, table=True):
    """One offboarding of one client relationship."""

    __tablename__ = "offboarding_case"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    client_name: str = Field(max_length=300)
    owner_email: str = Field(max_length=320)
    status: str = Field(default="open", max_length=32)
    opened_at: datetime = Field(default_factory=system_clock)
    updated_at: datetime = Field(default_factory=system_clock)


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


class LedgerHead(SQLModel, table=True):
    """The committed size of one organization's log; the row appends serialize on."""

    __tablename__ = "ledger_head"

    organization_id: str = Field(foreign_key="organization.id", primary_key=True)
    size: int = 0


class LedgerEntry(SQLModel, table=True):
    """One leaf of an organization's RFC 9162 tree: the exact entry bytes and their leaf hash."""

    __tablename__ = "ledger_entry"

    organization_id: str = Field(foreign_key="organization.id", primary_key=True)
    idx: int = Field(primary_key=True)
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    entry_type: str = Field(max_length=64)
    case_id: str | None = Field(default=None, index=True, max_length=36)
    created_at: datetime = Field(default_factory=system_clock)


class LedgerNode(SQLModel, table=True):
    """Hash of a complete perfect subtree: level L, index i covers leaves [i * 2^L, (i + 1) * 2^L)."""

    __tablename__ = "ledger_node"

    organization_id: str = Field(foreign_key="organization.id", primary_key=True)
    level: int = Field(primary_key=True)
    idx: int = Field(primary_key=True)
    hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class SigningKey(SQLModel, table=True):
    """An organization's Ed25519 key. The private half is a 0600 file in the keys folder, never a row."""

    __tablename__ = "signing_key"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    name: str = Field(max_length=200)
    key_id: str = Field(max_length=8)
    public_key: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    file_name: str = Field(max_length=255)
    valid_from: datetime = Field(default_factory=system_clock)
    valid_until: datetime | None = None


class Checkpoint(SQLModel, table=True):
    """A signed C2SP checkpoint note. Every one is kept."""

    __tablename__ = "checkpoint"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    size: int = Field(index=True)
    root_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    note: str
    key_id: str = Field(max_length=8)
    signed_at: datetime = Field(default_factory=system_clock)


class TimestampToken(SQLModel, table=True):
    """An RFC 3161 token over a checkpoint note, verified before it is stored."""

    __tablename__ = "timestamp_token"

    id: int | None = Field(default=None, primary_key=True)
    checkpoint_id: int = Field(foreign_key="checkpoint.id", index=True)
    token: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    gen_time: datetime
    tsa_url: str = Field(max_length=1024)
