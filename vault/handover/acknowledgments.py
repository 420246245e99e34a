"""The client's side of a receipt: opening the link, acknowledging (countersigned), or disputing.

Opening (GET or HEAD) records ``receipt.opened`` and nothing else: mail scanners fetch links. Only a POST
acknowledges or disputes. The acknowledgment block (UTC time, client IP, user agent, typed name, the hash
of exactly what was shown, the link id) is countersigned together with the receipt by the organization's
key; ``receipt.acknowledged`` and ``receipt.countersigned`` enter the ledger in the same transaction as
the rows, followed by ``step.completed`` for each step the acknowledgment completes (the client's
confirmation, ``vault/cases/acknowledged_steps.py``). Exactly one acknowledgment per receipt: the link
is claimed by a conditional UPDATE and the acknowledgment row is unique per receipt. Emails go out after
the commit (``answer_mail.notify``).

A token that does not open a live link gets its ``LinkStatus`` back instead of a view or an outcome, so
the page can say why (used, voided, expired) or treat it as a guess (unknown).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from signing.detached import DetachedSignature
from vault.cases import gate
from vault.cases.acknowledged_steps import complete_by_acknowledgment
from vault.cases.lifecycle import CaseStatus
from vault.clock import Clock, system_clock
from vault.config import Settings
from vault.db import Transact, Unit
from vault.errors import InvalidInput
from vault.handover.countersigning import acknowledgment_block, countersign, countersigned_entry, seal
from vault.handover.links import LinkStatus, claim_link, live_link, lookup, void_links
from vault.handover.receipts import ReceiptStatus, SignedDocument, document_of, shown_digest
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.models import Acknowledgment, Case, Organization, Receipt, ReceiptLink
from vault.orgs.organizations import Principal, Role

MAX_NAME = 200
MAX_REASON = 4000
MAX_USER_AGENT = 1000
#: ``receipt.opened`` entries per link; later opens are only counted (a token holder cannot flood the log).
MAX_OPEN_ENTRIES = 20


@dataclass(frozen=True, slots=True)
class ClientMeta:
    """Where a request came from: the address (after trusted-proxy handling) and the user agent."""

    ip: str
    user_agent: str


@dataclass(frozen=True, slots=True)
class LinkView:
    """What the acknowledgment page shows for one live link."""

    link_id: str
    recipient: str
    receipt_id: str
    organization: str
    document: dict[str, Any]
    shown_sha256: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of a POST: what was recorded, and the emails to send after the commit."""

    #: ``ACKNOWLEDGED`` or ``DISPUTED``: the status the answer gave the receipt.
    kind: ReceiptStatus
    receipt_id: str
    recipient: str
    at: datetime
    ledger_index: int
    document: dict[str, Any]
    #: Countersigned bytes and detached signature (acknowledgments only).
    countersigned: bytes = b""
    countersignature: DetachedSignature | None = None
    owner_email: str = ""
    organization: str = ""
    reason: str = ""
    #: The organization's Reply-To for the client's confirmation email (its branding), if it set one.
    reply_to: str = ""


def _view(session: Session, link: ReceiptLink) -> LinkView:
    receipt = session.get(Receipt, link.receipt_id)
    org = session.get(Organization, link.organization_id)
    assert receipt is not None and org is not None  # noqa: S101 - foreign keys
    document = document_of(receipt)
    return LinkView(link.id, link.recipient, receipt.id, org.name, document, shown_digest(document), link.expires_at)


def token_status(session: Session, token: str, *, clock: Clock = system_clock) -> LinkStatus:
    """The state of the link ``token`` names, without recording anything."""
    return lookup(session, token, clock())[0]


def view_link(session: Session, token: str, *, clock: Clock = system_clock) -> LinkView | LinkStatus:
    """The page data of a live link without recording anything (downloads), or why it is not live."""
    status, link = lookup(session, token, clock())
    return _view(session, link) if link is not None else status


def open_link(
    session: Session, token: str, *, method: str, meta: ClientMeta, clock: Clock = system_clock
) -> LinkView | LinkStatus:
    """GET or HEAD of a link: record ``receipt.opened`` and return the page data, or why it is not live.

    Runs in the caller's unit of work."""
    now = clock()
    status, link = lookup(session, token, now)
    if link is None:
        return status
    session.execute(
        update(ReceiptLink).where(col(ReceiptLink.id) == link.id).values(opened_count=col(ReceiptLink.opened_count) + 1)
    )
    session.refresh(link)
    if link.opened_count <= MAX_OPEN_ENTRIES:
        receipt = session.get(Receipt, link.receipt_id)
        assert receipt is not None  # noqa: S101 - foreign key
        data = {
            "receipt": link.receipt_id,
            "link": link.id,
            "method": method.upper(),
            "ip": meta.ip,
            "user_agent": meta.user_agent[:MAX_USER_AGENT],
            "count": link.opened_count,
        }
        actor = f"client:{link.recipient}"
        draft = EntryDraft("receipt.opened", link.organization_id, receipt.case_id, actor, data)
        log.append(session, draft, clock=lambda: now)
    return _view(session, link)


