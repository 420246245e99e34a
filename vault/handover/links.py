"""Acknowledgment links: one secret token per recipient and receipt (``docs/receipts.md``, "Link security").

A token is 256 bits from ``secrets`` (base64url, 43 characters). It is looked up by its SHA-256 and
otherwise kept only sealed under the organization's key (``sealed_tokens.py``, for reminders), so neither
staff nor a database dump can read a live link. A link is bound to one recipient and one receipt,
expires (``OFFBOARD_ACK_LINK_DAYS``, default 14), is used once, and sending again voids every earlier
link of the receipt. URLs are built from ``OFFBOARD_BASE_URL`` only, never from a request's Host header.
The plain link is returned to the caller only when no SMTP server is configured, once, so a person can
deliver it by hand.

A token is in one of the states of ``LinkState``. Only ``UNKNOWN`` (malformed, or no link has its hash)
is a guess; a token that exists was drawn from 2^256 values and reached its holder by email, so telling
the holder that it was used, voided or expired tells a guesser nothing.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from vault.cases.lifecycle import CaseStatus, get_case, loads_list
from vault.clock import Clock, rfc3339, system_clock
from vault.config import Settings
from vault.db import Transact, Unit
from vault.errors import Conflict, InvalidInput, MailError
from vault.handover.receipts import ReceiptStatus, document_of, get_receipt
from vault.handover.sealed_tokens import seal_token
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.mail import EmailRenderer, Mailer, Message
from vault.models import Case, Organization, Receipt, ReceiptLink, new_id
from vault.orgs.branding import DEFAULT_ACCENT
from vault.orgs.organizations import Principal
from vault.states import LinkState as LinkState  # re-exported: a token's state is asked of this module

TOKEN_BYTES = 32
TOKEN_LENGTH = 43
#: The characters of an unpadded base64url token; anything else is refused before a database lookup.
TOKEN_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def new_token(random: Callable[[int], bytes] = secrets.token_bytes) -> str:
    return base64.urlsafe_b64encode(random(TOKEN_BYTES)).rstrip(b"=").decode("ascii")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def well_formed(token: str) -> bool:
    return len(token) == TOKEN_LENGTH and all(ch in TOKEN_ALPHABET for ch in token)


def link_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url.rstrip('/')}/ack/{token}"


def aware(moment: datetime) -> datetime:
    # SQLite hands datetimes back naive; every stored time is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class IssuedLink:
    """A new link. ``url`` carries the secret: it leaves the process by email, or once by hand."""

    link_id: str
    recipient: str
    url: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SendResult:
    receipt: Receipt
    #: ``smtp`` (emailed) or ``manual`` (no SMTP configured: ``manual_links`` must be delivered by hand).
    delivery: str
    recipients: tuple[str, ...]
    expires_at: datetime
    voided: tuple[str, ...]
    manual_links: tuple[IssuedLink, ...]
    ledger_index: int


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """A token's state and what its holder is told about it (``docs/receipts.md``, "Link security")."""

    state: LinkState
    #: Empty for ``UNKNOWN``.
    link_id: str = ""
    expires_at: datetime | None = None
    #: When a ``USED`` link answered, and how: ``acknowledged`` or ``disputed``.
    used_at: datetime | None = None
    answer: str = ""


UNKNOWN = LinkStatus(LinkState.UNKNOWN)


def lookup(session: Session, token: str, now: datetime) -> tuple[LinkStatus, ReceiptLink | None]:
    """The state of the link ``token`` names (``UNKNOWN`` if none) and, only when it is ``LIVE``, its row."""
    if not well_formed(token):
        return UNKNOWN, None  # refused before a database lookup
    # The link, its receipt and its case in one statement, so in one snapshot: under PostgreSQL's READ
    # COMMITTED two statements can straddle another answer's commit and see the link still live beside its
    # receipt already answered (which would read as voided, not as used).
    found = session.exec(
        select(ReceiptLink, Receipt, Case)
        .join(Receipt, col(Receipt.id) == col(ReceiptLink.receipt_id))
        .join(Case, col(Case.id) == col(Receipt.case_id))
        .where(ReceiptLink.token_hash == hash_token(token))
    ).first()
    if found is None:
        return UNKNOWN, None
    link, receipt, case = found
    expires = aware(link.expires_at)
    if link.status == LinkState.USED:
        used_at = aware(link.used_at) if link.used_at is not None else None
        return LinkStatus(LinkState.USED, link.id, expires, used_at, receipt.status), None
    # Closing a case voids its links (``void_case_links``); a link left live by a case closed before that
    # still opens nothing, since a closed case is immutable.
    closed = case.status == CaseStatus.FULLY_OFFBOARDED
    if link.status != LinkState.LIVE or receipt.status != ReceiptStatus.SENT or closed:
        return LinkStatus(LinkState.VOIDED, link.id, expires), None
    if expires <= now:
        return LinkStatus(LinkState.EXPIRED, link.id, expires), None
    return LinkStatus(LinkState.LIVE, link.id, expires), link


