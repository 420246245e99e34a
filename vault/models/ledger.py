"""The ledger's tables: entries (with the perfect subtrees they complete), signing keys, checkpoints, timestamps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary
from sqlmodel import Field, SQLModel

from vault.clock import system_clock
from vault.models.core import new_id


class LedgerEntry(SQLModel, table=True):
    """One leaf of an organization's RFC 9162 tree: the exact entry bytes and their leaf hash."""

    __tablename__ = "ledger_entry"
    # A case's entries in order, and its last one (the case link of an append) in one probe (migration 0006).
    __table_args__ = (Index("ix_ledger_entry_case_id_idx", "case_id", "idx"),)

    organization_id: str = Field(foreign_key="organization.id", primary_key=True)
    idx: int = Field(primary_key=True)
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    #: Hashes of the perfect subtrees this leaf completes, bottom up: (1, idx >> 1), (2, idx >> 2), ... for
    #: each trailing one bit of ``idx`` (32 bytes each; empty for even ``idx``). Interior nodes live in
    #: the row that completes them, so an append writes one row.
    parents: bytes = Field(default=b"", sa_column=Column(LargeBinary, nullable=False, default=b""))
    entry_type: str = Field(max_length=64)
    case_id: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(default_factory=system_clock)


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
    # The latest checkpoint of an organization is one probe of this index (migration 0005).
    __table_args__ = (Index("ix_checkpoint_organization_id_size", "organization_id", "size"),)

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
