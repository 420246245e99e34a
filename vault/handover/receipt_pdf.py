"""The human-readable receipt: a PDF with the canonical JSON attached, a QR code, and a PAdES signature.

Layout by fpdf2 with DejaVu fonts (any typed name renders); the signed canonical JSON (and, once
acknowledged, the countersigned one) embedded as PDF attachments with pypdf *before* signing; then a
PAdES baseline signature (``signing/pades.py``) with the organization's ECDSA P-256 certificate,
timestamped when ``OFFBOARD_TSA_URL`` is set.

The certificate is the one configured (``OFFBOARD_PDF_CERT_FILE`` + ``OFFBOARD_PDF_KEY_FILE``), else a
self-signed one made on first use: ``<slug>-pdf-p256.key`` (PKCS #8 PEM, mode 0600) and
``<slug>-pdf-p256.crt`` next to the Ed25519 keys. A key file open to group or others is refused.

Long-term signatures (``OFFBOARD_PDF_LTV=1`` or ``ltv=True``, PAdES B-LTA) use a signer issued by the
organization's own CA (``<slug>-pdf-ca.*`` and ``<slug>-pdf-issued.*``, made on first LTV use, see
``signing/pdf_ca.py``), whose certificate and CRL Offboard publishes; they need a TSA.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import qrcode  # type: ignore[import-untyped]
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter
from sqlmodel import Session, select

from signing import pades, pdf_ca
from signing.errors import KeyFileError, LongTermError
from signing.pades import LongTerm, PdfCredentials, SignatureFields
from vault.clock import Clock, system_clock
from vault.config import Settings
from vault.errors import ConfigurationError
from vault.handover.receipts import countersignature_of, document_of, signed_of
from vault.ledger.anchoring import tsa_roots
from vault.models import Acknowledgment, Organization, Receipt

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {
    ("DejaVu", ""): "DejaVuSans.ttf",
    ("DejaVu", "B"): "DejaVuSans-Bold.ttf",
    ("DejaVuMono", ""): "DejaVuSansMono.ttf",
}


def pdf_credentials(settings: Settings, org: Organization, *, clock: Clock = system_clock) -> PdfCredentials:
    """The organization's PAdES signer: the configured pair, else a self-signed one made on first use."""
    try:
        if settings.pdf_cert_file or settings.pdf_key_file:
            if not (settings.pdf_cert_file and settings.pdf_key_file):
                raise ConfigurationError("set both OFFBOARD_PDF_CERT_FILE and OFFBOARD_PDF_KEY_FILE, or neither")
            return pades.configured(settings.pdf_key_file, settings.pdf_cert_file)
        return pades.self_signed(
            settings.resolved_keys_dir,
            f"{org.slug}-pdf-p256",
            subject=f"{org.name} handover receipts",
            organization=org.name,
            now=clock(),
        )
    except KeyFileError as exc:
        raise ConfigurationError(str(exc)) from exc


def issuing_ca(settings: Settings, org: Organization, *, clock: Clock = system_clock) -> pdf_ca.IssuingCA:
    """The organization's PDF issuing CA, made on first use beside its other keys."""
    try:
        return pdf_ca.issuing_ca(settings.resolved_keys_dir, f"{org.slug}-pdf-ca", organization=org.name, now=clock())
    except KeyFileError as exc:
        raise ConfigurationError(str(exc)) from exc


def ca_crl(settings: Settings, org: Organization, *, clock: Clock = system_clock) -> bytes:
    """The CA's current CRL (DER), signed anew once half of its validity is spent."""
    try:
        return pdf_ca.current_crl(issuing_ca(settings, org, clock=clock), now=clock())
    except KeyFileError as exc:
        raise ConfigurationError(str(exc)) from exc


def crl_url(settings: Settings, org: Organization) -> str:
    """Where the CA's CRL is published (``GET /.well-known/offboard/pdf-ca.crl``)."""
    return f"{settings.base_url.rstrip('/')}/.well-known/offboard/pdf-ca.crl?organization={org.slug}"


def long_term(
    settings: Settings, org: Organization, *, clock: Clock = system_clock
) -> tuple[PdfCredentials, LongTerm, str]:
    """The issued signer, the validation inputs and the TSA URL of a long-term signature; refused without a TSA
    or with an operator's own pair (whose issuer Offboard cannot vouch for)."""
    if not settings.tsa_url:
        raise ConfigurationError("long-term PDF signatures (OFFBOARD_PDF_LTV, --ltv) need OFFBOARD_TSA_URL")
    if settings.pdf_cert_file or settings.pdf_key_file:
        raise ConfigurationError(
            "long-term PDF signatures use the organization's issuing CA: unset OFFBOARD_PDF_CERT_FILE and "
            "OFFBOARD_PDF_KEY_FILE, or OFFBOARD_PDF_LTV"
        )
    ca = issuing_ca(settings, org, clock=clock)
    try:
        signer = pdf_ca.issued_signer(
            ca,
            settings.resolved_keys_dir,
            f"{org.slug}-pdf-issued",
            subject=f"{org.name} handover receipts",
            organization=org.name,
            crl_url=crl_url(settings, org),
            now=clock(),
        )
    except KeyFileError as exc:
        raise ConfigurationError(str(exc)) from exc
    inputs = LongTerm((ca.certificate(), *tsa_roots(settings)), (ca_crl(settings, org, clock=clock),))
    return signer, inputs, settings.tsa_url


