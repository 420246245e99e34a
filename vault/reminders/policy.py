"""An organization's reminder policy: its time zone, digest hour, escalation delay and client schedule.

Defaults (no ``reminder_settings`` row): UTC, 8 o'clock, 3 days, reminders 3 and 7 days after sending. An
admin's change is an ``organization.reminders_changed`` ledger entry with the new values.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session

from vault.clock import Clock, system_clock
from vault.errors import InvalidInput
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.models import ReminderSettings
from vault.orgs.organizations import Principal, Role

MAX_DAYS = 365
MAX_SCHEDULE = 10


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """When one organization's reminders go out."""

    #: IANA name, valid for ``zoneinfo``.
    timezone: str = "UTC"
    #: Local hour (0 to 23) from which an owner's digest of the day is due.
    digest_hour: int = 8
    #: Overdue by more than this many days: the item goes to the admins.
    escalate_after_days: int = 3
    #: Days after sending at which a client contact is reminded, increasing; empty: none.
    client_schedule: tuple[int, ...] = (3, 7)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def to_dict(self) -> dict[str, object]:
        return {
            "timezone": self.timezone,
            "digest_hour": self.digest_hour,
            "escalate_after_days": self.escalate_after_days,
            "client_schedule": list(self.client_schedule),
        }


def time_zone(value: str) -> str:
    name = value.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"time zone must be an IANA name like Europe/Berlin; got {value!r}") from None
    return name


def digest_hour(value: int) -> int:
    if not 0 <= value <= 23:
        raise InvalidInput(f"digest hour must be 0 to 23; got {value}")
    return value


def escalation_days(value: int) -> int:
    if not 1 <= value <= MAX_DAYS:
        raise InvalidInput(f"escalation days must be 1 to {MAX_DAYS}; got {value}")
    return value


def client_schedule(value: str) -> tuple[int, ...]:
    """``"3,7"`` -> ``(3, 7)``: at most 10 increasing days, each 1 to 365; an empty text sends none."""
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if not all(p.isdigit() for p in parts):
        raise InvalidInput(f"client schedule must be days separated by commas, like 3,7; got {value!r}")
    days = tuple(int(p) for p in parts)
    if len(days) > MAX_SCHEDULE or any(not 1 <= d <= MAX_DAYS for d in days):
        raise InvalidInput(f"client schedule takes at most {MAX_SCHEDULE} days, each 1 to {MAX_DAYS}; got {value!r}")
    if list(days) != sorted(set(days)):
        raise InvalidInput(f"client schedule days must increase, like 3,7; got {value!r}")
    return days


def policy_of(session: Session, organization_id: str) -> ReminderPolicy:
    row = session.get(ReminderSettings, organization_id)
    if row is None:
        return ReminderPolicy()
    return ReminderPolicy(row.timezone, row.digest_hour, row.escalate_after_days, client_schedule(row.client_schedule))


def set_policy(
    session: Session,
    principal: Principal,
    *,
    timezone: str | None = None,
    hour: int | None = None,
    escalate_after: int | None = None,
    schedule: str | None = None,
    clock: Clock = system_clock,
) -> ReminderPolicy:
    """Change the given fields (admins only); unchanged values record nothing."""
    principal.require(Role.ADMIN)
    old = policy_of(session, principal.organization_id)
    new = ReminderPolicy(
        time_zone(timezone) if timezone is not None else old.timezone,
        digest_hour(hour) if hour is not None else old.digest_hour,
        escalation_days(escalate_after) if escalate_after is not None else old.escalate_after_days,
        client_schedule(schedule) if schedule is not None else old.client_schedule,
    )
    if new == old:
        return old
    row = session.get(ReminderSettings, principal.organization_id) or ReminderSettings(
        organization_id=principal.organization_id
    )
    row.timezone, row.digest_hour, row.escalate_after_days = new.timezone, new.digest_hour, new.escalate_after_days
    row.client_schedule, row.updated_at = ",".join(str(d) for d in new.client_schedule), clock()
    session.add(row)
    draft = EntryDraft(
        "organization.reminders_changed", principal.organization_id, None, principal.actor, new.to_dict()
    )
    log.append(session, draft, clock=clock)
    return new
