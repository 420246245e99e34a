"""Certificate PDFs as people get them, and re-timestamping the stored ones (``offboard certificate
retimestamp``; ``docs/certificate.md``, "Long-term PDF").

A certificate issued with ``OFFBOARD_PDF_LTV`` (PAdES B-LTA) is also recorded as version 1 of a stored PDF of
kind ``certificate`` (``vault/stored_pdfs.py``), in the unit that issues it; every download (API, console,
CLI, bundle) serves the newest stored version, which a re-timestamp replaces. The certificate row's ``pdf``
column keeps the PDF as issued (the first edition); a certificate without a stored PDF serves that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import Session

from storage.base import ObjectStore
from vault.cases.lifecycle import get_case
from vault.db import Read
from vault.models import Certificate, StoredPdf
from vault.pdf_retimestamps import DEFAULT_BEFORE_DAYS, PdfSelection, retimestamp_pdfs
from vault.states import PdfKind
from vault.stored_pdfs import PdfSubject, Retimestamped, current_pdf, read_pdf

if TYPE_CHECKING:
    from vault.services import Services

#: A certificate never changes: its stored PDF has one edition.
ISSUED = "issued"


def certificate_subject(row: Certificate) -> PdfSubject:
    return PdfSubject(PdfKind.CERTIFICATE, row.id, row.organization_id, row.case_id, ISSUED)


def stored_certificate_pdf(session: Session, row: Certificate) -> StoredPdf | None:
    """The newest stored version of ``row``'s PDF; ``None`` for a certificate that is not long-term."""
    return current_pdf(session, certificate_subject(row))


def certificate_pdf(read: Read, store: ObjectStore, row: Certificate) -> bytes:
    """The PDF of ``row`` people get: its newest stored version, else the PDF as issued."""
    stored = read(lambda session: stored_certificate_pdf(session, row))
    return bytes(row.pdf) if stored is None else read_pdf(store, stored)


def retimestamp_certificate_pdfs(
    svc: Services,
    *,
    organization_id: str,
    actor: str,
    case_id: str | None = None,
    before_days: int = DEFAULT_BEFORE_DAYS,
    everything: bool = False,
) -> list[Retimestamped]:
    """Re-timestamp the organization's stored long-term certificate PDFs (of ``case_id``'s certificates when
    given) whose last document timestamp's TSA certificate expires within ``before_days``, or every one with
    ``everything`` (``vault/pdf_retimestamps.py``)."""
    selection = PdfSelection(
        (PdfKind.CERTIFICATE,),
        case_id=case_id,
        missing=f"case {case_id} has no certificate with a stored long-term PDF (one is stored when the "
        "certificate is issued with OFFBOARD_PDF_LTV=1)",
    )
    return retimestamp_pdfs(
        svc,
        organization_id=organization_id,
        actor=actor,
        selection=selection,
        before_days=before_days,
        everything=everything,
        check=None if case_id is None else lambda session: get_case(session, organization_id, case_id),
    )
