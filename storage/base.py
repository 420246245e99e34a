"""The ``ObjectStore`` protocol every backend implements, and the values it returns.

A write is streamed through an ``ObjectWriter``: every chunk is hashed (SHA-256) as it is written, and
``commit()`` makes the object durable and visible atomically, or raises and leaves nothing behind.
Objects are immutable once committed.

For the orphan audit a store also lists its objects with the time each was last written, says whether
retention protects one, deletes one on condition that nobody wrote it since a cutoff, and lists and
removes the temporary leftovers of writes that were interrupted (docs/storage.md, "Orphans and
temporary files").
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
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


class ObjectRetained(StoreError):
    """A delete was refused: retention or a legal hold protects the object."""

    def __init__(self, message: str, *, retention: Retention | None = None) -> None:
        super().__init__(message)
        #: What protects it, when the store could tell (a server refusal alone may not say).
        self.retention = retention


class ObjectRewritten(StoreError):
    """A conditional delete was refused: the object was written (or found by a write) after the cutoff."""

    def __init__(self, message: str, *, written: datetime) -> None:
        super().__init__(message)
        self.written = written


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


@dataclass(frozen=True, slots=True)
class ListedObject:
    """One committed object as a listing reports it."""

    key: str
    size: int
    #: When the object was last written, aware UTC. A write that finds the same bytes already stored
    #: counts as a write ("freshens" the object); on S3 that time is kept in a tag, which this listing
    #: does not read, so there it is the upload time only (``delete`` checks both).
    modified: datetime


@dataclass(frozen=True, slots=True)
class Retention:
    """What keeps an object from being deleted: S3 Object Lock retention and legal hold."""

    #: ``COMPLIANCE`` or ``GOVERNANCE``, or ``None`` when only a legal hold is set.
    mode: str | None
    #: End of the retention period (aware UTC), or ``None`` when only a legal hold is set.
    until: datetime | None
    #: A legal hold protects the object with no end date until someone lifts it.
    legal_hold: bool = False

    def in_force(self, now: datetime) -> bool:
        return self.legal_hold or (self.until is not None and self.until > now)

    def describe(self) -> str:
        parts = []
        if self.until is not None:
            parts.append(f"{self.mode or 'retention'} retention until {self.until.isoformat()}")
        if self.legal_hold:
            parts.append("a legal hold")
        return " and ".join(parts) or "no retention"


@dataclass(frozen=True, slots=True)
class TempFile:
    """A leftover of an interrupted write: never an object under a content key."""

    #: Where it is, for messages: ``tmp/write-x.part`` (local), ``vault/staging/<uuid>`` (S3).
    name: str
    #: Bytes, when the backend knows them (an incomplete multipart upload does not say).
    size: int | None
    #: Last write (local), upload time or multipart start (S3); aware UTC.
    modified: datetime
    #: What it is left over from, for messages: ``interrupted upload``, ``interrupted deletion``, ...
    what: str
    #: Backend-private handle (an S3 version or upload id); opaque to callers.
    ref: str = ""


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

    def list_objects(self) -> Iterator[ListedObject]:
        """Every committed object with its size and last write, streamed (paginated on S3)."""
        ...

    def retention(self, key: str) -> Retention | None:
        """What protects the object from deletion (in force or expired), or ``None`` when nothing is set.

        ``ObjectMissing`` when absent. A local folder has no retention: always ``None``.
        """
        ...

    def delete(self, key: str, *, unless_written_since: datetime | None = None) -> None:
        """Remove an object, every version of it (orphan clean-up).

        ``ObjectRetained`` when retention or a legal hold protects it, ``ObjectMissing`` when absent.
        With ``unless_written_since``, ``ObjectRewritten`` when the object was written, or found by a
        write of the same bytes, at or after that time; the check and the removal are ordered so that a
        write racing with this delete either is seen by the check or stores its bytes anew.
        """
        ...

    def stale_temp_files(self, older_than: datetime) -> Iterator[TempFile]:
        """Leftovers of interrupted writes last touched before ``older_than``."""
        ...

    def remove_temp_file(self, temp: TempFile) -> None:
        """Remove one leftover listed by ``stale_temp_files``.

        ``ObjectRewritten`` if it was written since it was listed (a writer is alive after all),
        ``ObjectMissing`` if it is gone, ``ObjectRetained`` if retention keeps it.
        """
        ...


def checked_chunks(chunks: Iterator[bytes], *, sha256_hex: str, where: str) -> Iterator[bytes]:
    """Pass ``chunks`` through, then raise ``StoreError`` if their SHA-256 is not ``sha256_hex``.

    Keys are content hashes, so every read can prove it returned the bytes that were written; a reader
    that consumes the whole stream learns of silent corruption at the end instead of never. An object of
    more than one chunk is hashed on a thread beside the reader (``storage/offload.py``), so a large copy
    does not pay for the check on its own core.
    """
    from storage.offload import hashing  # offload imports this module's errors

    digest = hashlib.sha256()
    first = next(chunks, None)
    if first is not None:
        digest.update(first)
        yield first
        second = next(chunks, None)
        if second is not None:
            with hashing([digest], name="store-sha256") as beside:
                beside.put(second)
                yield second
                for chunk in chunks:
                    beside.put(chunk)
                    yield chunk
    found = digest.hexdigest()
    if found != sha256_hex:
        raise ObjectCorrupt(f"object {where} is corrupt: expected SHA-256 {sha256_hex}, found {found}")
