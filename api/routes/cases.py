"""``/api/v1/cases``: open and read offboarding cases."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import PrincipalDep, ServicesDep, SessionDep
from api.errors import COMMON_RESPONSES, responses
from api.schemas import CaseCreate, CasePublic
from vault import cases
from vault.db import session_scope

router = APIRouter(prefix="/api/v1/cases", tags=["cases"], responses=COMMON_RESPONSES)


@router.post("", status_code=status.HTTP_201_CREATED, responses=responses(403))
def open_case(body: CaseCreate, principal: PrincipalDep, services: ServicesDep) -> CasePublic:
    with session_scope(services.engine) as session:
        case = cases.open_case(
            session, principal, client_name=body.client_name, owner_email=body.owner_email, clock=services.clock
        )
    return CasePublic.of(case)


@router.get("")
def list_cases(principal: PrincipalDep, session: SessionDep) -> list[CasePublic]:
    return [CasePublic.of(c) for c in cases.list_cases(session, principal.organization_id)]


@router.get("/{case_id}")
def get_case(case_id: str, principal: PrincipalDep, session: SessionDep) -> CasePublic:
    return CasePublic.of(cases.get_case(session, principal.organization_id, case_id))
