"""Reminder tables: each organization's reminder settings and the record of every reminder email sent.

``reminder_settings`` has at most one row per organization; no row means the defaults
(``vault/reminders/settings.py``). ``reminder_sent.key`` is unique, so the database itself refuses to record
one reminder twice (``docs/cases.md``, "Reminders").
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from vault.clock import system_clock
from vault.models.core import new_id


class ReminderSettings(SQLModel, table=True):
    """When an organization's reminders go out: its time zone, digest hour, escalation and client schedule."""

    __tablename__ = "reminder_settings"

    organization_id: str = Field(foreign_key="organization.id", primary_key=True)
    #: An IANA time zone name (``zoneinfo``): due dates and digests are in this zone.
    timezone: str = Field(default="UTC", max_length=64)
    #: The local hour (0 to 23) from which an owner's daily digest is due.
    digest_hour: int = Field(default=8)
    #: An item overdue by more than this many days goes to the organization's admins.
    escalate_after_days: int = Field(default=3)
    #: Comma-separated days after sending at which a client contact is reminded, e.g. ``3,7``.
    client_schedule: str = Field(default="3,7", max_length=200)
    updated_at: datetime = Field(default_factory=system_clock)


class ReminderSent(SQLModel, table=True):
    """One reminder email that went out, under the key that makes it happen once."""

    __tablename__ = "reminder_sent"

    id: str = Field(default_factory=new_id, primary_key=True)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    #: e.g. ``digest:<staff id>:<local date>``, ``escalation:<case>:<item>``, ``client:<link>:<day>``.
    key: str = Field(unique=True, max_length=200)
    recipient: str = Field(max_length=320)
    template: str = Field(max_length=64)
    message_id: str = Field(max_length=400)
    sent_at: datetime = Field(default_factory=system_clock)
