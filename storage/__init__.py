"""Object-store backends behind one protocol: a local folder (default) and S3-compatible storage.

``storage`` never imports ``vault``; it has its own small error types which the domain maps.
"""

from __future__ import annotations

from storage.base import (
    CHUNK_SIZE,
    ListedObject,
    ObjectCorrupt,
    ObjectInfo,
    ObjectMissing,
    ObjectRetained,
    ObjectRewritten,
    ObjectStore,
    ObjectWriter,
    Retention,
    StoredObject,
    StoreError,
    TempFile,
    object_key,
)
from storage.factory import open_store

__all__ = [
    "CHUNK_SIZE",
    "ListedObject",
    "ObjectCorrupt",
    "ObjectInfo",
    "ObjectMissing",
    "ObjectRetained",
    "ObjectRewritten",
    "ObjectStore",
    "ObjectWriter",
    "Retention",
    "StoreError",
    "StoredObject",
    "TempFile",
    "object_key",
    "open_store",
]
