"""The object store a deployment's settings name (``OFFBOARD_STORAGE_URL``), and where its errors cross.

``storage/`` never imports ``vault``, so its failures are ``StoreError``s; domain code calls the store
inside ``store_errors`` (or catches a ``StoreError`` subclass it has a meaning for) so that only
``OffboardError``s leave the domain.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from storage import open_store
from storage.base import ObjectStore, StoreError
from vault.config import Settings
from vault.errors import ConfigurationError, StorageError


def store_from_settings(settings: Settings) -> ObjectStore:
    try:
        return open_store(
            settings.resolved_storage_url,
            endpoint_url=settings.s3_endpoint_url,
            object_lock_days=settings.s3_object_lock_days,
            multipart_threshold=settings.s3_multipart_threshold,
        )
    except StoreError as exc:
        raise ConfigurationError(f"cannot open the object store {settings.resolved_storage_url}: {exc}") from exc


@contextmanager
def store_errors(doing: str) -> Iterator[None]:
    """Re-raise a ``StoreError`` from the block as ``StorageError("<doing>: <why>")``."""
    try:
        yield
    except StoreError as exc:
        raise StorageError(f"{doing}: {exc}") from exc
