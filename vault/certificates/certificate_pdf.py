"""The certificate of completion as a PDF: the statement laid out on one or two A4 pages, the signed JSON
attached, a QR code of the final-state entry's index and the checkpoint's root, and a PAdES signature.

The layout helpers, the attachments and the signing (B-B, B-T with ``OFFBOARD_TSA_URL``, B-LTA with
``OFFBOARD_PDF_LTV``) are the receipt PDF's (``vault/handover/receipt_pdf.py``), so both documents carry the
same signer and the same long-term validation material. The QR payload is in ``docs/certificate.md``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fpdf import FPDF

from vault.certificates.certificate_downloads import signed_files
from vault.clock import Clock, system_clock
from vault.config import Settings
from vault.handover.receipt_pdf import PdfText, add_fonts, attach, qr_png, sign
from vault.handover.receipts import SignedDocument
from vault.models import Organization

CERTIFICATE_FIELD = ("OffboardCertificate", "Certificate of completion issued by the organization")


def qr_payload(document: Mapping[str, Any], sha256: str) -> str:
    """The QR code's text: five lines, each a label, a space and the value (``docs/certificate.md``)."""
    checkpoint = document["ledger"]["checkpoint"]
    return (
        f"offboard-certificate {document['id']}\nsha256 {sha256}\ncase {document['case']['id']}\n"
        f"ledger-index {document['final']['ledger_index']}\ncheckpoint {checkpoint['size']} {checkpoint['root_hash']}"
    )


def _items(doc: PdfText, document: Mapping[str, Any]) -> None:
    doc.heading(f"Obligations completed ({len(document['obligations'])})")
    for step in document["obligations"] or [{"title": "none", "completed_at": "", "completed_by": ""}]:
        doc.line(f"• {step['title']}  ({step['completed_at']} by {step['completed_by']})".replace(" ( by )", ""))
    doc.heading(f"Access revoked ({len(document['access_revoked'])})")
    for item in document["access_revoked"]:
        doc.line(f"• {item['name']}  (revoked {item['revoked_at']} by {item['revoked_by']})")
        for proof in item["evidence"]:
            doc.line(f"  evidence SHA-256 {proof['sha256']}", mono=True, size=7)
    doc.heading(f"Deliverables ({len(document['deliverables'])})")
    for item in document["deliverables"]:
        doc.line(f"• {item['filename']}  ({item['size']:,} bytes, stored {item['stored_at']})")
        doc.line(f"  SHA-256 {item['sha256']}", mono=True, size=7)
    doc.heading("Acknowledgment")
    for ack in document["acknowledgments"]:
        doc.line(
            f"• {ack['name']} <{ack['recipient']}> acknowledged receipt {ack['receipt']} at {ack['acknowledged_at']}"
        )
        doc.line(f"  page shown SHA-256 {ack['shown_sha256']}", mono=True, size=7)
    for waiver in document["waivers"]:
        doc.line(f"• waived ({waiver['scope']}) by {waiver['waived_by']} at {waiver['waived_at']}: {waiver['reason']}")
    if not document["acknowledgments"] and not document["waivers"]:
        doc.line("No receipt needed the client's acknowledgment.")


def layout(document: Mapping[str, Any], signed: SignedDocument, *, created: datetime) -> bytes:
    """The visible pages (no attachments, no signature)."""
    pdf = FPDF(format="A4")
    pdf.set_creation_date(created)
    pdf.set_title(f"Certificate of completion {document['id']}")
    pdf.set_author(document["organization"]["name"])
    pdf.set_auto_page_break(auto=True, margin=15)
    add_fonts(pdf)
    pdf.add_page()
    doc = PdfText(pdf)
    pdf.set_font("DejaVu", "B", 16)
    pdf.multi_cell(0, 9, "Certificate of completion: fully offboarded", new_x="LMARGIN", new_y="NEXT")
    case, dates = document["case"], document["dates"]
    doc.field("Organization", document["organization"]["name"])
    doc.field("Client", str(case["client_name"]))
    doc.field("Case", str(case["id"]), mono=True)
    doc.field("Owner", str(case["owner"]))
    doc.field("Intent to leave", str(dates["intent_to_leave"]))
    doc.field("End of service", str(dates["end_of_service"]))
    doc.field("Closed", f"{dates['closed']} by {document['final']['actor']}")
    _items(doc, document)
    checkpoint = document["ledger"]["checkpoint"]
    doc.heading("Verification")
    doc.field("Certificate", document["id"], mono=True)
    doc.field("SHA-256", signed.sha256, mono=True)
    doc.field("Ed25519 key", f"{signed.key_name} ({signed.key_id})")
    doc.field("Final entry", f"ledger index {document['final']['ledger_index']}")
    doc.field("Checkpoint", f"tree size {checkpoint['size']}, root {checkpoint['root_hash']}", mono=True)
    pdf.ln(2)
    pdf.image(qr_png(qr_payload(document, signed.sha256)), w=34)
    doc.line(
        "The signed statement is attached to this PDF (certificate-<id>.json and its .sig.json). Every statement "
        "in it is derived from the case's ledger entries; `offboard verify` checks it against them in the case's "
        "evidence bundle, and the inclusion proof in it places the final entry in the checkpoint above."
    )
    return bytes(pdf.output())


def render_certificate_pdf(
    signed: SignedDocument, settings: Settings, org: Organization, *, created: datetime, clock: Clock = system_clock
) -> bytes:
    """The signed PDF of a certificate: layout, the JSON and signature attached, PAdES (long-term with
    ``OFFBOARD_PDF_LTV``)."""
    document = json.loads(signed.body)
    files = {f.name: f.content for f in signed_files(signed, document["id"])}
    pages = layout(document, signed, created=created)
    return sign(attach(pages, files), settings, org, ltv=settings.pdf_ltv, clock=clock, field=CERTIFICATE_FIELD)
