"""``/api/v1/.../receipts``: create, read, send and print handover receipts.

A live acknowledgment link is never readable through the API: ``send`` returns the links only when no
SMTP server is configured, once, in that response.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, status
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlmodel import Session, select

from api.deps import PrincipalDep, ServicesDep, SessionDep
from api.errors import COMMON_RESPONSES, responses
from api.headers import content_disposition
from api.schemas import DetachedSignatureOut
from vault.clock import rfc3339
from vault.db import Unit, read_session
from vault.handover import links, receipt_pdf_store, receipts
from vault.handover.receipt_pdf import receipt_pdf_source
from vault.models import Acknowledgment, Receipt

router = APIRouter(tags=["receipts"], responses=COMMON_RESPONSES)
WRITE = responses(403, 409)


class ReceiptCreate(BaseModel):
    evidence_ids: list[str] | None = Field(
        default=None, max_length=1000, description="Deliverables; default: every deliverable of the case."
    )
    terms: str | None = Field(default=None, max_length=20_000, description="Default: the organization's terms.")


class AcknowledgmentPublic(BaseModel):
    id: str
    recipient: str
    name: str
    acknowledged_at: str
    ip: str
    user_agent: str
    shown_sha256: str
    ledger_index: int | None
    #: The countersigned canonical JSON (receipt + acknowledgment), and its detached signature.
    countersigned: dict[str, Any]
    signature: DetachedSignatureOut


class ReceiptPublic(BaseModel):
    id: str
    case_id: str
    status: str
    created_at: str
    created_by: str
    sent_at: str | None
    sha256: str
    ledger_index: int | None
    #: The signed receipt (parsed); its canonical bytes are ``canonical`` (UTF-8 text).
    document: dict[str, Any]
    canonical: str
    signature: DetachedSignatureOut
    dispute_reason: str | None
    acknowledgment: AcknowledgmentPublic | None

    @classmethod
    def of(cls, row: Receipt, ack: Acknowledgment | None) -> ReceiptPublic:
        signed = receipts.signed_of(row)
        ack_public = None
        if ack is not None:
            ack_public = AcknowledgmentPublic(
                id=ack.id,
                recipient=ack.recipient,
                name=ack.typed_name,
                acknowledged_at=rfc3339(ack.acknowledged_at),
                ip=ack.ip,
                user_agent=ack.user_agent,
                shown_sha256=ack.shown_sha256,
                ledger_index=ack.ledger_index,
                countersigned=json.loads(bytes(ack.document)),
                signature=receipts.countersignature_of(ack).to_json(),
            )
        return cls(
            id=row.id,
            case_id=row.case_id,
            status=row.status,
            created_at=rfc3339(row.created_at),
            created_by=row.created_by,
            sent_at=rfc3339(row.sent_at) if row.sent_at else None,
            sha256=row.sha256,
            ledger_index=row.ledger_index,
            document=receipts.document_of(row),
            canonical=signed.body.decode("utf-8"),
            signature=signed.detached.to_json(),
            dispute_reason=row.dispute_reason,
            acknowledgment=ack_public,
        )


class ManualLink(BaseModel):
    recipient: str
    url: str


class SendPublic(BaseModel):
    receipt_id: str
    status: str
    #: ``smtp``: emailed. ``manual``: no SMTP configured; ``links`` are shown this once only.
    delivery: str
    recipients: list[str]
    expires_at: str
    voided_links: list[str]
    ledger_index: int
    links: list[ManualLink]


def public(session: Session, row: Receipt) -> ReceiptPublic:
    ack = session.exec(select(Acknowledgment).where(Acknowledgment.receipt_id == row.id)).first()
    return ReceiptPublic.of(row, ack)


@router.post("/api/v1/cases/{case_id}/receipts", status_code=status.HTTP_201_CREATED, responses=WRITE)
def create_receipt(case_id: str, body: ReceiptCreate, principal: PrincipalDep, services: ServicesDep) -> ReceiptPublic:
    def work(session: Unit) -> ReceiptPublic:
        row = receipts.create_receipt(
            session,
            services.settings,
            principal,
            case_id,
            evidence_ids=body.evidence_ids,
            terms=body.terms,
            clock=services.clock,
        )
        return public(session, row)

    return services.transact(work)


@router.get("/api/v1/cases/{case_id}/receipts")
def list_receipts(case_id: str, principal: PrincipalDep, session: SessionDep) -> list[ReceiptPublic]:
    return [public(session, r) for r in receipts.list_receipts(session, principal.organization_id, case_id)]


@router.get("/api/v1/receipts/{receipt_id}")
def get_receipt(receipt_id: str, principal: PrincipalDep, session: SessionDep) -> ReceiptPublic:
    return public(session, receipts.get_receipt(session, principal.organization_id, receipt_id))


@router.post("/api/v1/receipts/{receipt_id}/send", responses={**WRITE, **responses(503)})
def send_receipt(receipt_id: str, response: Response, principal: PrincipalDep, services: ServicesDep) -> SendPublic:
    # Without SMTP this response carries live links: no cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    result = links.send_receipt(
        services.transact,
        services.settings,
        principal,
        receipt_id,
        mailer=services.mailer,
        render=services.templates.email,
        clock=services.clock,
    )
    return SendPublic(
        receipt_id=result.receipt.id,
        status=result.receipt.status,
        delivery=result.delivery,
        recipients=list(result.recipients),
        expires_at=rfc3339(result.expires_at),
        voided_links=list(result.voided),
        ledger_index=result.ledger_index,
        links=[ManualLink(recipient=i.recipient, url=i.url) for i in result.manual_links],
    )


@router.get(
    "/api/v1/receipts/{receipt_id}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The PAdES-signed receipt PDF"}},
)
def receipt_pdf(receipt_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    with read_session(services.engine) as session:
        row = receipts.get_receipt(session, principal.organization_id, receipt_id)
        source = receipt_pdf_source(session, row)
    # Layout, signing and the TSA round trip run after the session closed: no lock is held meanwhile. A
    # long-term PDF is served from the store (rendered and stored on its first download).
    data = receipt_pdf_store.receipt_pdf(services, source)
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": content_disposition(f"receipt-{row.id}.pdf"), "Cache-Control": "no-store"},
    )
