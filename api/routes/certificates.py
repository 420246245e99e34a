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
from vault.certificates.certificate_store import certificate_pdf as certificate_pdf_bytes
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


@router.get(
    "/api/v1/cases/{case_id}/certificate.pdf",
    response_class=Response,
    responses={**NOT_YET, 200: {"content": {"application/pdf": {}}, "description": "The PAdES-signed certificate PDF"}},
)
def certificate_pdf(case_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    """The newest stored version of a long-term PDF (re-timestamped ones included), else the PDF as issued."""
    row = services.read(lambda session: latest_certificate(session, principal.organization_id, case_id))
    return Response(
        certificate_pdf_bytes(services.read, services.store, row),
        media_type="application/pdf",
        headers={"Content-Disposition": content_disposition(f"certificate-{row.id}.pdf"), "Cache-Control": "no-store"},
    )
