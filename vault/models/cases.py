"""Offboarding work: staff, playbook versions, case steps, the access register, notes and waivers.

JSON columns hold small lists (evidence ids, dependencies, criteria) as canonical JSON text, so the same
schema works on SQLite and PostgreSQL. Rows that record an event keep the ledger index of its entry.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from vault.clock import system_clock
from vault.models.core import new_id
from vault.states import AccessStatus, StepStatus


class StaffMember(SQLModel, table=True):
    """A person of the organization; case owners are staff members."""

    __tablename__ = "staff_member"
    __table_args__ = (UniqueConstraint("organization_id", "email", name="uq_staff_org_email"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    email: str = Field(max_length=320)
    name: str = Field(default="", max_length=200)
    role: str = Field(default="member", max_length=16)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=system_clock)
    ledger_index: int | None = None


class Playbook(SQLModel, table=True):
    """A service type's standardized steps; its content lives in immutable ``PlaybookVersion`` rows."""

    __tablename__ = "playbook"
    __table_args__ = (UniqueConstraint("organization_id", "key", name="uq_playbook_org_key"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    key: str = Field(max_length=64)
    title: str = Field(max_length=200)
    latest_version: int
    is_default: bool = Field(default=False)
    created_at: datetime = Field(default_factory=system_clock)


class PlaybookVersion(SQLModel, table=True):
    """One published version of a playbook: its canonical JSON and that JSON's SHA-256. Never updated."""

    __tablename__ = "playbook_version"
    __table_args__ = (UniqueConstraint("organization_id", "key", "version", name="uq_playbook_version"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    playbook_id: str = Field(foreign_key="playbook.id", index=True)
    key: str = Field(max_length=64)
    version: int
    title: str = Field(max_length=200)
    #: RFC 8785 canonical JSON of the validated playbook; ``sha256`` is over exactly these bytes.
    document: str
    sha256: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=system_clock)
    created_by: str = Field(max_length=200)
    ledger_index: int | None = None


class CaseStep(SQLModel, table=True):
    """A step of a case, copied from the playbook version the case snapshotted."""

    __tablename__ = "case_step"
    __table_args__ = (UniqueConstraint("case_id", "key", name="uq_case_step_key"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    case_id: str = Field(foreign_key="offboarding_case.id", index=True)
    position: int
    key: str = Field(max_length=64)
    title: str = Field(max_length=200)
    description: str = Field(default="")
    required: bool = Field(default=True)
    #: JSON list of step keys.
    depends_on: str = Field(default="[]")
    #: JSON list of criteria, e.g. ``["evidence:deliverable", "note"]``.
    criteria: str = Field(default="[]")
    due_offset_days: int = Field(default=0)
    status: str = Field(default=StepStatus.PENDING.value, max_length=16)
    completed_at: datetime | None = None
    completed_by: str | None = Field(default=None, max_length=200)
    #: JSON list of evidence ids attached at completion.
    evidence_ids: str = Field(default="[]")
    note: str | None = None
    ledger_index: int | None = None


class AccessItem(SQLModel, table=True):
    """One system the client or the team had access to, and the record of its revocation."""

    __tablename__ = "access_item"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    case_id: str = Field(foreign_key="offboarding_case.id", index=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=32)
    held_by: str = Field(default="client", max_length=16)
    #: JSON list of account identifiers (user names, emails, role ARNs, ...).
    accounts: str = Field(default="[]")
    status: str = Field(default=AccessStatus.ACTIVE.value, max_length=16)
    added_at: datetime = Field(default_factory=system_clock)
    added_by: str = Field(max_length=200)
    added_index: int | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = Field(default=None, max_length=320)
    revocation_method: str | None = None
    #: JSON list of evidence ids proving the revocation.
    revocation_evidence_ids: str = Field(default="[]")
    revoked_index: int | None = None
    verified_at: datetime | None = None
    verified_by: str | None = Field(default=None, max_length=320)
    verified_index: int | None = None


class CaseNote(SQLModel, table=True):
    """A written fact about a case: a note, or the reason of a dispute or its resolution."""

    __tablename__ = "case_note"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    case_id: str = Field(foreign_key="offboarding_case.id", index=True)
    kind: str = Field(default="note", max_length=16)
    text: str
    author: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=system_clock)
    ledger_index: int | None = None


class CaseWaiver(SQLModel, table=True):
    """An admin's written decision that an obligation of the gate is waived: the client's acknowledgment
    of receipts (scope ``acknowledgment``) or of one deliverable (scope ``deliverable``)."""

    __tablename__ = "case_waiver"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    case_id: str = Field(foreign_key="offboarding_case.id", index=True)
    scope: str = Field(default="acknowledgment", max_length=32)
    #: The one receipt waived, or ``None`` for every receipt of the case.
    receipt_id: str | None = Field(default=None, max_length=36)
    #: Scope ``deliverable``: the one deliverable (evidence id) no acknowledged receipt needs to cover.
    evidence_id: str | None = Field(default=None, max_length=36)
    reason: str
    actor: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=system_clock)
    ledger_index: int | None = None
