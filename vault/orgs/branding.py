"""How the organization looks to its clients: an accent colour, the Reply-To address of client emails, and
(``vault/orgs/logo.py``) a logo; ``client_brand`` is all of it as the pages and emails show it.

An admin's change is an ``organization.branding_changed`` ledger entry holding the new values; an empty
value clears one (Offboard's own colour, replies to the sender address).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class ClientBrand:
    """What a client sees of an organization's branding on its pages and emails."""

    name: str
    #: ``#rrggbb``, or ``None`` for Offboard's own.
    accent: str | None
    #: The path of the logo (``/brand/logo/<sha256>``), or ``None``.
    logo: str | None


def client_brand(session: Session, organization_id: str) -> ClientBrand | None:
    """The branding of the organization ``organization_id``; ``None`` if it no longer exists."""
    org = session.get(Organization, organization_id)
    if org is None:
        return None
    return ClientBrand(org.name, org.accent_colour, f"/brand/logo/{org.logo_sha256}" if org.logo_sha256 else None)


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
