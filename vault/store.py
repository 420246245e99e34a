"""The object store a deployment's settings name (``OFFBOARD_STORAGE_URL``)."""

from __future__ import annotations

from storage import open_store
from storage.base import ObjectStore, StoreError
from vault.config import Settings
from vault.errors import ConfigurationError


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
