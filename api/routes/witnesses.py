"""``/api/v1/ledger/witnesses``: the witnesses that cosign the organization's checkpoints, and how many of them
must (issue 16). Admins only; the same domain functions as ``offboard ledger witness add|list|remove|policy``,
so every change is an entry in the log. A malformed vkey, URL or policy is a 422 problem."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from api.deps import PrincipalDep, ServicesDep, SessionDep
from api.errors import COMMON_RESPONSES, responses
from api.schemas.witness_bodies import PolicyPublic, PolicyUpdate, WitnessCreate, WitnessesPublic, WitnessPublic
from vault.db import Unit
from vault.witnessing import roster

router = APIRouter(prefix="/api/v1/ledger/witnesses", tags=["ledger"], responses=COMMON_RESPONSES)

WitnessRef = Annotated[str, Path(min_length=1, max_length=400, description="The witness's id or key name.")]


@router.get("", responses=responses(403))
def list_witnesses(principal: PrincipalDep, session: SessionDep) -> WitnessesPublic:
    """The configured witnesses, what each last answered, and the policy."""
    return WitnessesPublic.of(roster.witness_roster(session, principal))


@router.post("", status_code=status.HTTP_201_CREATED, responses=responses(403, 409))
def add_witness(body: WitnessCreate, principal: PrincipalDep, services: ServicesDep) -> WitnessPublic:
    """Submit every new checkpoint to this witness (recorded in the log); 409 if its key is configured."""

    def work(unit: Unit) -> WitnessPublic:
        added = roster.add_witness(unit, principal, url=body.url, vkey=body.vkey, clock=services.clock)
        return WitnessPublic.of(added)

    return services.transact(work)


@router.delete("/{ref}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(403))
def remove_witness(ref: WitnessRef, principal: PrincipalDep, services: ServicesDep) -> Response:
    """Stop submitting to a witness (recorded in the log); its stored cosignatures are kept."""
    services.transact(lambda unit: roster.remove_witness(unit, principal, ref, clock=services.clock))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/policy", responses=responses(403))
def set_policy(body: PolicyUpdate, principal: PrincipalDep, services: ServicesDep) -> PolicyPublic:
    """How many configured witnesses must cosign a checkpoint for it to count as witnessed."""
    value = str(body.required)
    policy = services.transact(lambda unit: roster.set_witness_policy(unit, principal, value, clock=services.clock))
    return PolicyPublic.of(policy)
