"""Staff sign-in: password credentials and console sessions (``docs/console.md``).

Neither table holds a secret in the clear: a credential keeps an Argon2id hash (PHC string) and a session
keeps the SHA-256 of its cookie value, so a copy of the database lets no one sign in.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from vault.clock import system_clock
from vault.models.core import new_id


class StaffCredential(SQLModel, table=True):
    """The password of one staff member, as an Argon2id PHC string. At most one per staff member."""

    __tablename__ = "staff_credential"

    staff_id: str = Field(foreign_key="staff_member.id", primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    password_hash: str = Field(max_length=256)
    updated_at: datetime = Field(default_factory=system_clock)


class ConsoleSession(SQLModel, table=True):
    """One signed-in browser of one staff member. Ended rows are kept: they say when and why it ended."""

    __tablename__ = "console_session"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    staff_id: str = Field(foreign_key="staff_member.id", index=True)
    #: Hex SHA-256 of the cookie value; lookups go through it, the value itself is never stored.
    token_hash: str = Field(unique=True, index=True, max_length=64)
    created_at: datetime = Field(default_factory=system_clock)
    last_seen_at: datetime = Field(default_factory=system_clock)
    #: The absolute timeout: ``created_at`` plus the configured maximum, whatever the activity.
    expires_at: datetime
    ended_at: datetime | None = None
    #: ``signed-out`` or ``replaced`` (a new sign-in in the same browser).
    ended_reason: str | None = Field(default=None, max_length=32)
    address: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=512)
