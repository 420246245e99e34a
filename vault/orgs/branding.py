"""How the organization looks to its clients: an accent colour and the Reply-To address of client emails.

An admin's change is an ``organization.branding_changed`` ledger entry holding the new values; an empty
value clears one (Offboard's own colour, replies to the sender address).
"""

from __future__ import annotations

import re

from sqlmodel import Session

from vault.clock import Clock, system_clock
from vault.errors import InvalidInput, NotFound
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.models import Organization
from vault.orgs.organizations import Principal, Role
from vault.orgs.staff import normalize_email

#: Offboard's own accent, used when the organization has none (the emails' button colour).
DEFAULT_ACCENT = "#1f5fbf"
_COLOUR = re.compile(r"^#[0-9a-f]{6}$")


def accent_colour(value: str) -> str | None:
    """``#rrggbb`` in lower case, or ``None`` for an empty value."""
    colour = value.strip().lower()
    if not colour:
        return None
    if not _COLOUR.match(colour):
        raise InvalidInput(f"accent colour must be # and six hexadecimal digits, like #1f5fbf; got {value.strip()!r}")
    return colour


def reply_address(value: str) -> str | None:
    address = value.strip()
    return normalize_email(address) if address else None


def set_branding(
    session: Session, principal: Principal, *, accent: str, reply_to: str, clock: Clock = system_clock
) -> Organization:
    """Set the accent colour and the Reply-To address (admins only); unchanged values record nothing."""
    principal.require(Role.ADMIN)
    colour, address = accent_colour(accent), reply_address(reply_to)
    org = session.get(Organization, principal.organization_id)
    if org is None:
        raise NotFound("the organization no longer exists")
    if (org.accent_colour, org.reply_to) == (colour, address):
        return org
    org.accent_colour, org.reply_to = colour, address
    session.add(org)
    log.append(
        session,
        EntryDraft(
            type="organization.branding_changed",
            organization_id=org.id,
            case_id=None,
            actor=principal.actor,
            data={"accent_colour": colour, "reply_to": address},
        ),
        clock=clock,
    )
    return org
