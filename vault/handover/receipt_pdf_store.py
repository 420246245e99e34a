"""Receipt PDFs as people get them (re-timestamping the stored ones is ``vault/pdfs/retimestamps.py``).

A long-term receipt PDF (PAdES B-LTA: ``OFFBOARD_PDF_LTV`` or ``ltv=True``) is stored on its first rendering
for the receipt's current status (``vault/pdfs/stored.py``) and served from the store ever after (also once
LTV is turned off); other PDFs are rendered on demand (``vault/handover/receipt_pdf.py``).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from vault.models import Receipt
from vault.pdfs.stored import PdfSubject, stored_or_rendered
from vault.services import Services
from vault.states import PdfKind

if TYPE_CHECKING:
    from vault.handover.receipt_pdf import ReceiptPdfSource


def receipt_subject(receipt: Receipt) -> PdfSubject:
    """The stored PDF of ``receipt`` as it stands: one per status it was rendered in."""
    return PdfSubject(PdfKind.RECEIPT, receipt.id, receipt.organization_id, receipt.case_id, receipt.status)


def receipt_pdf(svc: Services, source: ReceiptPdfSource, *, ltv: bool | None = None) -> bytes:
    """The signed PDF of ``source``'s receipt: the stored one when there is one, else rendered now, and stored
    if long-term (``ltv``, default ``OFFBOARD_PDF_LTV``); ``ltv=False`` (``--no-ltv``) always renders a PDF
    that is not long-term. Call it outside any session."""
    from vault.handover.receipt_pdf import render_receipt_pdf  # the PDF machinery, only once a PDF is asked for

    long = svc.settings.pdf_ltv if ltv is None else ltv
    render = partial(render_receipt_pdf, source, svc.settings, ltv=long, clock=svc.clock)
    if ltv is False:
        return render()
    subject = receipt_subject(source.receipt)
    return stored_or_rendered(svc.read, svc.transact, svc.store, subject, render, keep=long, clock=svc.clock)