def live_link(session: Session, token: str, now: datetime) -> ReceiptLink | None:
    """The link ``token`` opens if it is ``LIVE``; ``None`` otherwise (``lookup`` says why)."""
    return lookup(session, token, now)[1]


def void_links(session: Session, receipt_id: str, now: datetime, *, keep: str | None = None) -> list[str]:
    """Void every live link of a receipt (except ``keep``); returns their ids."""
    query = select(ReceiptLink).where(ReceiptLink.receipt_id == receipt_id, ReceiptLink.status == LinkState.LIVE.value)
    voided = []
    for link in session.exec(query.order_by(col(ReceiptLink.created_at))).all():
        if link.id == keep:
            continue
        link.status, link.voided_at = LinkState.VOIDED.value, now
        session.add(link)
        voided.append(link.id)
    session.flush()
    return voided


def void_case_links(session: Session, case: Case, actor: str, now: datetime, *, reason: str) -> list[str]:
    """Void every live link of every receipt of ``case``, one ``receipt.links_voided`` per receipt that had
    any; returns the voided link ids. Closing a case calls it: a link must not outlive the case's end,
    even when a dispute later reopens the case."""
    query = select(Receipt.id).where(Receipt.case_id == case.id).order_by(col(Receipt.created_at))
    voided_all: list[str] = []
    for receipt_id in session.exec(query).all():
        voided = void_links(session, receipt_id, now)
        if voided:
            data = {"receipt": receipt_id, "voided": voided, "reason": reason}
            draft = EntryDraft("receipt.links_voided", case.organization_id, case.id, actor, data)
            log.append(session, draft, clock=lambda: now)
            voided_all.extend(voided)
    return voided_all


def claim_link(session: Session, link: ReceiptLink, now: datetime) -> bool:
    """Mark a live link used, atomically: of concurrent claims exactly one sees ``True``.

    A conditional UPDATE: on PostgreSQL the second writer waits for the first's row lock and then finds
    the status changed; on SQLite transactions are already serialized by ``BEGIN IMMEDIATE``.
    """
    result = session.execute(
        update(ReceiptLink)
        .where(col(ReceiptLink.id) == link.id, col(ReceiptLink.status) == LinkState.LIVE.value)
        .values(status=LinkState.USED.value, used_at=now)
    )
    session.expire(link)
    return bool(getattr(result, "rowcount", 0) == 1)


def issue_links(
    session: Session,
    settings: Settings,
    principal: Principal,
    receipt: Receipt,
    *,
    delivery: str,
    clock: Clock = system_clock,
    random: Callable[[int], bytes] = secrets.token_bytes,
) -> tuple[list[IssuedLink], list[str], int]:
    """Void the receipt's live links, make one per client contact, mark it sent, record ``receipt.sent``.

    Returns (new links, voided link ids, ledger index). Runs in the caller's transaction.
    """
    principal.can_write()
    if receipt.status in (ReceiptStatus.ACKNOWLEDGED, ReceiptStatus.DISPUTED):
        raise Conflict(f"receipt {receipt.id} is {receipt.status}; it cannot be sent again (issue a new receipt)")
    case = get_case(session, receipt.organization_id, receipt.case_id)
    if case.status == CaseStatus.FULLY_OFFBOARDED:
        raise Conflict(f"case {case.id} is fully_offboarded and immutable; its receipts cannot be sent")
    contacts = [str(c) for c in loads_list(case.client_contacts)]
    if not contacts:
        raise InvalidInput(
            f"case {case.id} has no client contacts to send the receipt to (offboard case contact add CASE EMAIL)"
        )
    now = clock()
    expires = now + timedelta(days=settings.ack_link_days)
    voided = void_links(session, receipt.id, now)
    issued = []
    for recipient in contacts:
        token = new_token(random)
        link_id = new_id()
        sealed, sealed_by = seal_token(session, settings, receipt.organization_id, link_id, token)
        link = ReceiptLink(
            id=link_id,
            organization_id=receipt.organization_id,
            receipt_id=receipt.id,
            recipient=recipient,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=expires,
            token_sealed=sealed,
            sealed_by=sealed_by,
        )
        session.add(link)
        issued.append(IssuedLink(link.id, recipient, link_url(settings, token), expires))
    receipt.status, receipt.sent_at = ReceiptStatus.SENT.value, now
    session.add(receipt)
    session.flush()
    data = {
        "receipt": receipt.id,
        "links": [{"id": i.link_id, "recipient": i.recipient} for i in issued],
        "expires_at": rfc3339(expires),
        "voided": voided,
        "delivery": delivery,
    }
    draft = EntryDraft("receipt.sent", receipt.organization_id, receipt.case_id, principal.actor, data)
    index = log.append(session, draft, clock=lambda: now).index
    return issued, voided, index


