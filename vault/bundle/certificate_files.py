"""The case's certificate of completion as it goes into its bundle (``data/certificate/``): the signed JSON
exactly as stored, its detached signature in the bundle rendering, and its PDF: the newest stored version of a
long-term one (``vault/certificates/certificate_store.py``), read from the object store once the export's
unit has committed (``export.prepare``), else the PDF as it was issued.

Only the certificate of the latest closing whose ``certificate.issued`` entry is inside the bundle's
checkpoint goes in, so a verifier always finds the entry that records its SHA-256 (``certificate_check.py``).
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from signing.detached import DetachedSignature
from vault import canonical
from vault.bundle import layout
from vault.certificates.certificate_store import stored_certificate_pdf
from vault.models import Certificate, StoredPdf


def certificate_files(
    session: Session, case_id: str, checkpoint_size: int
) -> tuple[dict[str, bytes], StoredPdf | None]:
    """The three files of the case's latest certificate recorded below ``checkpoint_size`` (none if none), the
    PDF as issued, and the stored version of its PDF that replaces it (``None`` if not long-term)."""
    query = select(Certificate).where(Certificate.case_id == case_id, col(Certificate.ledger_index) < checkpoint_size)
    row = session.exec(query.order_by(col(Certificate.final_index).desc())).first()
    if row is None:
        return {}, None
    signature = DetachedSignature(row.key_id, bytes(row.signature))
    files = {
        layout.CERTIFICATE_JSON: bytes(row.document),
        layout.CERTIFICATE_SIG: canonical.dumps(signature.to_bundle_json()),
        layout.CERTIFICATE_PDF: bytes(row.pdf),
    }
    return files, stored_certificate_pdf(session, row)
