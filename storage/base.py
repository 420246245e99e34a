"""The ``ObjectStore`` protocol every backend implements, and the values it returns.

A write is streamed through an ``ObjectWriter``: every chunk is hashed (SHA-256) as it is written, and
``commit()`` makes the object durable and visible atomically, or raises and leaves nothing behind.
Objects are immutable once committed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

CHUNK_SIZE = 1024 * 1024

# Content key: ``sha256/<first 2 hex>/<next 2 hex>/<full hex>``; the two fan-out levels keep folders small.
_KEY_RE = re.compile(r"sha256/([0-9a-f]{2})/([0-9a-f]{2})/(\1\2[0-9a-f]{60})")
_HEX_RE = re.compile(r"[0-9a-f]{64}")


class StoreError(Exception):
    """The backend failed, or returned bytes other than those written."""


class ObjectMissing(StoreError):
    """No object under that key."""


class ObjectCorrupt(StoreError):
    """The object's bytes do not hash to its content key."""


def object_key(sha256_hex: str) -> str:
    """The content key of an object whose lower-case hex SHA-256 is ``sha256_hex``."""
    if not _HEX_RE.fullmatch(sha256_hex):
        raise StoreError(f"expected a lower-case hex SHA-256 (64 characters), found {sha256_hex!r}")
    return f"sha256/{sha256_hex[:2]}/{sha256_hex[2:4]}/{sha256_hex}"


def key_sha256(key: str) -> str:
    """The SHA-256 hex named by a content key; ``StoreError`` for anything that is not one.

    Stores call this before touching a key, so a caller-supplied key can never reach outside the store
    (no ``..``, no absolute paths, no staging or temporary objects).
    """
    match = _KEY_RE.fullmatch(key)
    if match is None:
        raise StoreError(f"expected a content key 'sha256/<2 hex>/<2 hex>/<64 hex>', found {key!r}")
    return match.group(3)


def is_object_key(key: str) -> bool:
    """Whether ``key`` has the content-key layout (used when listing)."""
    return _KEY_RE.fullmatch(key) is not None


@dataclass(frozen=True, slots=True)
class StoredObject:
    """What a committed write produced."""

    #: Backend key, server-generated; never derived from a user-supplied name.
    key: str
    #: Lower-case hex SHA-256 of the bytes.
    sha256: str
    #: Size in bytes.
    size: int
    #: S3 version id when the bucket is versioned, else ``None``.
    version_id: str | None = None


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What the store says about an object without reading it."""

    key: str
    size: int
    version_id: str | None = None


@runtime_checkable
class ObjectWriter(Protocol):
    """One streamed write in progress."""

    @property
    def size(self) -> int:
        """Bytes written so far."""
        ...

    def write(self, chunk: bytes) -> None:
        """Hash and write ``chunk``."""
        ...

    def commit(self) -> StoredObject:
        """Make the object durable and visible; verify its SHA-256; raise ``StoreError`` on any failure."""
        ...

    def abort(self) -> None:
        """Discard everything written; idempotent, never raises."""
        ...


@runtime_checkable
class ObjectStore(Protocol):
    """A place objects are written once and read many times."""

    #: ``file:///...`` or ``s3://bucket/prefix``: where this store writes, for messages and audit.
    url: str

    def writer(self) -> ObjectWriter:
        """Start a streamed write."""
        ...

    def open(self, key: str) -> Iterator[bytes]:
        """Stream the object's bytes in chunks; ``ObjectMissing`` when absent."""
        ...

    def stat(self, key: str) -> ObjectInfo | None:
        """Size and version of the object, or ``None`` when absent."""
        ...

    def keys(self) -> Iterator[str]:
        """Every committed object key (no temporary or staging objects)."""
        ...

    def delete(self, key: str) -> None:
        """Remove an object (used to clean up orphans; may be refused by retention)."""
        ...


def checked_chunks(chunks: Iterator[bytes], *, sha256_hex: str, where: str) -> Iterator[bytes]:
    """Pass ``chunks`` through, then raise ``StoreError`` if their SHA-256 is not ``sha256_hex``.

    Keys are content hashes, so every read can prove it returned the bytes that were written; a reader
    that consumes the whole stream learns of silent corruption at the end instead of never.
    """
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
        yield chunk
    found = digest.hexdigest()
    if found != sha256_hex:
        raise ObjectCorrupt(f"object {where} is corrupt: expected SHA-256 {sha256_hex}, found {found}")
