"""The receipts of a case as they go into its bundle: each signed receipt, its countersigned
acknowledgment when there is one, the receipt's PDF, the checkpoint the receipt gave the client, and the
checkpoint of the receipt's ``.tlog-proof`` (so a bundle proves consistency with both, ``verify --since``).

The receipt tables and PDF belong to ``vault/handover/receipts.py`` and ``vault/handover/receipt_pdf.py``;
this module only reads them. An acknowledgment is carried as its own signed document
(``<receipt id>-acknowledgment``), since the organization's countersignature covers different bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from vault.bundle.plan import BundleReceipt, ReceiptSource
from vault.bundle.records import ACK_SUFFIX, ack_status
from vault.clock import Clock
from vault.config import Settings
from vault.handover.receipts import countersignature_of, document_of, signed_of
from vault.ledger.publish import first_checkpoint_covering
from vault.models import Case
from vault.models.handover import Acknowledgment, Receipt

if TYPE_CHECKING:
    # The PDF machinery (fpdf, pypdf, qrcode, PAdES) loads only when a case has a receipt: an export of a
    # case without one starts faster and smaller.
    from vault.handover.receipt_pdf import ReceiptPdfSource


def _checkpoint_note(document: dict[str, Any]) -> str | None:
    given = document.get("checkpoint")
    note = given.get("note") if isinstance(given, dict) else given
    return note if isinstance(note, str) else None


def _covering(session: Session, row: Receipt) -> str | None:
    """The checkpoint of the receipt entry's ``.tlog-proof`` (``vault/handover/receipt_proof.py``)."""
    if row.ledger_index is None:
        return None
    checkpoint = first_checkpoint_covering(session, row.organization_id, row.ledger_index)
    return checkpoint.note if checkpoint is not None else None


#: Makes the PDF of a receipt from what was read of it: the stored one for long-term PDFs
#: (``vault/handover/receipt_pdf_store.py`` ``receipt_pdf``), else rendered.
ReceiptPdf = Callable[["ReceiptPdfSource"], bytes]


def case_receipts(settings: Settings, clock: Clock, pdf: ReceiptPdf | None = None) -> ReceiptSource:
    """A ``ReceiptSource`` reading the case's receipts and acknowledgments; their PDFs are made later by
    ``pdf`` (default: rendered), from what was read here, once the export's unit of work has committed
    (``BundleReceipt.make_pdf``)."""

    def source(session: Session, case: Case) -> list[BundleReceipt]:
        rows = session.exec(
            select(Receipt).where(Receipt.case_id == case.id).order_by(col(Receipt.created_at), col(Receipt.id))
        ).all()
        out: list[BundleReceipt] = []
        if not rows:
            return out
        from vault.handover.receipt_pdf import receipt_pdf_source, render_receipt_pdf

        make = pdf if pdf is not None else partial(render_receipt_pdf, settings=settings, clock=clock)
        for row in rows:
            out.append(
                BundleReceipt(
                    receipt_id=row.id,
                    document=bytes(row.document),
                    signature=signed_of(row).detached,
                    status=row.status,
                    make_pdf=partial(make, receipt_pdf_source(session, row)),
                    checkpoint=_checkpoint_note(document_of(row)),
                    tlog_proof_checkpoint=_covering(session, row),
                )
            )
            ack = session.exec(select(Acknowledgment).where(Acknowledgment.receipt_id == row.id)).first()
            if ack is not None:
                out.append(
                    BundleReceipt(
                        receipt_id=row.id + ACK_SUFFIX,
                        document=bytes(ack.document),
                        signature=countersignature_of(ack),
                        # From the signed block, so a verifier can hold the index's words against it.
                        status=ack_status(json.loads(bytes(ack.document))["acknowledgment"]),
                    )
                )
        return out

    return source
