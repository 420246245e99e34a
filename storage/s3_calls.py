"""Calling S3 through botocore: one readable ``StoreError`` for every failure, and version ids."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from storage.base import ObjectMissing, StoreError

#: Where multipart uploads are staged under the store's prefix until their hash is known.
STAGING = "staging/"
MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound", "NoSuchVersion", "NoSuchUpload"})


def version_of(value: object) -> str | None:
    """A usable version id: unversioned buckets answer the literal string ``"null"``."""
    return str(value) if value and value != "null" else None


def utc_now() -> datetime:
    return datetime.now(UTC)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "unknown"))


def store_error(exc: Exception, action: str, where: str) -> StoreError:
    """One readable ``StoreError`` (or ``ObjectMissing``) for any botocore failure."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error_code(exc)
        message = str(error.get("Message", "")).strip()
        if code in MISSING_CODES:
            return ObjectMissing(f"no object {where}")
        if code == "NoSuchBucket":
            return StoreError(f"S3 {action} failed: expected an existing bucket for {where}, found none")
        return StoreError(f"S3 {action} of {where} failed: {code}{': ' + message if message else ''}")
    return StoreError(f"S3 {action} of {where} failed: {exc}")


@contextlib.contextmanager
def s3_call(action: str, where: str) -> Iterator[None]:
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise store_error(exc, action, where) from exc
