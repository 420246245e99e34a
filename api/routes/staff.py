"""``/api/v1/staff``: the organization's staff members (case owners). Admins add and deactivate them."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import PrincipalDep, ServicesDep, SessionDep
from api.errors import COMMON_RESPONSES, responses
from api.schemas import StaffCreate, StaffPublic, StaffUpdate
from vault.db import Unit
from vault.orgs import staff

router = APIRouter(prefix="/api/v1/staff", tags=["staff"], responses=COMMON_RESPONSES)


@router.get("")
def list_staff(principal: PrincipalDep, session: SessionDep) -> list[StaffPublic]:
    return [StaffPublic.of(m) for m in staff.list_staff(session, principal.organization_id)]


@router.post("", status_code=status.HTTP_201_CREATED, responses=responses(403, 409))
def add_staff(body: StaffCreate, principal: PrincipalDep, services: ServicesDep) -> StaffPublic:
    def work(session: Unit) -> StaffPublic:
        member = staff.add_staff(
            session, principal, email=body.email, name=body.name, role=body.role, clock=services.clock
        )
        return StaffPublic.of(member)

    return services.transact(work)


@router.get("/{staff_id}")
def get_staff(staff_id: str, principal: PrincipalDep, session: SessionDep) -> StaffPublic:
    return StaffPublic.of(staff.get_staff(session, principal.organization_id, staff_id))


@router.patch("/{staff_id}", responses=responses(403))
def update_staff(staff_id: str, body: StaffUpdate, principal: PrincipalDep, services: ServicesDep) -> StaffPublic:
    def work(session: Unit) -> StaffPublic:
        member = staff.set_staff_active(session, principal, staff_id, active=body.active, clock=services.clock)
        return StaffPublic.of(member)

    return services.transact(work)
