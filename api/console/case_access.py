"""The access-revocation register's forms on the case page: add a system, record its revocation with
evidence, and the second person's verification (``docs/console.md``, "The case page").

The same domain functions as ``POST /api/v1/cases/{id}/access...``. Who revoked and who verified are staff
emails (the signed-in person unless the form names another staff member), so the domain's "a second
person" check compares like with like.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Response
from fastapi.responses import HTMLResponse

from api.console.case_forms import refusal, refused
from api.console.page import FormDep
from vault.cases import access
from vault.errors import Conflict, InvalidInput

router = APIRouter(include_in_schema=False)
Short = Annotated[str, Form(max_length=320)]
Text = Annotated[str, Form(max_length=20_000)]
Ids = Annotated[list[str], Form(max_length=100)]


@router.post("/cases/{case_id}/access", response_class=HTMLResponse)
def add_item(
    case_id: str, page: FormDep, name: Short = "", kind: Short = "other", held_by: Short = "client", accounts: Text = ""
) -> Response:
    listed = [line.strip() for line in accounts.splitlines() if line.strip()]
    try:
        page.services.transact(
            lambda session: access.add_item(
                session,
                page.principal,
                case_id,
                name=name,
                kind=kind,
                held_by=held_by,
                accounts=listed,
                clock=page.services.clock,
            )
        )
    except (InvalidInput, Conflict) as exc:
        values = {"name": name, "kind": kind, "held_by": held_by, "accounts": accounts}
        return refused(page, case_id, refusal("access", "access-name", exc, **values), exc)
    return page.done(f"/cases/{case_id}#access", f"{name.strip()} added to the access register.")


@router.post("/cases/{case_id}/access/revoke", response_class=HTMLResponse)
def revoke_item(
    case_id: str,
    page: FormDep,
    item: Short = "",
    method: Text = "",
    revoked_by: Short = "",
    evidence: Ids = [],  # noqa: B006
) -> Response:
    values = {"item": item, "method": method, "revoked_by": revoked_by, "evidence": evidence}
    if not item:
        exc = InvalidInput("Choose the system whose access was revoked")
        return refused(page, case_id, refusal("revoke", "revoke-item", exc, **values), exc)
    try:
        page.services.transact(
            lambda session: access.revoke_item(
                session,
                page.principal,
                case_id,
                item,
                method=method,
                evidence_ids=evidence,
                revoked_by=revoked_by or page.identity.email,
                clock=page.services.clock,
            )
        )
    except (InvalidInput, Conflict) as exc:
        field = "revoke-method" if "say how" in exc.message else "revoke-evidence"
        return refused(page, case_id, refusal("revoke", field, exc, **values), exc)
    return page.done(f"/cases/{case_id}#access-{item}", "Revocation recorded; a second person can now verify it.")


@router.post("/cases/{case_id}/access/{item_id}/verify", response_class=HTMLResponse)
def verify_item(case_id: str, item_id: str, page: FormDep) -> Response:
    try:
        page.services.transact(
            lambda session: access.verify_item(
                session, page.principal, case_id, item_id, verified_by=page.identity.email, clock=page.services.clock
            )
        )
    except (InvalidInput, Conflict) as exc:
        return refused(page, case_id, refusal(f"verify-{item_id}", f"verify-{item_id}", exc), exc)
    return page.done(f"/cases/{case_id}#access-{item_id}", "Revocation verified.")
