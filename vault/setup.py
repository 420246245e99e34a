"""First-run initialization of a deployment: schema, default organization, signing key, admin token.

Idempotent: a second run reuses everything and issues no new admin token. The first signing key of an
organization is a ``key.created`` ledger entry (later keys are ``key.rotated``); a name given to a run on an
initialized deployment renames the organization (``organization.renamed``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from vault.cases import playbooks
from vault.db import Unit
from vault.ledger import service as ledger_service
from vault.models import ApiToken, Organization
from vault.orgs.organizations import (
    IssuedToken,
    Principal,
    Role,
    create_organization,
    create_token,
    default_organization,
    rename_organization,
)
from vault.services import Services

DEFAULT_ORG_NAME = "Default organization"
DEFAULT_ORG_SLUG = "default"
#: The ledger's ``actor`` of what first-run setup records.
SETUP_ACTOR = "system:init"


@dataclass(frozen=True, slots=True)
class InitResult:
    organization_id: str
    organization_slug: str
    created: bool
    #: Set only on the run that created the first admin token; it is never shown again.
    admin_token: IssuedToken | None


def initialize(services: Services, *, org_name: str | None = None) -> InitResult:
    return services.transact(lambda session: _initialize(session, services, org_name))


def _initialize(session: Unit, services: Services, org_name: str | None) -> InitResult:
    org = default_organization(session)
    created = org is None
    if org is None:
        org = create_organization(
            session, name=org_name or DEFAULT_ORG_NAME, slug=DEFAULT_ORG_SLUG, is_default=True, clock=services.clock
        )
    elif org_name is not None:
        principal = Principal(organization_id=org.id, role=Role.ADMIN, actor=SETUP_ACTOR)
        rename_organization(session, principal, name=org_name, clock=services.clock)
    ledger_service.ensure_first_key(session, services.settings, org, SETUP_ACTOR, clock=services.clock)
    has_token = session.exec(select(ApiToken).where(ApiToken.organization_id == org.id)).first() is not None
    token = None
    if not has_token:
        token = create_token(session, organization_id=org.id, name="admin", role=Role.ADMIN, clock=services.clock)
    return InitResult(org.id, org.slug, created, token)


def new_organization(services: Services, *, name: str, slug: str | None = None) -> Organization:
    """Create a tenant ready to use: its signing key and the shipped playbooks come with it."""

    def work(session: Unit) -> Organization:
        org = create_organization(session, name=name, slug=slug, clock=services.clock)
        ledger_service.ensure_first_key(session, services.settings, org, SETUP_ACTOR, clock=services.clock)
        playbooks.ensure_shipped(session, org.id, clock=services.clock)
        return org

    return services.transact(work)
