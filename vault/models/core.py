"""Tenants, credentials and cases."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Column, LargeBinary, text
from sqlmodel import Field, SQLModel

from vault.clock import system_clock
from vault.states import CaseStatus

#: The largest value an ``int`` column holds on every backend: SQLModel maps ``int`` to ``sa.Integer``, which is
#: 32-bit on PostgreSQL, so a lookup by a larger number is answered "not there" before it reaches the driver.
INT_COLUMN_MAX = 2**31 - 1


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
    #: Branding shown to clients (``vault/orgs/branding.py``): ``#rrggbb``, or ``None`` for Offboard's own.
    accent_colour: str | None = Field(default=None, max_length=7)
    #: The Reply-To of the emails sent to clients; ``None``: replies go to the sender address.
    reply_to: str | None = Field(default=None, max_length=320)
    #: Who may read the log's tiles without a token: a ``LogVisibility`` value (migration 0010).
    log_visibility: str = Field(default="private", max_length=16, sa_column_kwargs={"server_default": "private"})
    #: How many of the organization's witnesses must cosign a checkpoint for it to count as witnessed;
    #: ``None`` means all of them (migration 0015).
    witness_policy: int | None = Field(default=None)

    #: SHA-256 of the logo in ``organization_logo`` (``vault/orgs/logo.py``); ``None``: no logo.
    logo_sha256: str | None = Field(default=None, max_length=64)


class OrganizationLogo(SQLModel, table=True):
    """The image of an organization's logo, apart from ``organization`` so reading an organization never
    loads it. Served by its SHA-256 (``/brand/logo/<sha256>``)."""

    __tablename__ = "organization_logo"

    organization_id: str = Field(foreign_key="organization.id", primary_key=True)
    sha256: str = Field(index=True, max_length=64)
    content_type: str = Field(max_length=32)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    uploaded_at: datetime = Field(default_factory=system_clock)


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
    """One offboarding of one client relationship, from the client's intent to leave to its final state.

    Columns added after the first release carry server defaults so existing rows migrate.
    """

    __tablename__ = "offboarding_case"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    client_name: str = Field(max_length=300)
    owner_email: str = Field(max_length=320)
    status: str = Field(default=CaseStatus.OPEN.value, max_length=32)
    opened_at: datetime = Field(default_factory=system_clock)
    updated_at: datetime = Field(default_factory=system_clock)
    #: JSON list of the client's contact emails (who receive acknowledgment links).
    client_contacts: str = Field(default="[]", sa_column_kwargs={"server_default": "[]"})
    #: The playbook key, e.g. ``web-agency-retainer``.
    service_type: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})
    trigger: str = Field(default="cancellation", max_length=32, sa_column_kwargs={"server_default": "cancellation"})
    #: The day the client communicated the intent to leave; step due dates count from it.
    intent_date: date = Field(
        default_factory=lambda: system_clock().date(),
        sa_column_kwargs={"server_default": text("CURRENT_DATE")},
    )
    target_end_date: date | None = None
    owner_id: str | None = Field(default=None, foreign_key="staff_member.id", index=True)
    playbook_version_id: str | None = Field(default=None, foreign_key="playbook_version.id")
    closed_at: datetime | None = None
