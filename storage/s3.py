"""An S3-compatible object store (AWS, MinIO; moto in tests) through boto3.

Writes are ``storage/s3_writer.py`` (a checksummed single put or a multipart upload to staging); this
module holds the store: its configuration, the read-back check of what a write placed and its Object Lock
COMPLIANCE retention, reads, and the orphan audit's operations (``storage/s3_cleanup.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, FlexibleChecksumError

from storage import s3_cleanup
from storage.base import (
    CHUNK_SIZE,
    ListedObject,
    ObjectInfo,
    ObjectMissing,
    Retention,
    StoreError,
    TempFile,
    checked_chunks,
    is_object_key,
    key_sha256,
)
from storage.s3_calls import s3_call, utc_now, version_of
from storage.s3_writer import S3Writer

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectLockRetentionTypeDef

MIB = 1024 * 1024
#: S3's smallest allowed part (all parts but the last).
MIN_PART_SIZE = 5 * MIB
DEFAULT_MULTIPART_THRESHOLD = 16 * MIB
DEFAULT_PART_SIZE = 8 * MIB
#: Above this size the copy from staging is a multipart copy (a single CopyObject stops at 5 GiB).
DEFAULT_COPY_THRESHOLD = 256 * MIB


class S3Store:
    """Objects under ``s3://bucket/prefix/sha256/...``; credentials from boto3's standard chain."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        object_lock_days: int | None = None,
        multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
        part_size: int = DEFAULT_PART_SIZE,
        copy_threshold: int = DEFAULT_COPY_THRESHOLD,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if not bucket:
            raise StoreError("expected a bucket name, found an empty one")
        if object_lock_days is not None and object_lock_days < 1:
            raise StoreError(f"expected object lock days >= 1, found {object_lock_days}")
        if multipart_threshold < 1:
            raise StoreError(f"expected a multipart threshold >= 1 byte, found {multipart_threshold}")
        if part_size < MIN_PART_SIZE:
            raise StoreError(f"expected a part size >= {MIN_PART_SIZE} bytes (S3 minimum), found {part_size}")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.url = f"s3://{bucket}/{self.prefix}"
        self.object_lock_days = object_lock_days
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self.copy_config = TransferConfig(
            multipart_threshold=max(copy_threshold, MIN_PART_SIZE),
            multipart_chunksize=max(copy_threshold, MIN_PART_SIZE),
        )
        self.clock = clock
        # Path-style addressing: MinIO and moto on loopback have no per-bucket host names.
        config = Config(s3={"addressing_style": "path"}, retries={"mode": "standard", "max_attempts": 5})
        try:
            self.client: S3Client = boto3.session.Session().client("s3", endpoint_url=endpoint_url, config=config)
        except (BotoCoreError, ValueError) as exc:
            raise StoreError(f"cannot create an S3 client for {self.url}: {exc}") from exc

    def where(self, full_key: str) -> str:
        return f"s3://{self.bucket}/{full_key}"

    def _full_key(self, key: str) -> str:
        key_sha256(key)  # refuses anything that is not a content key
        return self.prefix + key

    def head(self, full_key: str) -> dict[str, Any] | None:
        """``HeadObject`` of a bucket key, or ``None`` when absent."""
        try:
            with s3_call("HeadObject", self.where(full_key)):
                return dict(self.client.head_object(Bucket=self.bucket, Key=full_key))
        except ObjectMissing:
            return None

    def verify(self, full_key: str, version: str | None, *, sha256: str, size: int) -> None:
        """Read the stored version back and compare its SHA-256 and size with what was sent."""
        digest = hashlib.sha256()
        found_size = 0
        expected = f"expected SHA-256 {sha256} and {size} bytes"
        where = self.where(full_key)
        with s3_call("GetObject (verify)", where):
            if version:
                response = self.client.get_object(Bucket=self.bucket, Key=full_key, VersionId=version)
            else:
                response = self.client.get_object(Bucket=self.bucket, Key=full_key)
            try:
                for chunk in response["Body"].iter_chunks(CHUNK_SIZE):
                    digest.update(chunk)
                    found_size += len(chunk)
            except FlexibleChecksumError as exc:
                # botocore checks the server's stored checksum on the way back and got there first.
                raise StoreError(f"S3 object {where} does not hold the bytes sent: {expected}, found {exc}") from exc
        if digest.hexdigest() != sha256 or found_size != size:
            raise StoreError(
                f"S3 object {where} does not hold the bytes sent: {expected}, "
                f"found SHA-256 {digest.hexdigest()} and {found_size} bytes"
            )

    def lock(self, full_key: str, version: str | None) -> None:
        """Apply COMPLIANCE retention (when configured) and check it through ``HeadObject``."""
        if self.object_lock_days is None:
            return
        until = self.clock() + timedelta(days=self.object_lock_days)
        retention: ObjectLockRetentionTypeDef = {"Mode": "COMPLIANCE", "RetainUntilDate": until}
        where = self.where(full_key)
        try:
            with s3_call("PutObjectRetention", where):
                if version:
                    self.client.put_object_retention(
                        Bucket=self.bucket, Key=full_key, VersionId=version, Retention=retention
                    )
                else:
                    self.client.put_object_retention(Bucket=self.bucket, Key=full_key, Retention=retention)
        except StoreError as exc:
            raise StoreError(
                f"object lock days are set, so expected bucket {self.bucket!r} to accept COMPLIANCE "
                f"retention (created with Object Lock enabled), found: {exc}"
            ) from exc
        # GetObjectRetention is unreliable on moto; HeadObject reports the lock on every server.
        with s3_call("HeadObject (retention)", where):
            if version:
                head = self.client.head_object(Bucket=self.bucket, Key=full_key, VersionId=version)
            else:
                head = self.client.head_object(Bucket=self.bucket, Key=full_key)
        mode = head.get("ObjectLockMode")
        if mode != "COMPLIANCE":
            raise StoreError(f"expected COMPLIANCE retention on {where}, found {mode or 'none'}")

    def writer(self) -> S3Writer:
        return S3Writer(self)

    def open(self, key: str) -> Iterator[bytes]:
        full_key = self._full_key(key)
        where = self.where(full_key)
        with s3_call("GetObject", where):
            body = self.client.get_object(Bucket=self.bucket, Key=full_key)["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                with s3_call("GetObject (read)", where):
                    yield from body.iter_chunks(CHUNK_SIZE)
            finally:
                body.close()

        return checked_chunks(chunks(), sha256_hex=key_sha256(key), where=where)

    def stat(self, key: str) -> ObjectInfo | None:
        head = self.head(self._full_key(key))
        if head is None:
            return None
        return ObjectInfo(key=key, size=int(head["ContentLength"]), version_id=version_of(head.get("VersionId")))

    def keys(self) -> Iterator[str]:
        # Listing under ``prefix/sha256/`` leaves ``staging/`` and anything foreign out by construction.
        paginator = self.client.get_paginator("list_objects_v2")
        with s3_call("ListObjectsV2", self.url):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + "sha256/"):
                for item in page.get("Contents", []):
                    key = item["Key"][len(self.prefix) :]
                    if is_object_key(key):
                        yield key

    def list_objects(self) -> Iterator[ListedObject]:
        return s3_cleanup.list_objects(self)

    def retention(self, key: str) -> Retention | None:
        return s3_cleanup.retention(self, self._full_key(key))

    def delete(self, key: str, *, unless_written_since: datetime | None = None) -> None:
        """Delete every version of ``key`` (a plain delete would only hide a versioned object)."""
        s3_cleanup.delete(self, self._full_key(key), unless_written_since=unless_written_since)

    def stale_temp_files(self, older_than: datetime) -> Iterator[TempFile]:
        return s3_cleanup.stale_temp_files(self, older_than)

    def remove_temp_file(self, temp: TempFile) -> None:
        s3_cleanup.remove_temp_file(self, temp)
