"""Receipt PDFs as people get them, and re-timestamping the stored ones (``offboard receipt retimestamp``).

A long-term receipt PDF (PAdES B-LTA: ``OFFBOARD_PDF_LTV`` or ``ltv=True``) is stored on its first rendering
for the receipt's current status (``vault/stored_pdfs.py``) and served from the store ever after (also once
LTV is turned off); other PDFs are rendered on demand (``vault/handover/receipt_pdf.py``).
``retimestamp_receipt_pdfs`` adds a new document timestamp to each stored one whose last timestamp's TSA
certificate expires soon, as a new stored version.
"""

from __future__ import annotations

from functools import partial

from vault.handover.receipt_pdf import ReceiptPdfSource, render_receipt_pdf
from vault.handover.receipts import get_receipt
from vault.models import Receipt
from vault.pdf_retimestamps import DEFAULT_BEFORE_DAYS, PdfSelection, retimestamp_pdfs
from vault.services import Services
from vault.states import PdfKind
from vault.stored_pdfs import PdfSubject, Retimestamped, stored_or_rendered


def receipt_subject(receipt: Receipt) -> PdfSubject:
    """The stored PDF of ``receipt`` as it stands: one per status it was rendered in."""
    return PdfSubject(PdfKind.RECEIPT, receipt.id, receipt.organization_id, receipt.case_id, receipt.status)


def receipt_pdf(svc: Services, source: ReceiptPdfSource, *, ltv: bool | None = None) -> bytes:
    """The signed PDF of ``source``'s receipt: the stored one when there is one, else rendered now, and stored
    if long-term (``ltv``, default ``OFFBOARD_PDF_LTV``); ``ltv=False`` (``--no-ltv``) always renders a PDF
    that is not long-term. Call it outside any session."""
    long = svc.settings.pdf_ltv if ltv is None else ltv
    render = partial(render_receipt_pdf, source, svc.settings, ltv=long, clock=svc.clock)
    if ltv is False:
        return render()
    subject = receipt_subject(source.receipt)
    return stored_or_rendered(svc.read, svc.transact, svc.store, subject, render, keep=long, clock=svc.clock)


def retimestamp_receipt_pdfs(
    svc: Services,
    *,
    organization_id: str,
    actor: str,
    receipt_id: str | None = None,
    before_days: int = DEFAULT_BEFORE_DAYS,
    everything: bool = False,
) -> list[Retimestamped]:
    """Re-timestamp the organization's stored long-term receipt PDFs (of ``receipt_id`` when given) whose last
    document timestamp's TSA certificate expires within ``before_days``, or every one with ``everything``
    (``vault/pdf_retimestamps.py``)."""
    selection = PdfSelection(
        (PdfKind.RECEIPT,),
        subject_id=receipt_id,
        missing=f"receipt {receipt_id} has no stored long-term PDF (one is stored when it is first downloaded "
        "with OFFBOARD_PDF_LTV=1)",
    )
    return retimestamp_pdfs(
        svc,
        organization_id=organization_id,
        actor=actor,
        selection=selection,
        before_days=before_days,
        everything=everything,
        check=None if receipt_id is None else lambda session: get_receipt(session, organization_id, receipt_id),
    )
