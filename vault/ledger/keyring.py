"""An organization's checkpoint signing keys: creation, loading with safety checks, rotation.

The public half and validity window of every key are rows (``signing_key``); the private half is a 0600
file in the keys folder. A configured key whose file is missing, unreadable or open to group/others stops
the service: it never generates a silent replacement, since that would let the log speak with a key no
one pinned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from signing.errors import InvalidKey, SigningError
from signing.keys import Signer, Verifier, generate_key, load_private_key, save_private_key
from vault.clock import Clock, system_clock
from vault.config import Settings
from vault.errors import ConfigurationError, IntegrityFailure, NotFound
from vault.models import Organization, SigningKey


def origin_of(settings: Settings, org: Organization) -> str:
    """The checkpoint origin line: configured per organization, else ``<host of base_url>/<slug>``."""
    return org.origin or f"{settings.base_host}/{org.slug}"


@dataclass(frozen=True, slots=True)
class PublicKey:
    """One key's public record, as served at ``/.well-known/offboard/keys``."""

    name: str
    key_id: str
    vkey: str
    valid_from: datetime
    valid_until: datetime | None


def keys_of(session: Session, organization_id: str) -> list[SigningKey]:
    query = select(SigningKey).where(SigningKey.organization_id == organization_id)
    return list(session.exec(query.order_by(col(SigningKey.valid_from))).all())


def active_key(session: Session, organization_id: str) -> SigningKey:
    rows = [k for k in keys_of(session, organization_id) if k.valid_until is None]
    if not rows:
        raise NotFound("this organization has no signing key yet (run `offboard init`)")
    return rows[-1]


def verifier_of(key: SigningKey) -> Verifier:
    """The verifier of a stored key; a row that holds no valid public key is damage, not bad input."""
    try:
        return Verifier.from_public_key(key.name, bytes(key.public_key))
    except InvalidKey as exc:
        raise IntegrityFailure(f"stored signing key {key.key_id} is not a valid Ed25519 public key: {exc}") from exc


def verifiers(session: Session, organization_id: str) -> list[Verifier]:
    """Every key the organization ever signed with: old checkpoints keep verifying after rotation."""
    return [verifier_of(k) for k in keys_of(session, organization_id)]


def public_keys(session: Session, organization_id: str) -> list[PublicKey]:
    return [
        PublicKey(
            name=k.name,
            key_id=k.key_id,
            vkey=verifier_of(k).vkey(),
            valid_from=k.valid_from,
            valid_until=k.valid_until,
        )
        for k in keys_of(session, organization_id)
    ]


def _create(session: Session, settings: Settings, org: Organization, now: datetime) -> tuple[SigningKey, Signer]:
    signer = generate_key(origin_of(settings, org))
    folder = settings.resolved_keys_dir
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    file_name = f"{org.slug}-{signer.key_id.hex()}.key"
    try:
        save_private_key(folder / file_name, signer)
    except SigningError as exc:
        raise ConfigurationError(str(exc)) from exc
    row = SigningKey(
        organization_id=org.id,
        name=signer.name,
        key_id=signer.key_id.hex(),
        public_key=signer.public_key,
        file_name=file_name,
        valid_from=now,
    )
    session.add(row)
    session.flush()
    return row, signer


def ensure_key(session: Session, settings: Settings, org: Organization, *, clock: Clock = system_clock) -> SigningKey:
    """The organization's active key, creating the first one if it has none; pins the checkpoint origin."""
    rows = keys_of(session, org.id)
    key = active_key(session, org.id) if rows else _create(session, settings, org, clock())[0]
    if org.origin is None:
        # The origin the key was named for, kept: a base URL changed later (a new port, a proxy in front)
        # moves the links only, never the origin that the checkpoints already signed and verifiers expect.
        org.origin = rows[0].name if rows else key.name
        session.add(org)
    return key


def load_signer(settings: Settings, row: SigningKey) -> Signer:
    """The private key of ``row``; ``ConfigurationError`` when its file is missing, unsafe or not that key."""
    path = settings.resolved_keys_dir / row.file_name
    try:
        signer = load_private_key(path)
    except SigningError as exc:
        raise ConfigurationError(f"signing key {row.key_id} of the organization cannot be used: {exc}") from exc
    if signer.public_key != bytes(row.public_key) or signer.name != row.name:
        raise ConfigurationError(f"the key file {path} does not hold key {row.key_id} ({row.name})")
    return signer


def check_keys(session: Session, settings: Settings) -> None:
    """Load every organization's active key; raise on the first that is unusable (start-up check)."""
    for row in session.exec(select(SigningKey).where(col(SigningKey.valid_until).is_(None))).all():
        load_signer(settings, row)


def rotate(
    session: Session, settings: Settings, org: Organization, *, clock: Clock = system_clock
) -> tuple[SigningKey, SigningKey]:
    """Retire the active key and create a new one; returns (old, new). The caller records the ledger entry."""
    now = clock()
    old = active_key(session, org.id)
    old.valid_until = now
    session.add(old)
    new, _ = _create(session, settings, org, now)
    return old, new