def _request_email(settings: Settings, org: Organization, receipt: Receipt, link: IssuedLink) -> dict[str, object]:
    document = document_of(receipt)
    return {
        "organization": org.name,
        "accent": org.accent_colour or DEFAULT_ACCENT,
        # Linked, not attached: the mail client fetches it from the public, hash-addressed route.
        "logo_url": f"{settings.base_url.rstrip('/')}/brand/logo/{org.logo_sha256}" if org.logo_sha256 else None,
        "client_name": document["case"]["client_name"],
        "case_id": receipt.case_id,
        "receipt_id": receipt.id,
        "recipient": link.recipient,
        "url": link.url,
        "expires_at": rfc3339(link.expires_at),
        "deliverables": document["deliverables"],
        "base_url": settings.base_url,
    }


def send_receipt(
    transact: Transact,
    settings: Settings,
    principal: Principal,
    receipt_id: str,
    *,
    mailer: Mailer | None,
    render: EmailRenderer,
    clock: Clock = system_clock,
    random: Callable[[int], bytes] = secrets.token_bytes,
) -> SendResult:
    """Issue fresh links and email each contact theirs; without a mailer, return the links once instead.

    The links and ``receipt.sent`` commit before any email leaves, so a mail never carries a link the
    database does not know. Links whose email the server refused are voided (``receipt.links_voided``)
    and ``MailError`` is raised naming the recipients.
    """
    delivery = "smtp" if mailer is not None else "manual"

    def issue(session: Unit) -> tuple[Receipt, list[IssuedLink], list[str], int, list[Message]]:
        receipt = get_receipt(session, principal.organization_id, receipt_id)
        issued, voided, index = issue_links(
            session, settings, principal, receipt, delivery=delivery, clock=clock, random=random
        )
        org = session.get(Organization, receipt.organization_id)
        assert org is not None  # noqa: S101 - foreign key
        messages = [
            Message(
                link.recipient,
                render("ack_request", _request_email(settings, org, receipt, link)),
                reply_to=org.reply_to,
            )
            for link in issued
        ]
        return receipt, issued, voided, index, messages

    # The mail goes out after the unit committed, outside any transaction: only its outcome is written.
    receipt, issued, voided, index, messages = transact(issue)
    expires = issued[0].expires_at
    if mailer is None:
        return SendResult(
            receipt, delivery, tuple(i.recipient for i in issued), expires, tuple(voided), tuple(issued), index
        )
    failed = set(mailer.send(messages))
    if failed:
        dead = [i.link_id for i in issued if i.recipient in failed]

        def void_undelivered(session: Unit) -> None:
            now = clock()
            for link in session.exec(select(ReceiptLink).where(col(ReceiptLink.id).in_(dead))).all():
                link.status, link.voided_at = LinkState.VOIDED.value, now
                session.add(link)
            data = {"receipt": receipt_id, "voided": dead, "reason": "email delivery failed"}
            draft = EntryDraft("receipt.links_voided", receipt.organization_id, receipt.case_id, principal.actor, data)
            log.append(session, draft, clock=lambda: now)

        transact(void_undelivered)
        raise MailError(
            f"the SMTP server did not accept the acknowledgment email for {', '.join(sorted(failed))}; "
            "those links were voided, send the receipt again",
            details={"failed_recipients": sorted(failed)},
        )
    return SendResult(receipt, delivery, tuple(i.recipient for i in issued), expires, tuple(voided), (), index)
