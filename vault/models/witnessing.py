"""The witness client's tables: an organization's witnesses, the cosignatures they returned, and alerts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from vault.clock import system_clock
from vault.models.core import new_id
from vault.states import WitnessStatus


class Witness(SQLModel, table=True):
    """One witness an organization submits its checkpoints to (C2SP tlog-witness), and what it last said."""

    __tablename__ = "witness"
    __table_args__ = (UniqueConstraint("organization_id", "key_id", name="uq_witness_organization_key"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    #: The witness's key name (from its vkey).
    name: str = Field(max_length=200)
    #: The submission prefix: ``<url>/add-checkpoint`` is posted to.
    url: str = Field(max_length=1024)
    #: The cosigner vkey, ``name+<8 hex id>+base64(0x04 || public key)``.
    vkey: str = Field(max_length=400)
    key_id: str = Field(max_length=8)
    created_at: datetime = Field(default_factory=system_clock)
    #: The size of this log the witness last said it holds (its cosigned size, or the size of a 409).
    known_size: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    #: A ``WitnessStatus`` value: the outcome of the last submission.
    status: str = Field(default=WitnessStatus.NEW.value, max_length=16)
    #: What the last submission found, in words.
    detail: str = Field(default="", max_length=1000)
    #: The checkpoint the last submission was for, and when it was made.
    last_checkpoint_id: int | None = None
    last_attempt_at: datetime | None = None


class Cosignature(SQLModel, table=True):
    """One tlog-cosignature/v1 line a witness returned for a checkpoint, verified before it was stored.

    The witness's name, key id and vkey are copied, so the line stays checkable after the witness is removed.
    """

    __tablename__ = "cosignature"
    __table_args__ = (
        UniqueConstraint("checkpoint_id", "witness_key_id", name="uq_cosignature_checkpoint_witness"),
        Index("ix_cosignature_checkpoint_id", "checkpoint_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    checkpoint_id: int = Field(foreign_key="checkpoint.id")
    organization_id: str = Field(foreign_key="organization.id", index=True)
    witness_name: str = Field(max_length=200)
    witness_key_id: str = Field(max_length=8)
    witness_vkey: str = Field(max_length=400)
    #: The cosignature's POSIX timestamp (seconds).
    timestamp: int = Field(sa_column=Column(BigInteger, nullable=False))
    #: The signature line verbatim, ``— <name> <base64>`` and its newline.
    line: str = Field(max_length=400)
    received_at: datetime = Field(default_factory=system_clock)


class WitnessAlert(SQLModel, table=True):
    """A witness refusing a checkpoint as inconsistent (422) or claiming a size beyond the log: never retried."""

    __tablename__ = "witness_alert"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    witness_name: str = Field(max_length=200)
    witness_url: str = Field(max_length=1024)
    checkpoint_id: int | None = None
    checkpoint_size: int = Field(sa_column=Column(BigInteger, nullable=False))
    detail: str = Field(max_length=1000)
    raised_at: datetime = Field(default_factory=system_clock)