def _checked_shown(view_digest: str, shown_sha256: str) -> None:
    if shown_sha256 != view_digest:
        raise InvalidInput(
            "the page you answered is not the current receipt (its item list hash differs); reload and try again"
        )


class _LostClaim(Exception):  # noqa: N818 - private control flow, never leaves this module
    """Another answer claimed the link or its receipt first; raised to roll this transaction back."""


def _lost(transact: Transact, token: str, clock: Clock) -> LinkStatus:
    # The state after the winner committed: ``used`` (a double click, a retry, a second tab) or ``voided``
    # (another contact answered first). Losing this race is not a refused answer and is never counted.
    return transact(lambda session: token_status(session, token, clock=clock))


@dataclass(frozen=True, slots=True)
class _Claimed:
    """A link and its receipt claimed for one answer, at ``now``, in the answering transaction."""

    link: ReceiptLink
    receipt: Receipt
    case: Case
    now: datetime

    @property
    def actor(self) -> str:
        return f"client:{self.link.recipient}"


def _claim(session: Session, token: str, now: datetime, answer: ReceiptStatus) -> _Claimed | None:
    link = live_link(session, token, now)
    if link is None or not claim_link(session, link, now):
        return None
    receipt = session.get(Receipt, link.receipt_id)
    case = session.get(Case, receipt.case_id) if receipt is not None else None
    if receipt is None or case is None:  # pragma: no cover - foreign keys
        return None
    # One answer per receipt, even when two recipients answer at once: the receipt row is claimed by a
    # conditional UPDATE too, which writes the answer itself, so no value outside ``ReceiptStatus`` is
    # ever stored, not even for the moment between the claim and the rest of this transaction.
    result = session.execute(
        update(Receipt)
        .where(col(Receipt.id) == receipt.id, col(Receipt.status) == ReceiptStatus.SENT.value)
        .values(status=answer.value, closed_at=now)
    )
    if getattr(result, "rowcount", 0) != 1:
        return None
    session.refresh(receipt)
    return _Claimed(link, receipt, case, now)


def _claim_answer(
    session: Session, token: str, shown_sha256: str, answer: ReceiptStatus, clock: Clock
) -> _Claimed | LinkStatus:
    """The opening both answers share: the link is still live and the page answered is its receipt's; then
    the link and the receipt are claimed for ``answer``, or ``_LostClaim`` rolls the transaction back."""
    view = view_link(session, token, clock=clock)
    if isinstance(view, LinkStatus):
        return view
    _checked_shown(view.shown_sha256, shown_sha256)
    claimed = _claim(session, token, clock(), answer)
    if claimed is None:
        raise _LostClaim
    return claimed


def _organization_name(session: Session, receipt: Receipt) -> str:
    org = session.get(Organization, receipt.organization_id)
    return org.name if org else ""


def _reply_to(session: Session, receipt: Receipt) -> str:
    org = session.get(Organization, receipt.organization_id)
    return (org.reply_to or "") if org else ""


def _acknowledgment(claimed: _Claimed, name: str, shown_sha256: str, meta: ClientMeta) -> Acknowledgment:
    """The acknowledgment row, its signature fields still empty (they sign a block that names its id)."""
    return Acknowledgment(
        organization_id=claimed.receipt.organization_id,
        receipt_id=claimed.receipt.id,
        link_id=claimed.link.id,
        recipient=claimed.link.recipient,
        acknowledged_at=claimed.now,
        ip=meta.ip[:64],
        user_agent=meta.user_agent[:MAX_USER_AGENT],
        typed_name=name,
        shown_sha256=shown_sha256,
        document=b"",
        sha256="",
        signature=b"",
        key_id="",
        key_name="",
    )


