"""The case's certificate of completion in the console: its PDF and its signed JSON as downloads, linked
from the case overview (``docs/certificate.md``). Every role may read them, as through the API."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.console.page import PageDep
from api.headers import content_disposition
from vault.certificates.certificate_downloads import CertificateFile, pdf_file, signed_files
from vault.certificates.lookup import latest_certificate, signed_certificate
from vault.models import Certificate

router = APIRouter(include_in_schema=False)
_NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _latest(page: PageDep, case_id: str) -> Certificate:
    return page.services.read(lambda session: latest_certificate(session, page.principal.organization_id, case_id))


def _download(page: PageDep, file: CertificateFile) -> Response:
    headers = {**page.st.headers(), **_NO_STORE, "Content-Disposition": content_disposition(file.name)}
    return Response(file.content, media_type=file.media_type, headers=headers)


@router.get("/cases/{case_id}/certificate.pdf")
def certificate_pdf(case_id: str, page: PageDep) -> Response:
    return _download(page, pdf_file(page.services.read, page.services.store, _latest(page, case_id)))


@router.get("/cases/{case_id}/certificate.json")
def certificate_json(case_id: str, page: PageDep) -> Response:
    """The exact signed bytes (RFC 8785), as the signature covers them."""
    row = _latest(page, case_id)
    return _download(page, signed_files(signed_certificate(row), row.id)[0])
