"""The countersigned acknowledgment, ``offboard.acknowledged-receipt/v1`` (``docs/receipts.md``,
"Acknowledgment and countersignature"): the client's statement block, the organization's detached
Ed25519 signature over the receipt, the receipt's signature and that block together, and the data of the
``receipt.countersigned`` entry.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from vault.clock import rfc3339
from vault.config import Settings
from vault.handover.receipts import SignedDocument, sign_document, signed_of
from vault.ledger import keyring
from vault.models import Acknowledgment, Receipt

COUNTERSIGNED_TYPE = "offboard.acknowledged-receipt/v1"
CONSENT_TEXT = "I confirm that I received the deliverables listed in this receipt and accept the terms shown."


def acknowledgment_block(ack: Acknowledgment) -> dict[str, Any]:
    """What the client stated, as countersigned: who, when, from where, and the hash of what was shown."""
    return {
        "id": ack.id,
        "receipt": ack.receipt_id,
        "recipient": ack.recipient,
        "name": ack.typed_name,
        "consent": CONSENT_TEXT,
        "acknowledged_at": rfc3339(ack.acknowledged_at),
        "ip": ack.ip,
        "user_agent": ack.user_agent,
        "shown_sha256": ack.shown_sha256,
        "token_id": ack.link_id,
    }


def countersign(
    session: Session, settings: Settings, receipt: Receipt, document: dict[str, Any], block: dict[str, Any]
) -> SignedDocument:
    """The organization's active key signs the receipt (``document``), its signature and ``block``."""
    key = keyring.active_key(session, receipt.organization_id)
    signer = keyring.load_signer(settings, key)
    return sign_document(
        signer,
        {
            "type": COUNTERSIGNED_TYPE,
            "receipt": document,
            "receipt_signature": signed_of(receipt).detached.to_json(),
            "acknowledgment": block,
        },
    )


def seal(ack: Acknowledgment, counter: SignedDocument) -> None:
    """Fill the acknowledgment row's signature fields, left empty until the block naming its id was signed."""
    ack.document, ack.sha256, ack.signature = counter.body, counter.sha256, counter.signature
    ack.key_id, ack.key_name = counter.key_id, counter.key_name


def countersigned_entry(ack: Acknowledgment, counter: SignedDocument) -> dict[str, Any]:
    """The data of ``receipt.countersigned``: which acknowledgment of which receipt, and its signature."""
    return {
        "receipt": ack.receipt_id,
        "acknowledgment": ack.id,
        "sha256": counter.sha256,
        "key_id": counter.key_id,
        "signature": counter.detached.to_json()["signature"],
    }
