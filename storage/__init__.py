"""Object-store backends behind one protocol: a local folder (default) and S3-compatible storage.

``storage`` never imports ``vault``; it has its own small error types which the domain maps.
"""

from __future__ import annotations

from storage.base import (
    CHUNK_SIZE,
    ObjectCorrupt,
    ObjectInfo,
    ObjectMissing,
    ObjectStore,
    ObjectWriter,
    StoredObject,
    StoreError,
    object_key,
)
from storage.factory import open_store

__all__ = [
    "CHUNK_SIZE",
    "ObjectCorrupt",
    "ObjectInfo",
    "ObjectMissing",
    "ObjectStore",
    "ObjectWriter",
    "StoreError",
    "StoredObject",
    "object_key",
    "open_store",
]
