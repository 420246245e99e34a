"""``open_store(url)``: the one place a storage URL becomes a backend.

``file:///absolute/path`` opens a local folder; ``s3://bucket/prefix`` an S3-compatible bucket. Nothing
is contacted here: the first read or write reports an unreachable server or a missing bucket.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from storage.base import ObjectStore, StoreError
from storage.local import LocalStore

_EXPECTED = "expected file:///absolute/path or s3://bucket/prefix"
#: ``storage.s3.DEFAULT_MULTIPART_THRESHOLD``, repeated so that a local folder never imports boto3 (about
#: 0.4 s of every ``offboard`` command; tests/unit/test_cli_imports.py holds the two equal).
DEFAULT_MULTIPART_THRESHOLD = 16 * 1024 * 1024


def open_store(
    url: str,
    *,
    endpoint_url: str | None = None,
    object_lock_days: int | None = None,
    multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
) -> ObjectStore:
    """The store named by ``url``; ``StoreError`` for any other form of URL.

    ``endpoint_url``, ``object_lock_days`` and ``multipart_threshold`` apply to ``s3://`` only; Object
    Lock on a local folder is refused rather than silently ignored, since it would promise WORM storage
    that a folder cannot give.
    """
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
            raise StoreError(f"{_EXPECTED}, found {url!r} (a file URL names no host, query or fragment)")
        path = Path(unquote(parts.path))
        if not path.is_absolute() or ".." in path.parts:
            raise StoreError(f"{_EXPECTED}, found {url!r} (the path must be absolute, without '..')")
        if object_lock_days is not None:
            raise StoreError(f"object lock days apply to s3:// stores only, found them set for {url!r}")
        return LocalStore(path)
    if parts.scheme == "s3":
        if not parts.netloc or parts.query or parts.fragment:
            raise StoreError(f"{_EXPECTED}, found {url!r} (an s3 URL names a bucket, no query or fragment)")
        from storage.s3 import S3Store

        return S3Store(
            parts.netloc,
            unquote(parts.path),
            endpoint_url=endpoint_url,
            object_lock_days=object_lock_days,
            multipart_threshold=multipart_threshold,
        )
    raise StoreError(f"{_EXPECTED}, found {url!r}")
