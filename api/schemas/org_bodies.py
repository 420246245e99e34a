"""The organization at the HTTP edge: its public view, its staff members and its API tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from api.schemas.wire_times import optional_rfc3339
from vault.clock import rfc3339
from vault.models import ApiToken, Organization, StaffMember


class OrganizationPublic(BaseModel):
    id: str
    slug: str
    name: str

    @classmethod
    def of(cls, row: Organization) -> OrganizationPublic:
        return cls.model_validate(row, from_attributes=True)


class OrganizationRename(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="The name clients see.")


class StaffCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)
    name: str = Field(default="", max_length=200)
    role: str = Field(default="member", description="admin, member or viewer.")


class StaffUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool


class StaffPublic(BaseModel):
    id: str
    email: str
    name: str
    role: str
    active: bool
    created_at: datetime
    ledger_index: int | None

    @field_serializer("created_at")
    def _time(self, value: datetime) -> str:
        return rfc3339(value)

    @classmethod
    def of(cls, row: StaffMember) -> StaffPublic:
        return cls.model_validate(row, from_attributes=True)


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    role: str = Field(default="member", description="admin, member or viewer.")


class TokenPublic(BaseModel):
    id: str
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None
    secret: str | None = Field(default=None, description="Only in the creation response; never stored.")

    @field_serializer("created_at", "revoked_at")
    def _time(self, value: datetime | None) -> str | None:
        return optional_rfc3339(value)

    @classmethod
    def of(cls, row: ApiToken) -> TokenPublic:
        return cls(id=row.id, name=row.name, role=row.role, created_at=row.created_at, revoked_at=row.revoked_at)
