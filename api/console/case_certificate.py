"""The case's certificate of completion in the console: its PDF and its signed JSON as downloads, linked
from the case overview (``docs/certificate.md``). Every role may read them, as through the API."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.console.page import PageDep
from api.headers import content_disposition
from vault.certificates.certificate_store import certificate_pdf as certificate_pdf_bytes
from vault.certificates.lookup import latest_certificate
from vault.models import Certificate

router = APIRouter(include_in_schema=False)
_NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _latest(page: PageDep, case_id: str) -> Certificate:
    return page.services.read(lambda session: latest_certificate(session, page.principal.organization_id, case_id))


@router.get("/cases/{case_id}/certificate.pdf")
def certificate_pdf(case_id: str, page: PageDep) -> Response:
    row = _latest(page, case_id)
    headers = {
        **page.st.headers(),
        **_NO_STORE,
        "Content-Disposition": content_disposition(f"certificate-{row.id}.pdf"),
    }
    data = certificate_pdf_bytes(page.services.read, page.services.store, row)
    return Response(data, media_type="application/pdf", headers=headers)


@router.get("/cases/{case_id}/certificate.json")
def certificate_json(case_id: str, page: PageDep) -> Response:
    """The exact signed bytes (RFC 8785), as the signature covers them."""
    row = _latest(page, case_id)
    headers = {
        **page.st.headers(),
        **_NO_STORE,
        "Content-Disposition": content_disposition(f"certificate-{row.id}.json"),
    }
    return Response(bytes(row.document), media_type="application/json", headers=headers)
