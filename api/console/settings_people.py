"""The console's settings pages for staff and playbooks, for admins only (``docs/console.md``, "Settings").

Adapters over ``vault.orgs.staff`` (add, change role, deactivate: the same functions as ``/api/v1/staff``
and ``offboard staff``) and ``vault.cases.playbooks`` (the same parse and publish as ``offboard playbook
publish`` and ``/api/v1/playbooks``). A refused playbook is answered with every problem the validator found,
listed at the text area, and the pasted text kept.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response

from api.console.page import ConsolePage, FormDep, PageDep
from api.console.settings import FieldError, admin, render, sentence
from vault.cases import playbooks
from vault.cases.playbooks import PlaybookSpec
from vault.db import Unit
from vault.errors import Conflict, InvalidInput
from vault.models import Playbook, PlaybookVersion
from vault.orgs import staff
from vault.orgs.organizations import Role

router = APIRouter(prefix="/settings")


def _staff_page(
    page: ConsolePage, status: int = 200, *, errors: list[FieldError] | None = None, **values: Any
) -> HTMLResponse:
    members = page.services.read(lambda session: staff.list_staff(session, page.principal.organization_id))
    context = {"email": "", "name": "", "role": Role.MEMBER.value, **values}
    return render(page, "staff", status, errors=errors, members=members, roles=list(Role), **context)


@router.get("/staff", response_class=HTMLResponse)
def staff_page(page: PageDep) -> Response:
    return _staff_page(admin(page))


@router.post("/staff", response_class=HTMLResponse)
def staff_add(
    page: FormDep,
    email: Annotated[str, Form(max_length=1000)] = "",
    name: Annotated[str, Form(max_length=1000)] = "",
    role: Annotated[str, Form(max_length=32)] = Role.MEMBER.value,
) -> Response:
    admin(page)
    try:
        member = page.services.transact(
            lambda session: staff.add_staff(
                session, page.principal, email=email, name=name, role=role, clock=page.services.clock
            )
        )
    except (InvalidInput, Conflict) as exc:
        text = str(exc)
        field = "staff-role" if text.startswith("role") else "staff-name" if "name" in text else "staff-email"
        return _staff_page(page, 422, errors=[FieldError(field, sentence(text))], email=email, name=name, role=role)
    return page.done("/settings/staff", f"{member.email} is now a staff member ({member.role}).")


@router.post("/staff/{staff_id}/role", response_class=HTMLResponse)
def staff_role(staff_id: str, page: FormDep, role: Annotated[str, Form(max_length=32)] = "") -> Response:
    admin(page)
    try:
        member = page.services.transact(
            lambda session: staff.set_staff_role(
                session, page.principal, staff_id, role=role, clock=page.services.clock
            )
        )
    except (InvalidInput, Conflict) as exc:
        return _staff_page(
            page, 422 if isinstance(exc, InvalidInput) else 409, errors=[FieldError("", sentence(str(exc)))]
        )
    return page.done("/settings/staff", f"{member.email} now has the role {member.role}.")


@router.post("/staff/{staff_id}/active", response_class=HTMLResponse)
def staff_active(staff_id: str, page: FormDep, active: Annotated[str, Form(max_length=8)] = "") -> Response:
    admin(page)
    # Another organization's staff id is not found before the form is read.
    page.services.read(lambda session: staff.get_staff(session, page.principal.organization_id, staff_id))
    if active not in ("yes", "no"):
        return _staff_page(page, 422, errors=[FieldError("", "Choose whether the staff member is active")])
    try:
        member = page.services.transact(
            lambda session: staff.set_staff_active(
                session, page.principal, staff_id, active=active == "yes", clock=page.services.clock
            )
        )
    except Conflict as exc:
        return _staff_page(page, 409, errors=[FieldError("", sentence(str(exc)))])
    state = "active again" if member.active else "deactivated; they can no longer sign in or own new cases"
    return page.done("/settings/staff", f"{member.email} is {state}.")


def _catalogue(session: Unit, page: ConsolePage) -> list[tuple[Playbook, list[tuple[PlaybookVersion, PlaybookSpec]]]]:
    org_id = page.principal.organization_id
    clock = page.services.clock
    return [
        (p, [(v, playbooks.spec_of(v)) for v in playbooks.list_versions(session, org_id, p.key, clock=clock)])
        for p in playbooks.list_playbooks(session, org_id, clock=clock)
    ]


def _playbooks_page(
    page: ConsolePage, status: int = 200, *, errors: list[FieldError] | None = None, yaml_text: str = ""
) -> HTMLResponse:
    # A write, like `offboard playbook list`: the shipped playbooks are installed on first use.
    catalogue = page.services.transact(lambda session: _catalogue(session, page))
    return render(page, "playbooks", status, errors=errors, catalogue=catalogue, yaml_text=yaml_text)


@router.get("/playbooks", response_class=HTMLResponse)
def playbooks_page(page: PageDep) -> Response:
    return _playbooks_page(admin(page))


@router.post("/playbooks", response_class=HTMLResponse)
def playbook_publish(page: FormDep, document: Annotated[str, Form(max_length=300_000)] = "") -> Response:
    admin(page)
    try:
        spec = playbooks.parse_yaml(document)
        row, created = page.services.transact(
            lambda session: playbooks.publish(session, page.principal, spec, clock=page.services.clock)
        )
    except (InvalidInput, Conflict) as exc:
        found = [str(e) for e in exc.details.get("errors", [])] or [str(exc)]
        problems = [FieldError("document", sentence(text)) for text in found]
        return _playbooks_page(page, 422, errors=problems, yaml_text=document)
    said = "published" if created else "was already published; nothing changed"
    return page.done("/settings/playbooks", f"Playbook {row.key} version {row.version} {said}.")


__all__ = ["router"]
