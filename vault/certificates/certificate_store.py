"""Certificate PDFs as people get them (``docs/certificate.md``, "Long-term PDF"; re-timestamping the stored
ones is ``vault/pdfs/retimestamps.py``).

A certificate issued with ``OFFBOARD_PDF_LTV`` (PAdES B-LTA) is also recorded as version 1 of a stored PDF of
kind ``certificate`` (``vault/pdfs/stored.py``), in the unit that issues it; every download (API, console,
CLI, bundle) serves the newest stored version, which a re-timestamp replaces. The certificate row's ``pdf``
column keeps the PDF as issued (the first edition); a certificate without a stored PDF serves that.
"""

from __future__ import annotations

from sqlmodel import Session

from storage.base import ObjectStore
from vault.db import Read
from vault.models import Certificate, StoredPdf
from vault.pdfs.stored import PdfSubject, current_pdf, read_pdf
from vault.states import PdfKind

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
