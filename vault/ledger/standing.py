"""What the console's ledger page shows: the latest checkpoint, the keys that verify it, its RFC 3161
anchor, and "was this file ever stored, and where is it proven" (the evidence with a given SHA-256).

Everything is read inside one organization; another organization's checkpoints, keys, timestamps and
evidence are never looked at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from vault.errors import InvalidInput
from vault.ledger import keyring, log
from vault.ledger.publish import latest_checkpoint
from vault.models import Case, Checkpoint, Evidence, TimestampToken

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class TimestampStatus:
    """The newest RFC 3161 token over one of the organization's checkpoints."""

    #: Size of the checkpoint the token covers (it may be older than the latest checkpoint).
    checkpoint_size: int
    gen_time: datetime
    tsa_url: str


@dataclass(frozen=True, slots=True)
class LedgerStanding:
    """The log of one organization as of one read."""

    #: Committed entries.
    size: int
    #: The latest signed checkpoint, or ``None`` before the first one is signed.
    checkpoint: Checkpoint | None
    keys: tuple[keyring.PublicKey, ...]
    #: Whether this deployment anchors checkpoints with a timestamp authority (``OFFBOARD_TSA_URL``).
    anchoring: bool
    timestamp: TimestampStatus | None


@dataclass(frozen=True, slots=True)
class StoredCopy:
    """One evidence item whose bytes have the SHA-256 asked about, and where the log records it."""

    evidence_id: str
    case_id: str
    client_name: str
    filename: str
    size: int
    stored_at: datetime
    #: Index of its ``evidence.stored`` entry in the organization's log.
    ledger_index: int | None


def parse_sha256(text: str) -> str:
    """A SHA-256 as 64 lower-case hex digits (spaces around it and upper case are accepted)."""
    value = text.strip().lower()
    if not _SHA256_HEX.match(value):
        raise InvalidInput(f"a SHA-256 is 64 hexadecimal digits; got {len(value)} characters")
    return value


def _latest_timestamp(session: Session, organization_id: str) -> TimestampStatus | None:
    query = (
        select(TimestampToken, Checkpoint.size)
        .join(Checkpoint, col(Checkpoint.id) == col(TimestampToken.checkpoint_id))
        .where(Checkpoint.organization_id == organization_id)
        .order_by(col(TimestampToken.gen_time).desc(), col(TimestampToken.id).desc())
    )
    row = session.exec(query).first()
    if row is None:
        return None
    token, size = row
    return TimestampStatus(checkpoint_size=size, gen_time=token.gen_time, tsa_url=token.tsa_url)


def ledger_standing(session: Session, organization_id: str, *, anchoring: bool) -> LedgerStanding:
    return LedgerStanding(
        size=log.size(session, organization_id),
        checkpoint=latest_checkpoint(session, organization_id),
        keys=tuple(keyring.public_keys(session, organization_id)),
        anchoring=anchoring,
        timestamp=_latest_timestamp(session, organization_id),
    )


def stored_copies(session: Session, organization_id: str, sha256: str) -> list[StoredCopy]:
    """Every evidence item of the organization with these bytes, oldest first."""
    digest = parse_sha256(sha256)
    query = (
        select(Evidence, Case.client_name)
        .join(Case, col(Case.id) == col(Evidence.case_id))
        .where(Evidence.organization_id == organization_id, Evidence.sha256 == digest)
        .order_by(col(Evidence.stored_at), col(Evidence.id))
    )
    return [
        StoredCopy(
            evidence_id=row.id,
            case_id=row.case_id,
            client_name=client_name,
            filename=row.original_filename,
            size=row.size,
            stored_at=row.stored_at,
            ledger_index=row.ledger_index,
        )
        for row, client_name in session.exec(query).all()
    ]
