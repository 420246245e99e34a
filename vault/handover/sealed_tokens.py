"""Acknowledgment-link tokens sealed at rest, so a reminder carries the very link the first email had
(``docs/receipts.md``, "Reminders carry the same link").

A token is looked up by its SHA-256 only (``links.py``); beside the hash it is sealed (AES-256-GCM) under a
key derived from the organization's active signing key, bound to the link's id. The key files live outside
the database, so a dump still opens no link; a rotated key keeps its file, so older seals still open.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from signing.errors import SealBroken
from signing.sealing import seal, sealing_key, unseal
from vault.config import Settings
from vault.errors import IntegrityFailure
from vault.ledger.keyring import active_key, load_signer
from vault.models import ReceiptLink, SigningKey

#: The HKDF purpose: a key derived for link tokens opens nothing else.
PURPOSE = b"offboard/receipt-link-token/v1"


def seal_token(
    session: Session, settings: Settings, organization_id: str, link_id: str, token: str
) -> tuple[bytes, str]:
    """(the sealed token, the key id it is sealed under) for the link ``link_id``."""
    row = active_key(session, organization_id)
    key = sealing_key(load_signer(settings, row), PURPOSE)
    return seal(key, token.encode("ascii"), link_id.encode("ascii")), row.key_id


def open_token(session: Session, settings: Settings, link: ReceiptLink) -> str | None:
    """The plain token of ``link``; ``None`` for a link made before tokens were sealed (migration 0012)."""
    if link.token_sealed is None or link.sealed_by is None:
        return None
    query = select(SigningKey).where(
        col(SigningKey.organization_id) == link.organization_id, col(SigningKey.key_id) == link.sealed_by
    )
    row = session.exec(query).first()
    if row is None:
        raise IntegrityFailure(f"link {link.id} is sealed under key {link.sealed_by}, which the organization lacks")
    key = sealing_key(load_signer(settings, row), PURPOSE)
    try:
        return unseal(key, bytes(link.token_sealed), link.id.encode("ascii")).decode("ascii")
    except SealBroken as exc:
        raise IntegrityFailure(f"the sealed token of link {link.id} does not open: {exc}") from exc