def add_fonts(pdf: FPDF) -> None:
    for (family, style), file_name in FONTS.items():
        path = FONT_DIR / file_name
        if not path.is_file():
            raise ConfigurationError(f"font {path} is missing (install fonts-dejavu-core)")
        pdf.add_font(family, style, str(path))


def qr_png(text: str) -> io.BytesIO:
    image = qrcode.make(text, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    buffer.seek(0)
    return buffer


class PdfText:
    """Small writing helpers over FPDF, so the layout below reads as content."""

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf

    def heading(self, text: str) -> None:
        self.pdf.ln(3)
        self.pdf.set_font("DejaVu", "B", 12)
        self.pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font("DejaVu", "", 9)

    def line(self, text: str, *, mono: bool = False, size: float = 9) -> None:
        self.pdf.set_font("DejaVuMono" if mono else "DejaVu", "", size)
        self.pdf.multi_cell(0, 4.6, text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font("DejaVu", "", 9)

    def field(self, label: str, value: str, *, mono: bool = False) -> None:
        self.pdf.set_font("DejaVu", "B", 9)
        self.pdf.cell(38, 4.6, label)
        self.pdf.set_font("DejaVuMono" if mono else "DejaVu", "", 8 if mono else 9)
        self.pdf.multi_cell(0, 4.6, value, new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font("DejaVu", "", 9)


def how_to_verify(base_url: str, key_id: str) -> str:
    """The PDF's closing words: how a client checks the receipt without Offboard, and where the key is."""
    base = base_url.rstrip("/")
    return (
        "How to check this receipt: the receipt is attached to this PDF as a signed file (open the "
        "attachments panel of your PDF reader), and its signature proves the organization issued exactly "
        "these items and terms. The organization publishes its verifier key at "
        f"{base}/.well-known/offboard/keys (the key id must be {key_id}). To check everything offline, ask "
        "for the evidence bundle of this case and open its verifier page (verify.html in the bundle, or a "
        f"copy from {base}/.well-known/offboard/verify.html) in a browser: give it the bundle and that key, "
        "and it checks this receipt's signature and its place in the organization's ledger."
    )


def layout(document: dict[str, Any], receipt: Receipt, ack: Acknowledgment | None, *, base_url: str) -> bytes:
    """The visible pages of the receipt (no attachments, no signature)."""
    pdf = FPDF(format="A4")
    pdf.set_creation_date(receipt.created_at)
    pdf.set_title(f"Handover receipt {receipt.id}")
    pdf.set_author(document["organization"]["name"])
    pdf.set_auto_page_break(auto=True, margin=15)
    add_fonts(pdf)
    pdf.add_page()
    doc = PdfText(pdf)
    pdf.set_font("DejaVu", "B", 16)
    pdf.multi_cell(0, 9, "Handover receipt", new_x="LMARGIN", new_y="NEXT")
    case = document["case"]
    doc.field("Organization", document["organization"]["name"])
    doc.field("Client", case["client_name"])
    doc.field("Case", case["id"], mono=True)
    doc.field("Receipt", document["id"], mono=True)
    doc.field("Issued", f"{document['issued_at']} by {document['issued_by']}")
    doc.field("Status", receipt.status)
    doc.heading(f"Deliverables ({len(document['deliverables'])})")
    for item in document["deliverables"]:
        doc.line(f"{item['filename']}  ({item['size']:,} bytes, {item['kind']})")
        doc.line(f"SHA-256 {item['sha256']}", mono=True, size=7.5)
    doc.heading(f"Obligations completed ({len(document['obligations'])})")
    for step in document["obligations"] or [{"title": "none listed", "completed_at": None}]:
        doc.line(f"• {step['title']}" + (f"  (completed {step['completed_at']})" if step["completed_at"] else ""))
    doc.heading(f"Access revoked ({len(document['access_revoked'])})")
    for item in document["access_revoked"] or [{"name": "none listed", "kind": "", "revoked_at": None}]:
        when = f", revoked {item['revoked_at']}" if item["revoked_at"] else ""
        doc.line(f"• {item['name']} {('(' + item['kind'] + when + ')') if item['kind'] else ''}".rstrip())
    doc.heading("Terms")
    doc.line(document["terms"])
    doc.heading("Acknowledgment")
    if ack is None:
        doc.line("Not acknowledged by the client at the time this PDF was produced.")
    else:
        doc.field("Acknowledged by", f"{ack.typed_name} <{ack.recipient}>")
        doc.field("At (UTC)", ack.acknowledged_at.strftime("%Y-%m-%dT%H:%M:%SZ"))
        doc.field("From IP", ack.ip)
        doc.field("Items shown", ack.shown_sha256, mono=True)
        doc.field("Countersigned", f"ledger index {ack.ledger_index}, key {ack.key_id}")
    signed = signed_of(receipt)
    checkpoint = document["checkpoint"]
    doc.heading("Verification")
    doc.field("Receipt SHA-256", signed.sha256, mono=True)
    doc.field("Ed25519 key", f"{signed.key_name} ({signed.key_id})")
    doc.field("Signature", signed.detached.to_json()["signature"], mono=True)
    doc.field("Ledger index", f"receipt issued at entry {receipt.ledger_index}")
    doc.field("Checkpoint", f"tree size {checkpoint['size']}, root {checkpoint['root_hash']}", mono=True)
    qr_text = (
        f"offboard-receipt {document['id']}\nsha256 {signed.sha256}\nledger-index {receipt.ledger_index}\n"
        f"checkpoint {checkpoint['size']} {checkpoint['root_hash']}"
    )
    if ack is not None:
        qr_text += f"\ncountersigned {ack.sha256} ledger-index {ack.ledger_index}"
    pdf.ln(2)
    pdf.image(qr_png(qr_text), w=38)
    pdf.ln(2)
    doc.line(how_to_verify(base_url, signed.key_id))
    return bytes(pdf.output())


def attach(pdf_bytes: bytes, files: dict[str, bytes]) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes)))
    for name, data in files.items():
        writer.add_attachment(name, data)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


