"""After an answer is committed: the emails it sends (``docs/receipts.md``, "Acknowledgment and
countersignature"). The client gets the countersigned JSON, its signature and the PDF; the case owner is told
of an acknowledgment or a dispute. Mail goes out outside any transaction, so a slow SMTP server holds no lock.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from vault.clock import rfc3339
from vault.config import Settings
from vault.handover.acknowledgments import Outcome
from vault.handover.receipts import ReceiptStatus
from vault.mail import Attachment, EmailRenderer, Mailer, Message

logger = logging.getLogger("offboard.receipts")


def notify(
    outcome: Outcome,
    *,
    mailer: Mailer | None,
    render: EmailRenderer,
    settings: Settings,
    pdf: Callable[[], bytes] | None = None,
) -> list[str]:
    """After the commit: confirm to the client (acknowledgments, with the signed receipt) and tell the owner.

    Returns the recipients that could not be reached; failures are logged, never raised (the answer
    is recorded whether or not the mail goes out).
    """
    if mailer is None:
        logger.info("no SMTP configured: %s of receipt %s not emailed", outcome.kind, outcome.receipt_id)
        return []
    context: dict[str, Any] = {
        "organization": outcome.organization,
        "receipt_id": outcome.receipt_id,
        "case_id": outcome.document["case"]["id"],
        "client_name": outcome.document["case"]["client_name"],
        "recipient": outcome.recipient,
        "at": rfc3339(outcome.at),
        "ledger_index": outcome.ledger_index,
        "deliverables": outcome.document["deliverables"],
        "base_url": settings.base_url,
        "reason": outcome.reason,
    }
    messages = []
    if outcome.kind == ReceiptStatus.ACKNOWLEDGED:
        assert outcome.countersignature is not None  # noqa: S101 - acknowledge() always countersigns
        stem = f"receipt-{outcome.receipt_id}-acknowledged"
        signature = json.dumps(outcome.countersignature.to_json(), indent=2).encode()
        files = [
            Attachment(f"{stem}.json", outcome.countersigned, "application/json"),
            Attachment(f"{stem}.sig.json", signature, "application/json"),
        ]
        if pdf is not None:
            try:
                files.append(Attachment(f"receipt-{outcome.receipt_id}.pdf", pdf(), "application/pdf"))
            except Exception:  # the JSON receipt is the evidence; a PDF failure must not stop the email
                logger.exception("could not render the PDF of receipt %s", outcome.receipt_id)
        confirmation = render("ack_confirmation", context)
        messages.append(Message(outcome.recipient, confirmation, tuple(files), reply_to=outcome.reply_to or None))
        messages.append(Message(outcome.owner_email, render("owner_acknowledged", context)))
    else:
        messages.append(Message(outcome.owner_email, render("owner_disputed", context)))
    failed = mailer.send([m for m in messages if m.to])
    for to in failed:
        logger.warning("notification about receipt %s to %s failed", outcome.receipt_id, to)
    return failed
