"""``/api/v1/organization`` and ``/api/v1/tokens``: the caller's organization and its API tokens.

A token only ever sees its own organization; token management is for admins.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import PrincipalDep, ServicesDep, SessionDep
from api.errors import COMMON_RESPONSES, responses
from api.schemas import OrganizationPublic, OrganizationRename, TokenCreate, TokenPublic
from vault.db import Unit
from vault.errors import NotFound
from vault.models import Organization
from vault.orgs import staff
from vault.orgs.organizations import Role, create_token, rename_organization
from vault.reminders.policy import policy_of, set_policy

router = APIRouter(prefix="/api/v1", tags=["organization"], responses=COMMON_RESPONSES)


@router.get("/organization")
def get_organization(principal: PrincipalDep, session: SessionDep) -> OrganizationPublic:
    org = session.get(Organization, principal.organization_id)
    if org is None:
        raise NotFound("the token's organization no longer exists")
    return OrganizationPublic.of(org, policy_of(session, org.id))


@router.patch("/organization", responses=responses(403))
def rename(body: OrganizationRename, principal: PrincipalDep, services: ServicesDep) -> OrganizationPublic:
    """Rename the organization (an ``organization.renamed`` ledger entry) or change when its reminders go out
    (``organization.reminders_changed``); admins only."""
    principal.require(Role.ADMIN)
    schedule = None if body.client_schedule is None else ",".join(str(d) for d in body.client_schedule)

    def work(session: Unit) -> OrganizationPublic:
        if body.name is not None:
            rename_organization(session, principal, name=body.name, clock=services.clock)
        policy = set_policy(
            session,
            principal,
            timezone=body.timezone,
            hour=body.digest_hour,
            escalate_after=body.escalate_after_days,
            schedule=schedule,
            clock=services.clock,
        )
        org = session.get(Organization, principal.organization_id)
        if org is None:
            raise NotFound("the token's organization no longer exists")
        return OrganizationPublic.of(org, policy)

    return services.transact(work)


@router.get("/tokens", responses=responses(403))
def list_tokens(principal: PrincipalDep, session: SessionDep) -> list[TokenPublic]:
    return [TokenPublic.of(t) for t in staff.list_tokens(session, principal)]


@router.post("/tokens", status_code=status.HTTP_201_CREATED, responses=responses(403))
def create(body: TokenCreate, principal: PrincipalDep, services: ServicesDep) -> TokenPublic:
    """Issue a token; its secret is in this response only."""
    principal.require(Role.ADMIN)

    def work(session: Unit) -> TokenPublic:
        issued = create_token(
            session,
            organization_id=principal.organization_id,
            name=body.name,
            role=body.role,
            clock=services.clock,
        )
        created = staff.get_token(session, principal, issued.id)
        return TokenPublic.of(created).model_copy(update={"secret": issued.secret})

    return services.transact(work)


@router.delete("/tokens/{token_id}", responses=responses(403))
def revoke(token_id: str, principal: PrincipalDep, services: ServicesDep) -> TokenPublic:
    def work(session: Unit) -> TokenPublic:
        return TokenPublic.of(staff.revoke_token(session, principal, token_id, clock=services.clock))

    return services.transact(work)
