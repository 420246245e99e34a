"""The ``ObjectStore`` protocol every backend implements, and the values it returns.

A write is streamed through an ``ObjectWriter``: every chunk is hashed (SHA-256) as it is written, and
``commit()`` makes the object durable and visible atomically, or raises and leaves nothing behind.
Objects are immutable once committed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

CHUNK_SIZE = 1024 * 1024


class StoreError(Exception):
    """The backend failed, or returned bytes other than those written."""


class ObjectMissing(StoreError):
    """No object under that key."""


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
