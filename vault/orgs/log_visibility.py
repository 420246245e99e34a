"""Who may read the organization's log tiles without a token (``docs/ledger.md``, "Tiles").

The choice is the organization's: every ledger entry field becomes readable by anyone under ``public``
(``docs/ledger.md`` lists what the entries carry), so it is an admin's decision, recorded in the log.
"""

from __future__ import annotations

from sqlmodel import Session

from vault.clock import Clock, system_clock
from vault.errors import InvalidInput
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.models import Organization
from vault.orgs.organizations import Principal, Role
from vault.states import LogVisibility


def parse_visibility(value: str) -> LogVisibility:
    try:
        return LogVisibility(value.strip().lower())
    except ValueError:
        choices = ", ".join(v.value for v in LogVisibility)
        raise InvalidInput(f"log visibility must be one of {choices}; got {value!r}") from None


def set_log_visibility(
    session: Session, principal: Principal, value: str, *, clock: Clock = system_clock
) -> LogVisibility:
    """Change who may read the tiles (admins only); ``organization.log_visibility_changed`` in the log."""
    principal.require(Role.ADMIN)
    wanted = parse_visibility(value)
    org = session.get(Organization, principal.organization_id)
    assert org is not None  # noqa: S101 - a principal always names an existing organization
    before = org.log_visibility
    if before != wanted.value:
        org.log_visibility = wanted.value
        session.add(org)
        data = {"from": before, "to": wanted.value}
        draft = EntryDraft("organization.log_visibility_changed", org.id, None, principal.actor, data)
        log.append(session, draft, clock=clock)
    return wanted
