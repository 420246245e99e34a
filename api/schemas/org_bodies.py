"""The organization at the HTTP edge: its public view, its staff members and its API tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from api.schemas.wire_times import optional_rfc3339
from vault.clock import rfc3339
from vault.models import ApiToken, Organization, StaffMember
from vault.reminders.policy import ReminderPolicy


class RemindersPublic(BaseModel):
    """When the organization's reminders go out (``docs/cases.md``, "Reminders")."""

    timezone: str
    digest_hour: int
    escalate_after_days: int
    client_schedule: list[int]

    @classmethod
    def of(cls, policy: ReminderPolicy) -> RemindersPublic:
        return cls.model_validate(policy.to_dict())


class OrganizationPublic(BaseModel):
    id: str
    slug: str
    name: str
    reminders: RemindersPublic | None = None

    @classmethod
    def of(cls, row: Organization, policy: ReminderPolicy | None = None) -> OrganizationPublic:
        public = cls.model_validate(row, from_attributes=True)
        return public.model_copy(update={"reminders": RemindersPublic.of(policy) if policy else None})


class OrganizationRename(BaseModel):
    """A change of the organization: any of its name and reminder settings (admins only)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200, description="The name clients see.")
    timezone: str | None = Field(default=None, max_length=64, description="IANA time zone, e.g. Europe/Berlin.")
    digest_hour: int | None = Field(default=None, ge=0, le=23, description="Local hour of the owners' digest.")
    escalate_after_days: int | None = Field(default=None, ge=1, le=365, description="Overdue days before admins hear.")
    client_schedule: list[int] | None = Field(
        default=None, max_length=10, description="Days after sending at which clients are reminded, e.g. [3, 7]."
    )


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
