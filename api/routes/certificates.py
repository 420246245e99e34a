"""``/api/v1/cases/{id}/certificate``: the case's certificate of completion, as signed JSON and as its PDF
(``docs/certificate.md``). Every role may read it; the worker issues it, nobody creates it by hand."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel

from api.deps import PrincipalDep, ServicesDep, SessionDep
from api.errors import COMMON_RESPONSES, responses
from api.headers import content_disposition
from api.schemas import DetachedSignatureOut
from vault.certificates.certificate_downloads import CertificateFile, pdf_file, signed_files
from vault.certificates.lookup import certificate_document, latest_certificate, signed_certificate
from vault.clock import rfc3339
from vault.models import Certificate

router = APIRouter(tags=["certificates"], responses=COMMON_RESPONSES)
#: 409: the case is not fully offboarded, or its certificate is not issued yet.
NOT_YET = responses(409)


class CertificatePublic(BaseModel):
    id: str
    case_id: str
    #: Ledger index of the entry to ``fully_offboarded`` the certificate states.
    final_index: int
    created_at: str
    sha256: str
    #: Ledger index of ``certificate.issued``.
    ledger_index: int | None
    #: The signed statement (parsed); its canonical bytes are ``canonical`` (UTF-8 text).
    document: dict[str, Any]
    canonical: str
    signature: DetachedSignatureOut

    @classmethod
    def of(cls, row: Certificate) -> CertificatePublic:
        signed = signed_certificate(row)
        return cls(
            id=row.id,
            case_id=row.case_id,
            final_index=row.final_index,
            created_at=rfc3339(row.created_at),
            sha256=row.sha256,
            ledger_index=row.ledger_index,
            document=certificate_document(row),
            canonical=signed.body.decode("utf-8"),
            signature=signed.detached.to_json(),
        )


@router.get("/api/v1/cases/{case_id}/certificate", responses=NOT_YET)
def get_certificate(case_id: str, principal: PrincipalDep, session: SessionDep) -> CertificatePublic:
    return CertificatePublic.of(latest_certificate(session, principal.organization_id, case_id))


def _download(file: CertificateFile) -> Response:
    headers = {"Content-Disposition": content_disposition(file.name), "Cache-Control": "no-store"}
    return Response(file.content, media_type=file.media_type, headers=headers)


@router.get(
    "/api/v1/cases/{case_id}/certificate.pdf",
    response_class=Response,
    responses={**NOT_YET, 200: {"content": {"application/pdf": {}}, "description": "The PAdES-signed certificate PDF"}},
)
def certificate_pdf(case_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    """The newest stored version of a long-term PDF (re-timestamped ones included), else the PDF as issued."""
    row = services.read(lambda session: latest_certificate(session, principal.organization_id, case_id))
    return _download(pdf_file(services.read, services.store, row))


@router.get(
    "/api/v1/cases/{case_id}/certificate.json",
    response_class=Response,
    responses={**NOT_YET, 200: {"content": {"application/json": {}}, "description": "The signed canonical JSON"}},
)
def certificate_json(case_id: str, principal: PrincipalDep, session: SessionDep) -> Response:
    """The exact RFC 8785 bytes the signature covers (``certificate-<id>.json``)."""
    row = latest_certificate(session, principal.organization_id, case_id)
    return _download(signed_files(signed_certificate(row), row.id)[0])


@router.get(
    "/api/v1/cases/{case_id}/certificate.sig.json",
    response_class=Response,
    responses={**NOT_YET, 200: {"content": {"application/json": {}}, "description": "The detached signature"}},
)
def certificate_signature(case_id: str, principal: PrincipalDep, session: SessionDep) -> Response:
    """The detached Ed25519 signature over ``certificate.json`` (``certificate-<id>.sig.json``)."""
    row = latest_certificate(session, principal.organization_id, case_id)
    return _download(signed_files(signed_certificate(row), row.id)[1])
