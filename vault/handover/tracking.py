"""Where each receipt of a case stands with each client contact, and voiding a sent receipt's links.

A contact's status comes from their newest link: ``sent`` (live, never opened), ``opened`` (live and
opened), ``acknowledged`` or ``disputed`` (the link that answered), ``voided`` or ``expired``. The
receipts and all their links are read in two queries, whatever the number of receipts.

Voiding (the console's "Void") ends every live link of a receipt that is not answered yet, as sending
again does, and records ``receipt.links_voided`` with the reason ``voided by staff``; the receipt can be
sent again later (fresh links) or replaced by a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from vault.cases.lifecycle import writable_case
from vault.clock import Clock, system_clock
from vault.errors import Conflict
from vault.handover.links import aware, void_links
from vault.handover.receipts import get_receipt, list_receipts
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.models import Receipt, ReceiptLink
from vault.orgs.organizations import Principal
from vault.states import LinkState, ReceiptStatus

VOIDED_BY_STAFF = "voided by staff"


@dataclass(frozen=True, slots=True)
class ContactStatus:
    recipient: str
    #: ``sent``, ``opened``, ``acknowledged``, ``disputed``, ``voided`` or ``expired``.
    status: str
    opened_count: int
    sent_at: datetime
    expires_at: datetime
    answered_at: datetime | None


#: A contact's statuses while their link can still be answered.
LIVE_CONTACT_STATUSES = frozenset({"sent", "opened"})


@dataclass(frozen=True, slots=True)
class TrackedReceipt:
    receipt: Receipt
    contacts: tuple[ContactStatus, ...]

    @property
    def has_live_link(self) -> bool:
        return any(c.status in LIVE_CONTACT_STATUSES for c in self.contacts)


def _contact_status(receipt: Receipt, link: ReceiptLink, now: datetime) -> ContactStatus:
    if link.status == LinkState.USED.value:
        status = receipt.status if receipt.status in (ReceiptStatus.ACKNOWLEDGED, ReceiptStatus.DISPUTED) else "used"
    elif link.status == LinkState.VOIDED.value:
        status = "voided"
    elif aware(link.expires_at) <= now:
        status = "expired"
    else:
        status = "opened" if link.opened_count else "sent"
    return ContactStatus(link.recipient, str(status), link.opened_count, link.created_at, link.expires_at, link.used_at)


def tracked_receipts(
    session: Session, organization_id: str, case_id: str, *, clock: Clock = system_clock
) -> list[TrackedReceipt]:
    """The case's receipts (``NotFound`` for another organization's case), each with its contacts' status."""
    rows = list_receipts(session, organization_id, case_id)
    ids = [r.id for r in rows]
    query = select(ReceiptLink).where(col(ReceiptLink.receipt_id).in_(ids)).order_by(col(ReceiptLink.created_at))
    newest: dict[tuple[str, str], ReceiptLink] = {}
    for link in session.exec(query).all() if ids else []:
        newest[(link.receipt_id, link.recipient)] = link  # later links replace earlier ones
    now = clock()
    tracked = []
    for row in rows:
        contacts = [_contact_status(row, link, now) for (rid, _), link in newest.items() if rid == row.id]
        tracked.append(TrackedReceipt(row, tuple(contacts)))
    return tracked


def void_receipt_links(session: Session, principal: Principal, receipt_id: str, *, clock: Clock = system_clock) -> int:
    """Void every live link of a sent, unanswered receipt; returns the ledger index of the entry."""
    principal.can_write()
    receipt = get_receipt(session, principal.organization_id, receipt_id)
    writable_case(session, receipt.organization_id, receipt.case_id)
    if receipt.status != ReceiptStatus.SENT:
        raise Conflict(f"receipt {receipt.id} is {receipt.status}; only a sent, unanswered receipt can be voided")
    now = clock()
    voided = void_links(session, receipt.id, now)
    if not voided:
        raise Conflict(f"receipt {receipt.id} has no live link to void")
    data = {"receipt": receipt.id, "voided": voided, "reason": VOIDED_BY_STAFF}
    draft = EntryDraft("receipt.links_voided", receipt.organization_id, receipt.case_id, principal.actor, data)
    return log.append(session, draft, clock=lambda: now).index