RECEIPT_FIELDS = ("OffboardReceipt", "Handover receipt issued by the organization")


def sign(
    pdf_bytes: bytes,
    settings: Settings,
    org: Organization,
    *,
    ltv: bool = False,
    clock: Clock = system_clock,
    field: tuple[str, str] = RECEIPT_FIELDS,
) -> bytes:
    """PAdES-sign ``pdf_bytes``: B-B, B-T with a TSA, B-LTA when ``ltv`` (``render_receipt_pdf`` resolves it).
    ``field`` is the signature field's name and reason (a certificate of completion names its own)."""
    fields = SignatureFields(field[0], field[1], org.name)
    try:
        if ltv:
            signer, inputs, tsa_url = long_term(settings, org, clock=clock)
            return pades.sign_pdf(pdf_bytes, signer, fields, tsa_url=tsa_url, ltv=inputs)
        return pades.sign_pdf(pdf_bytes, pdf_credentials(settings, org, clock=clock), fields, tsa_url=settings.tsa_url)
    except (KeyFileError, LongTermError) as exc:
        raise ConfigurationError(str(exc)) from exc


@dataclass(frozen=True, slots=True)
class ReceiptPdfSource:
    """Everything a receipt's PDF is made of, read in a session (``receipt_pdf_source``).

    The PDF itself is laid out and signed after that session has closed: signing may wait on a TSA over
    the network, and no database transaction may stay open across that (one slow TSA would stall
    every writer).
    """

    organization: Organization
    receipt: Receipt
    acknowledgment: Acknowledgment | None


def receipt_pdf_source(session: Session, receipt: Receipt) -> ReceiptPdfSource:
    """Read the organization and the acknowledgment (if any) of ``receipt``: the PDF as it stands now."""
    org = session.get(Organization, receipt.organization_id)
    assert org is not None  # noqa: S101 - foreign key
    ack = session.exec(select(Acknowledgment).where(Acknowledgment.receipt_id == receipt.id)).first()
    return ReceiptPdfSource(org, receipt, ack)


def render_receipt_pdf(
    source: ReceiptPdfSource, settings: Settings, *, ltv: bool | None = None, clock: Clock = system_clock
) -> bytes:
    """The signed PDF of the receipt in ``source``: layout, attachments, PAdES signature (and TSA token);
    long-term when ``ltv``, which defaults to ``OFFBOARD_PDF_LTV``."""
    receipt, ack = source.receipt, source.acknowledgment
    document = document_of(receipt)
    signed = signed_of(receipt)
    files = {
        f"receipt-{receipt.id}.json": signed.body,
        f"receipt-{receipt.id}.sig.json": json.dumps(signed.detached.to_json(), indent=2).encode(),
    }
    if ack is not None:
        stem = f"receipt-{receipt.id}-acknowledged"
        files[f"{stem}.json"] = bytes(ack.document)
        files[f"{stem}.sig.json"] = json.dumps(countersignature_of(ack).to_json(), indent=2).encode()
    pages = layout(document, receipt, ack, base_url=settings.base_url)
    long = settings.pdf_ltv if ltv is None else ltv
    return sign(attach(pages, files), settings, source.organization, ltv=long, clock=clock)