def _log_acknowledgment(
    session: Session, claimed: _Claimed, block: dict[str, Any], ack: Acknowledgment, counter: SignedDocument
) -> int:
    """``receipt.acknowledged`` (the block without the consent text) then ``receipt.countersigned``; the
    index of the second."""
    org_id, case_id, now = claimed.receipt.organization_id, claimed.case.id, claimed.now
    acked = {k: v for k, v in block.items() if k != "consent"}
    log.append(session, EntryDraft("receipt.acknowledged", org_id, case_id, claimed.actor, acked), clock=lambda: now)
    draft = EntryDraft("receipt.countersigned", org_id, case_id, "system:offboard", countersigned_entry(ack, counter))
    return log.append(session, draft, clock=lambda: now).index


def acknowledge(
    transact: Transact,
    settings: Settings,
    token: str,
    *,
    name: str,
    consent: bool,
    shown_sha256: str,
    meta: ClientMeta,
    clock: Clock = system_clock,
) -> Outcome | LinkStatus:
    """Record the acknowledgment and countersign it; the link's status when it is not (or no longer) live.

    ``InvalidInput`` for a missing name or consent, or when the page answered is not this receipt's.
    """
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"type your full name (1 to {MAX_NAME} characters) to acknowledge")
    if not consent:
        raise InvalidInput("tick the confirmation box to acknowledge the receipt")

    def work(session: Unit) -> Outcome | LinkStatus:
        claimed = _claim_answer(session, token, shown_sha256, ReceiptStatus.ACKNOWLEDGED, clock)
        if isinstance(claimed, LinkStatus):
            return claimed
        link, receipt, now = claimed.link, claimed.receipt, claimed.now
        document = document_of(receipt)
        ack = _acknowledgment(claimed, name, shown_sha256, meta)
        block = acknowledgment_block(ack)
        counter = countersign(session, settings, receipt, document, block)
        seal(ack, counter)
        session.add_all([ack, receipt])
        session.flush()
        void_links(session, receipt.id, now, keep=link.id)
        ack.ledger_index = _log_acknowledgment(session, claimed, block, ack, counter)
        session.add(ack)
        complete_by_acknowledgment(session, claimed.case, receipt=receipt, acknowledgment=ack, now=now)
        return Outcome(
            ReceiptStatus.ACKNOWLEDGED,
            receipt.id,
            link.recipient,
            now,
            ack.ledger_index,
            document,
            counter.body,
            counter.detached,
            claimed.case.owner_email,
            _organization_name(session, receipt),
            reply_to=_reply_to(session, receipt),
        )

    try:
        return transact(work)
    except (_LostClaim, IntegrityError):
        # IntegrityError: the unique acknowledgment per receipt caught a race the conditional updates did not.
        return _lost(transact, token, clock)


def dispute(
    transact: Transact,
    token: str,
    *,
    reason: str,
    shown_sha256: str,
    meta: ClientMeta,
    clock: Clock = system_clock,
) -> Outcome | LinkStatus:
    """The client disputes the receipt: record ``receipt.disputed`` and move the case to ``disputed``."""
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise InvalidInput(f"a dispute needs a reason of 1 to {MAX_REASON} characters")

    def work(session: Unit) -> Outcome | LinkStatus:
        claimed = _claim_answer(session, token, shown_sha256, ReceiptStatus.DISPUTED, clock)
        if isinstance(claimed, LinkStatus):
            return claimed
        link, receipt, case, now = claimed.link, claimed.receipt, claimed.case, claimed.now
        receipt.dispute_reason = reason  # status and closed_at were written by the claim
        session.add(receipt)
        session.flush()
        void_links(session, receipt.id, now, keep=link.id)
        data = {
            "receipt": receipt.id,
            "link": link.id,
            "recipient": link.recipient,
            "reason": reason,
            "ip": meta.ip[:64],
            "user_agent": meta.user_agent[:MAX_USER_AGENT],
            "shown_sha256": shown_sha256,
        }
        draft = EntryDraft("receipt.disputed", receipt.organization_id, case.id, claimed.actor, data)
        index = log.append(session, draft, clock=lambda: now).index
        if case.status != CaseStatus.DISPUTED:
            client = Principal(receipt.organization_id, Role.MEMBER, claimed.actor)
            text = f"The client ({link.recipient}) disputed receipt {receipt.id}: {reason}"
            gate.dispute(session, client, case.id, reason=text, clock=lambda: now)
        return Outcome(
            ReceiptStatus.DISPUTED,
            receipt.id,
            link.recipient,
            now,
            index,
            document_of(receipt),
            owner_email=case.owner_email,
            organization=_organization_name(session, receipt),
            reason=reason,
        )

    try:
        return transact(work)
    except _LostClaim:
        return _lost(transact, token, clock)
