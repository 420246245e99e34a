"""Receipt PDFs as people get them, and re-timestamping the stored ones (``offboard receipt retimestamp``).

A long-term receipt PDF (PAdES B-LTA: ``OFFBOARD_PDF_LTV`` or ``ltv=True``) is stored on its first rendering
for the receipt's current status (``vault/stored_pdfs.py``) and served from the store ever after (also once
LTV is turned off); other PDFs are rendered on demand (``vault/handover/receipt_pdf.py``).
``retimestamp_receipt_pdfs`` adds a new document timestamp to each stored one whose last timestamp's TSA
certificate expires soon, as a new stored version.
"""

from __future__ import annotations

from functools import partial

from sqlmodel import Session

from signing import pades
from signing.errors import LongTermError
from vault.errors import ConfigurationError, InvalidInput, NotFound
from vault.handover.receipt_pdf import ReceiptPdfSource, long_term, render_receipt_pdf
from vault.handover.receipts import get_receipt
from vault.models import Organization, Receipt, StoredPdf
from vault.services import Services
from vault.states import PdfKind
from vault.stored_pdfs import PdfSubject, Retimestamped, due_before, latest_pdfs, retimestamp_pdf, stored_or_rendered

#: ``--before`` default: re-timestamp when the last timestamp's TSA certificate expires within 90 days.
DEFAULT_BEFORE_DAYS = 90


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
    document timestamp's TSA certificate expires within ``before_days``, or every one with ``everything``.

    Each is its own step: read, extend through the TSA, store, then record in a unit of its own, so the ones
    done before a failure stay done. A PDF another run extended meanwhile is left alone."""
    if not svc.settings.tsa_url:
        raise ConfigurationError("re-timestamping PDFs needs a timestamp authority: set OFFBOARD_TSA_URL")
    if before_days < 0:
        raise InvalidInput(f"--before takes a number of days, 0 or more; found {before_days}")
    cutoff = None if everything else due_before(svc.clock(), before_days)

    def due(session: Session) -> tuple[Organization, list[StoredPdf]]:
        org = session.get(Organization, organization_id)
        if org is None:
            raise NotFound(f"no organization {organization_id}")
        if receipt_id is not None:
            get_receipt(session, organization_id, receipt_id)
            if not latest_pdfs(session, organization_id=organization_id, kind=PdfKind.RECEIPT, subject_id=receipt_id):
                raise InvalidInput(
                    f"receipt {receipt_id} has no stored long-term PDF (one is stored when it is first "
                    "downloaded with OFFBOARD_PDF_LTV=1)"
                )
        rows = latest_pdfs(
            session,
            organization_id=organization_id,
            kind=PdfKind.RECEIPT,
            subject_id=receipt_id,
            expiring_before=cutoff,
        )
        return org, rows

    org, rows = svc.read(due)
    if not rows:
        return []
    _, inputs, tsa_url = long_term(svc.settings, org, clock=svc.clock)

    def stamp(data: bytes) -> bytes:
        try:
            return pades.retimestamp(data, tsa_url=tsa_url, ltv=inputs)
        except LongTermError as exc:
            raise ConfigurationError(str(exc)) from exc

    done: list[Retimestamped] = []
    for row in rows:
        made = retimestamp_pdf(svc.transact, svc.store, row, stamp=stamp, actor=actor, clock=svc.clock)
        if made is not None:
            done.append(made)
    return done
