"""Sealing of webhook secrets at rest (``signing/sealing.py``: AES-256-GCM) under a key derived from a key file.

A webhook secret must be usable in the clear to sign each delivery, so it cannot be stored only as a hash.
It is sealed with a 32-byte key file ``webhooks.key`` kept beside the signing keys (the deployment's
secret material, mode 0600, created on first use); the endpoint's id is the associated data, so a sealed
secret copied onto another row does not open. A copy of the database alone reveals no secret.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
from pathlib import Path

from signing import sealing
from signing.errors import SealBroken
from vault.config import Settings
from vault.errors import ConfigurationError, IntegrityFailure

KEY_FILE = "webhooks.key"
_VERSION = "v1."
_INFO = b"offboard webhook secret sealing v1"


def _key_material(settings: Settings) -> bytes:
    """The key file's 32 bytes, created atomically (O_EXCL temp file, then a hard link) when missing."""
    folder = settings.resolved_keys_dir
    path = folder / KEY_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = folder / f".{KEY_FILE}.{secrets.token_hex(8)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, secrets.token_bytes(32))
            os.fsync(fd)
        finally:
            os.close(fd)
        # A link never replaces: when two processes race, the first file wins and both read it.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
        temporary.unlink()
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    raw = path.read_bytes()
    if len(raw) != 32:
        raise ConfigurationError(f"{path} must hold exactly 32 bytes; found {len(raw)}")
    return raw


def _key(settings: Settings) -> bytes:
    return sealing.derive_key(_key_material(settings), _INFO)


def seal(settings: Settings, secret: str, *, bound_to: str) -> str:
    """``v1.`` + base64(nonce || ciphertext) of ``secret``, bound to ``bound_to`` (the endpoint id)."""
    sealed = sealing.seal(_key(settings), secret.encode("utf-8"), bound_to.encode("utf-8"))
    return _VERSION + base64.b64encode(sealed).decode("ascii")


def unseal(settings: Settings, sealed: str, *, bound_to: str) -> str:
    """The secret sealed by ``seal``; ``IntegrityFailure`` if the key file or the row changed."""
    if not sealed.startswith(_VERSION):
        raise IntegrityFailure(f"webhook secret of endpoint {bound_to} is not sealed in format v1")
    raw = base64.b64decode(sealed[len(_VERSION) :])
    try:
        plain = sealing.unseal(_key(settings), raw, bound_to.encode("utf-8"))
    except SealBroken:
        raise IntegrityFailure(
            f"webhook secret of endpoint {bound_to} does not open with {KEY_FILE}: the key file or the row changed"
        ) from None
    return plain.decode("utf-8")
