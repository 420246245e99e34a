"""The receipts tab of a case: ``/cases/{id}/receipts``: each receipt and where it stands per contact,
creating one from chosen evidence, a preview of exactly what the client will see, send (and send again),
and void.

Every action calls the domain functions the API's receipt routes call (``receipts.create_receipt``,
``links.send_receipt`` with the services' mailer); the status per contact and voiding come from
``vault/handover/tracking.py``. The preview renders the client's own acknowledgment page template
(``ack/page.html``, through ``ack/preview.html``) with the receipt's real document, under the acknowledgment
pages' stylesheet and Content-Security-Policy, marked as a preview, with links and forms that lead nowhere.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from api.console.auth import require_form_token
from api.console.case_header import case_header
from api.console.page import FormDep, PageDep
from vault.cases.lifecycle import get_case, loads_list
from vault.db import Unit
from vault.errors import Conflict, InvalidInput, NotFound
from vault.evidence.ingest import EvidenceKind
from vault.evidence.inventory import evidence_with_uploaders
from vault.handover import links, receipts
from vault.handover.countersigning import CONSENT_TEXT
from vault.handover.tracking import tracked_receipts, void_receipt_links
from vault.models import Organization, Receipt
from vault.orgs.branding import client_brand

router = APIRouter()
PREVIEW_NOTE = "This is a preview of the client's page. Its links and buttons do nothing; nothing was sent."


def _tab(page: PageDep, case_id: str, code: int = 200, **extra: Any) -> HTMLResponse:
    org = page.principal.organization_id

    def read(session: Session) -> dict[str, Any]:
        return {
            "case": case_header(session, page.principal, case_id),
            "items": evidence_with_uploaders(session, org, case_id),
            "tracked": tracked_receipts(session, org, case_id, clock=page.services.clock),
            "contacts": [str(c) for c in loads_list(get_case(session, org, case_id).client_contacts)],
        }

    context: dict[str, Any] = {"errors": [], "field_errors": {}, "chosen": None, "terms": "", "manual": None, **extra}
    found = page.services.read(read)
    # Chosen by default: the deliverables, which the client is asked to acknowledge.
    deliverables = {item.evidence.id for item in found["items"] if item.evidence.kind == EvidenceKind.DELIVERABLE}
    return page.render("case_receipts", code, tab="receipts", deliverable_ids=deliverables, **found, **context)


@router.get("/cases/{case_id}/receipts", response_class=HTMLResponse)
def receipts_tab(case_id: str, page: PageDep) -> HTMLResponse:
    return _tab(page, case_id)


@router.post("/cases/{case_id}/receipts", response_class=HTMLResponse)
def create(
    case_id: str,
    page: FormDep,
    evidence: Annotated[list[str] | None, Form(max_length=64)] = None,
    terms: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    chosen = list(evidence or [])
    if not chosen:
        message = "Choose at least one file for the receipt"
        errors = [{"field": "evidence-0", "message": message}]
        return _tab(page, case_id, 422, errors=errors, field_errors={"evidence": message}, chosen=[], terms=terms)

    def work(session: Unit) -> Receipt:
        return receipts.create_receipt(
            session,
            page.services.settings,
            page.principal,
            case_id,
            evidence_ids=chosen,
            terms=terms.strip() or None,
            clock=page.services.clock,
        )

    try:
        row = page.services.transact(work)
    except InvalidInput as exc:
        errors = [{"field": "terms", "message": exc.message}]
        return _tab(page, case_id, 422, errors=errors, field_errors={"terms": exc.message}, chosen=chosen, terms=terms)
    notice = "Receipt created and signed. Check it, then send it."
    return page.done(f"/cases/{case_id}/receipts/{row.id}/preview", notice)


def _receipt(session: Session, page: PageDep, case_id: str, receipt_id: str) -> Receipt:
    row = receipts.get_receipt(session, page.principal.organization_id, receipt_id)
    if row.case_id != case_id:
        raise NotFound(f"no receipt {receipt_id!r} in case {case_id}")
    return row


@router.get("/cases/{case_id}/receipts/{receipt_id}/preview", response_class=HTMLResponse)
def preview(case_id: str, receipt_id: str, page: PageDep) -> HTMLResponse:
    def read(session: Session) -> dict[str, Any]:
        row = _receipt(session, page, case_id, receipt_id)
        org = session.get(Organization, row.organization_id)
        contacts = [str(c) for c in loads_list(get_case(session, row.organization_id, case_id).client_contacts)]
        document = receipts.document_of(row)
        return {
            "organization": org.name if org else "",
            "doc": document,
            "shown": receipts.shown_digest(document),
            "recipient": ", ".join(contacts) or "the client's contacts",
            "receipt": row,
            "brand": client_brand(session, row.organization_id),
        }

    context = page.services.read(read)
    ack = page.services.templates
    # The link's expiry as it would be if the receipt were sent now.
    expires_at = page.services.clock() + timedelta(days=page.services.settings.ack_link_days)
    html = ack.page(
        "preview",
        expires_at=expires_at,
        csrf=page.live.csrf_token,
        base_path="#preview",
        consent_text=CONSENT_TEXT,
        error=None,
        name="",
        dispute_open=False,
        note=PREVIEW_NOTE,
        back=f"/cases/{case_id}/receipts",
        **context,
    )
    brand = context["brand"]
    headers = {**page.st.headers(), "Content-Security-Policy": ack.csp_for(brand.accent if brand else None)}
    return HTMLResponse(html, headers=headers)


@router.post("/cases/{case_id}/receipts/{receipt_id}/preview")
def preview_answer(
    case_id: str, receipt_id: str, request: Request, page: PageDep, csrf: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    """The preview's forms post here (to its own address): they change nothing, and say so."""
    require_form_token(request, page.st, page.live, csrf)
    page.services.read(lambda session: _receipt(session, page, case_id, receipt_id))
    raise Conflict(PREVIEW_NOTE)


@router.post("/cases/{case_id}/receipts/{receipt_id}/send", response_class=HTMLResponse)
def send(case_id: str, receipt_id: str, page: FormDep) -> Response:
    page.services.read(lambda session: _receipt(session, page, case_id, receipt_id))
    result = links.send_receipt(
        page.services.transact,
        page.services.settings,
        page.principal,
        receipt_id,
        mailer=page.services.mailer,
        render=page.services.templates.email,
        clock=page.services.clock,
    )
    if result.manual_links:
        # No SMTP server: the links exist only in this answer, shown once (as the API's send does).
        manual = [(i.recipient, i.url) for i in result.manual_links]
        return _tab(page, case_id, 200, manual=manual)
    again = " The earlier links no longer work." if result.voided else ""
    return page.done(f"/cases/{case_id}/receipts", f"Receipt emailed to {', '.join(result.recipients)}.{again}")


@router.post("/cases/{case_id}/receipts/{receipt_id}/void", response_class=HTMLResponse)
def void(case_id: str, receipt_id: str, page: FormDep) -> Response:
    def work(session: Unit) -> int:
        _receipt(session, page, case_id, receipt_id)
        return void_receipt_links(session, page.principal, receipt_id, clock=page.services.clock)

    index = page.services.transact(work)
    return page.done(f"/cases/{case_id}/receipts", f"The receipt's links no longer work (ledger entry {index}).")
