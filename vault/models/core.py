"""Tenants, credentials and cases."""

from __future__ import annotations

import uuid
from datetime import datetime

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
