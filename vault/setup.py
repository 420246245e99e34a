"""First-run initialization of a deployment: schema, default organization, signing key, admin token.

Idempotent: a second run reuses everything and issues no new admin token.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from vault.cases import playbooks
from vault.db import Unit
from vault.ledger import keyring
from vault.models import ApiToken, Organization
from vault.orgs.organizations import IssuedToken, Role, create_organization, create_token, default_organization
from vault.services import Services

DEFAULT_ORG_NAME = "Default organization"
DEFAULT_ORG_SLUG = "default"


@dataclass(frozen=True, slots=True)
class InitResult:
    organization_id: str
    organization_slug: str
    created: bool
    #: Set only on the run that created the first admin token; it is never shown again.
    admin_token: IssuedToken | None


def initialize(services: Services) -> InitResult:
    return services.transact(lambda session: _initialize(session, services))


def _initialize(session: Unit, services: Services) -> InitResult:
    org = default_organization(session)
    created = org is None
    if org is None:
        org = create_organization(
            session, name=DEFAULT_ORG_NAME, slug=DEFAULT_ORG_SLUG, is_default=True, clock=services.clock
        )
    keyring.ensure_key(session, services.settings, org, clock=services.clock)
    has_token = session.exec(select(ApiToken).where(ApiToken.organization_id == org.id)).first() is not None
    token = None
    if not has_token:
        token = create_token(session, organization_id=org.id, name="admin", role=Role.ADMIN, clock=services.clock)
    return InitResult(org.id, org.slug, created, token)


def new_organization(services: Services, *, name: str, slug: str | None = None) -> Organization:
    """Create a tenant ready to use: its signing key and the shipped playbooks come with it."""

    def work(session: Unit) -> Organization:
        org = create_organization(session, name=name, slug=slug, clock=services.clock)
        keyring.ensure_key(session, services.settings, org, clock=services.clock)
        playbooks.ensure_shipped(session, org.id, clock=services.clock)
        return org

    return services.transact(work)
