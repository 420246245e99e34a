"""Sealing short secrets at rest: AES-256-GCM (NIST SP 800-38D) under a key derived with HKDF-SHA256
(RFC 5869) from a signer's Ed25519 seed.

Used for acknowledgment-link tokens, which are stored hashed for lookup and sealed so that a reminder can
carry the same link (``docs/receipts.md``, "Reminders carry the same link"). The derived key never leaves
memory; a database dump without the key files opens nothing. The ``purpose`` is the HKDF info, so a key
derived for one use never opens another's seals; the associated data binds a seal to its row.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from signing.errors import SealBroken
from signing.keys import Signer

NONCE_SIZE = 12


def derive_key(material: bytes, purpose: bytes) -> bytes:
    """A 256-bit key for ``purpose``, derived from secret ``material`` (HKDF-SHA256, no salt)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(material)


def sealing_key(signer: Signer, purpose: bytes) -> bytes:
    """A 256-bit key for ``purpose``, derived from the signer's seed."""
    return derive_key(signer.seed, purpose)


def seal(
    key: bytes, plaintext: bytes, associated: bytes, *, random: Callable[[int], bytes] = secrets.token_bytes
) -> bytes:
    """``nonce || ciphertext || tag``; a fresh random 96-bit nonce per seal."""
    nonce = random(NONCE_SIZE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, associated)


def unseal(key: bytes, sealed: bytes, associated: bytes) -> bytes:
    """The plaintext of ``seal``; ``SealBroken`` when the key, the data or the associated data differ."""
    if len(sealed) < NONCE_SIZE + 16:
        raise SealBroken(f"expected at least {NONCE_SIZE + 16} sealed bytes, found {len(sealed)}")
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], associated)
    except InvalidTag:
        raise SealBroken("the seal does not open with this key and associated data") from None
