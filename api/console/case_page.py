"""The case overview (``/cases/{id}``) and its forms: complete a step, client contacts, close the case
through the gate (with admin waivers) and export the evidence bundle (``docs/console.md``, "The case page").

Each form calls the domain function the API route calls (``complete_step``, ``add_contact``,
``remove_contact``, ``close_case``, ``waive_acknowledgment``, the bundle's ``prepare``/``BundleStream``).
The access register's forms are in ``case_access.py``, the timeline in ``case_timeline.py``.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form, Query, Response
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlmodel import Session

from api.console.auth import require_form_token
from api.console.case_forms import case_page, refusal, refused
from api.console.case_header import CaseHeader, case_header
from api.console.page import ConsolePage, FormDep, PageDep
from api.errors import status_for
from vault.bundle.export import BundleStream, prepare
from vault.cases import contacts, gate
from vault.cases import lifecycle as cases
from vault.errors import Conflict, InvalidInput, NotFound
from vault.handover.receipt_pdf_store import receipt_pdf
from vault.orgs.organizations import Role

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=10_000)]
Short = Annotated[str, Form(max_length=320)]
Ids = Annotated[list[str], Form(max_length=100)]
#: Missing items of the gate that an admin may waive, and the form field naming what is waived.
#: Where the close page sends a person to fix each kind of missing item: (tab path, link text).
FIXES = {
    "step": ("", "Complete the step"),
    "access": ("", "Go to the access register"),
    "acknowledgment": ("/receipts", "Go to the receipts"),
    "deliverable": ("/receipts", "Send a receipt that lists it"),
    "status": ("/timeline", "See the dispute in the timeline"),
}
#: Missing items of the gate an admin may waive, with the field of the item the waiver names.
WAIVABLE = {"acknowledgment": "receipt", "deliverable": "evidence"}


@router.api_route("/cases/{case_id}", methods=["GET", "HEAD"], response_class=HTMLResponse)
def overview_page(case_id: str, page: PageDep, step: Annotated[str, Query(max_length=64)] = "") -> Response:
    return case_page(page, case_id, step=step)


@router.post("/cases/{case_id}/steps/complete", response_class=HTMLResponse)
def complete_step(case_id: str, page: FormDep, step: Short = "", note: Text = "", evidence: Ids = []) -> Response:  # noqa: B006
    if not step:
        exc = InvalidInput("Choose the step you completed")
        return refused(page, case_id, refusal("step", "step-key", exc, note=note, evidence=evidence), exc)
    try:
        page.services.transact(
            lambda session: cases.complete_step(
                session, page.principal, case_id, step, evidence_ids=evidence, note=note, clock=page.services.clock
            )
        )
    except (InvalidInput, Conflict) as exc:
        error = refusal("step", "step-evidence", exc, step=step, note=note, evidence=evidence)
        return refused(page, case_id, error, exc)
    return page.done(f"/cases/{case_id}#step-{step}", f"Step {step!r} completed.")


@router.post("/cases/{case_id}/contacts", response_class=HTMLResponse)
def add_contact(case_id: str, page: FormDep, email: Short = "") -> Response:
    try:
        page.services.transact(
            lambda session: contacts.add_contact(
                session, page.principal, case_id, email=email, clock=page.services.clock
            )
        )
    except (InvalidInput, Conflict) as exc:
        return refused(page, case_id, refusal("contact", "contact-email", exc, email=email), exc)
    return page.done(f"/cases/{case_id}#contacts", f"Contact {email.strip()} added.")


@router.post("/cases/{case_id}/contacts/remove", response_class=HTMLResponse)
def remove_contact(case_id: str, page: FormDep, email: Short = "") -> Response:
    try:
        page.services.transact(
            lambda session: contacts.remove_contact(
                session, page.principal, case_id, email=email, clock=page.services.clock
            )
        )
    except (NotFound, Conflict) as exc:
        return refused(page, case_id, refusal("contact", "contact-email", exc), exc)
    return page.done(f"/cases/{case_id}#contacts", f"Contact {email.strip()} removed; their links no longer work.")


def _close_page(
    page: ConsolePage, case_id: str, status: int = 200, *, error: str = "", target: str = "", reason: str = ""
) -> Response:
    def read(session: Session) -> tuple[CaseHeader, list[gate.Missing]]:
        header = case_header(session, page.principal, case_id)
        case = cases.get_case(session, page.principal.organization_id, case_id)
        return header, [] if header.closed else gate.evaluate_gate(session, case)

    header, missing = page.services.read(read)
    return page.render(
        "case_close",
        status,
        case=header,
        tab="overview",
        missing=missing,
        fixes=FIXES,
        waivable=WAIVABLE,
        errors=[{"field": target, "message": error}] if error else [],
        field_errors={target: error} if error else {},
        reason=reason,
    )


@router.api_route("/cases/{case_id}/close", methods=["GET", "HEAD"], response_class=HTMLResponse)
def close_form(case_id: str, page: PageDep) -> Response:
    """What the gate finds missing, each with where to fix it; or the confirmation to close."""
    return _close_page(page, case_id)


@router.post("/cases/{case_id}/close", response_class=HTMLResponse)
def close(case_id: str, page: FormDep) -> Response:
    try:
        clock = page.services.clock
        page.services.transact(lambda session: gate.close_case(session, page.principal, case_id, clock=clock))
    except Conflict:
        # Something changed since the confirmation was shown: show the gate's list as it is now.
        return _close_page(page, case_id, 409)
    return page.done(f"/cases/{case_id}", "The case is fully offboarded.")


@router.post("/cases/{case_id}/waivers", response_class=HTMLResponse)
def waive(case_id: str, page: FormDep, kind: Short = "", ref: Short = "", reason: Text = "") -> Response:
    """An admin waives one item the gate offers a waiver for, with a written reason."""
    page.principal.require(Role.ADMIN)
    page.services.read(lambda session: case_header(session, page.principal, case_id))  # 404 for another's
    if kind not in WAIVABLE:
        raise InvalidInput(f"the gate offers no waiver for {kind!r}")
    clock = page.services.clock

    def record(session: Session) -> object:
        if kind == "deliverable":
            return gate.waive_deliverable(session, page.principal, case_id, evidence_id=ref, reason=reason, clock=clock)
        return gate.waive_acknowledgment(
            session, page.principal, case_id, reason=reason, receipt_id=ref or None, clock=clock
        )

    try:
        page.services.transact(record)
    except (InvalidInput, Conflict) as exc:
        target = f"waiver-{ref or kind}"
        return _close_page(page, case_id, status_for(exc)[0], error=exc.message, target=target, reason=reason)
    return page.done(f"/cases/{case_id}/close", "Waiver recorded.")


@router.post("/cases/{case_id}/bundle")
def export_bundle(case_id: str, page: PageDep, csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
    """The evidence bundle as a streamed download; a viewer may export (it changes no case), so this form
    checks the session and its CSRF token but not the write role. The export records itself."""
    require_form_token(page.request, page.st, page.live, csrf)
    services = page.services
    pdf = partial(receipt_pdf, services)
    plan = prepare(
        services.transact,
        services.settings,
        page.principal,
        case_id,
        clock=services.clock,
        receipt_pdf=pdf,
        store=services.store,
    )
    stream = BundleStream(services.transact, services.store, plan, clock=services.clock)
    return StreamingResponse(
        iter(stream),
        media_type="application/zip",
        headers={
            **page.st.headers(),
            "Content-Disposition": f'attachment; filename="{plan.root}.zip"',
            "X-Offboard-Checkpoint-Size": str(plan.checkpoint.size),
        },
    )
