"""A case's client contacts: the client's people who receive acknowledgment links (``docs/cases.md``,
"Contacts").

A case may be opened without contacts; they are added and removed later, each change a ledger entry
(``case.contact_added``, ``case.contact_removed``) carrying the contact and the full list after the change.
Emails are normalized like staff emails, so ``Ana@Client.example`` and ``ana@client.example`` are one
contact and the second is refused. Removing the last contact is allowed: a case may have none, exactly as
when it was opened without any, and sending a receipt then says so. A removed contact's live
acknowledgment links are voided in the same transaction, so they stop working at once.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, select

from vault.cases.lifecycle import MAX_CONTACTS, dumps_list, get_case, loads_list, record, writable_case
from vault.clock import Clock, system_clock
from vault.errors import Conflict, NotFound
from vault.models import Case, Receipt, ReceiptLink
from vault.orgs.organizations import Principal
from vault.orgs.staff import normalize_email
from vault.states import LinkState


def contacts_of(case: Case) -> list[str]:
    return [str(c) for c in loads_list(case.client_contacts)]


def list_contacts(session: Session, organization_id: str, case_id: str) -> list[str]:
    """The case's contact emails in the order they were added."""
    return contacts_of(get_case(session, organization_id, case_id))


def add_contact(
    session: Session, principal: Principal, case_id: str, *, email: str, clock: Clock = system_clock
) -> list[str]:
    """Add a client contact (a valid email, not already a contact); records ``case.contact_added``."""
    principal.can_write()
    case = writable_case(session, principal.organization_id, case_id)
    contact = normalize_email(email)
    contacts = contacts_of(case)
    if contact.lower() in {c.lower() for c in contacts}:
        raise Conflict(f"{contact} is already a contact of case {case.id}")
    if len(contacts) >= MAX_CONTACTS:
        raise Conflict(f"a case has at most {MAX_CONTACTS} client contacts; remove one first")
    contacts.append(contact)
    now = clock()
    data = {"contact": contact, "contacts": contacts}
    record(session, case, principal, "case.contact_added", data, lambda: now)
    case.client_contacts, case.updated_at = dumps_list(contacts), now
    session.add(case)
    session.flush()
    return contacts


def remove_contact(
    session: Session, principal: Principal, case_id: str, *, email: str, clock: Clock = system_clock
) -> list[str]:
    """Remove a client contact and void their live links; records ``case.contact_removed``."""
    principal.can_write()
    case = writable_case(session, principal.organization_id, case_id)
    wanted = email.strip().lower()
    contacts = contacts_of(case)
    found = next((c for c in contacts if c.lower() == wanted), None)
    if found is None:
        raise NotFound(f"{email.strip()!r} is not a contact of case {case.id}")
    contacts.remove(found)
    now = clock()
    voided = _void_links_of(session, case, found, clock=lambda: now)
    data = {"contact": found, "contacts": contacts, "links_voided": voided}
    record(session, case, principal, "case.contact_removed", data, lambda: now)
    case.client_contacts, case.updated_at = dumps_list(contacts), now
    session.add(case)
    session.flush()
    return contacts


def _void_links_of(session: Session, case: Case, recipient: str, *, clock: Clock) -> list[str]:
    """Void the live links of ``recipient`` for any receipt of ``case``; returns their ids."""
    receipts = select(Receipt.id).where(Receipt.case_id == case.id)
    live = select(ReceiptLink.id).where(
        col(ReceiptLink.receipt_id).in_(receipts),
        ReceiptLink.recipient == recipient,
        ReceiptLink.status == LinkState.LIVE.value,
    )
    ids = sorted(session.exec(live).all())
    if ids:
        session.execute(
            update(ReceiptLink)
            .where(col(ReceiptLink.id).in_(ids))
            .values(status=LinkState.VOIDED.value, voided_at=clock())
        )
    return ids
