"""An S3-compatible object store (AWS, MinIO; moto in tests) through boto3.

Every put carries an ``x-amz-checksum-sha256`` (whole object, or per part for multipart uploads), and
because some servers accept a wrong checksum (moto does), ``commit()`` also reads the object back and
compares SHA-256 and size itself. Objects below the multipart threshold are buffered and sent with one
``PutObject`` to their content key; larger ones are uploaded in parts to ``staging/<uuid>`` (the hash is
only known at the end), then copied server-side to the content key and the staging version is deleted.
Object Lock COMPLIANCE retention is applied to the verified version only, so a corrupt upload is never
locked under a content key for years. A write that finds its bytes already stored tags that object with
the time (``storage/s3_cleanup.py``), so the orphan repair sees it as just written.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, FlexibleChecksumError

from storage import s3_cleanup
from storage.base import (
    CHUNK_SIZE,
    ListedObject,
    ObjectInfo,
    ObjectMissing,
    Retention,
    StoredObject,
    StoreError,
    TempFile,
    checked_chunks,
    is_object_key,
    key_sha256,
    object_key,
)
from storage.s3_calls import STAGING, s3_call, utc_now, version_of

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef, ObjectLockRetentionTypeDef

MIB = 1024 * 1024
#: S3's smallest allowed part (all parts but the last).
MIN_PART_SIZE = 5 * MIB
DEFAULT_MULTIPART_THRESHOLD = 16 * MIB
DEFAULT_PART_SIZE = 8 * MIB
#: Above this size the copy from staging is a multipart copy (a single CopyObject stops at 5 GiB).
DEFAULT_COPY_THRESHOLD = 256 * MIB


def _b64_sha256(data: bytes | bytearray | memoryview) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


class S3Writer:
    """One streamed write; see the module docstring for the single-put and multipart paths."""

    def __init__(self, store: S3Store) -> None:
        self._store = store
        self._client = store.client
        self._hash = hashlib.sha256()
        self._size = 0
        # At most max(multipart threshold, part size) plus one chunk is ever held here.
        self._buffer = bytearray()
        self._staging_key = f"{store.prefix}{STAGING}{uuid.uuid4().hex}"
        self._upload_id: str | None = None
        self._parts: list[CompletedPartTypeDef] = []
        self._staging_version: str | None = None
        self._staging_done = False
        self._state = "open"

    @property
    def size(self) -> int:
        return self._size

    def _require_open(self, action: str) -> None:
        if self._state != "open":
            raise StoreError(f"cannot {action}: expected an open writer, found one already {self._state}")

    def write(self, chunk: bytes) -> None:
        self._require_open("write")
        self._hash.update(chunk)
        self._size += len(chunk)
        self._buffer += chunk
        try:
            if self._upload_id is None and self._size >= self._store.multipart_threshold:
                self._start_multipart()
            if self._upload_id is not None:
                while len(self._buffer) >= self._store.part_size:
                    part = bytes(self._buffer[: self._store.part_size])
                    del self._buffer[: self._store.part_size]
                    self._upload_part(part)
        except StoreError:
            self.abort()
            raise

    def _start_multipart(self) -> None:
        with s3_call("CreateMultipartUpload", self._store.where(self._staging_key)):
            response = self._client.create_multipart_upload(
                Bucket=self._store.bucket, Key=self._staging_key, ChecksumAlgorithm="SHA256"
            )
        self._upload_id = response["UploadId"]

    def _upload_part(self, data: bytes) -> None:
        assert self._upload_id is not None  # noqa: S101 - only called once the upload exists
        number = len(self._parts) + 1
        checksum = _b64_sha256(data)
        with s3_call(f"UploadPart {number}", self._store.where(self._staging_key)):
            response = self._client.upload_part(
                Bucket=self._store.bucket,
                Key=self._staging_key,
                UploadId=self._upload_id,
                PartNumber=number,
                Body=data,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=checksum,
            )
        self._parts.append({"ETag": response["ETag"], "PartNumber": number, "ChecksumSHA256": checksum})

    def commit(self) -> StoredObject:
        self._require_open("commit")
        sha256 = self._hash.hexdigest()
        key = object_key(sha256)
        full_key = self._store.prefix + key
        placed = False
        version: str | None = None
        try:
            existing = self._store.head(full_key)
            kept = False
            if existing is not None:
                kept, version = self._dedup(key, existing)
            if not kept:
                placed = True
                if self._upload_id is None:
                    version = self._place_small(full_key)
                else:
                    version = self._place_large(full_key)
                self._store.verify(full_key, version, sha256=sha256, size=self._size)
                self._store.lock(full_key, version)
        except StoreError as exc:
            problem = self._discard_final(full_key, version) if placed else None
            self.abort()
            if problem is not None:
                raise StoreError(f"{exc}; the unverified object could not be removed: {problem}") from exc
            raise
        self._state = "committed"
        self._buffer = bytearray()
        return StoredObject(key=key, sha256=sha256, size=self._size, version_id=version)

    def _dedup(self, key: str, existing: dict[str, Any]) -> tuple[bool, str | None]:
        """The bytes are already stored under their hash: keep that object, drop this upload.

        Returns whether the object was still there when it was freshened, and its version; when a
        concurrent orphan repair took it away in between, the caller stores this upload instead.
        """
        found = int(existing.get("ContentLength", -1))
        if found != self._size:
            raise StoreError(f"object {key} already exists with size {found}, expected {self._size}")
        full_key = self._store.prefix + key
        # This write's row is about to name the object: restart its age for the orphan repair.
        if not s3_cleanup.freshen(self._store, full_key, existing):
            return False, None
        version = version_of(existing.get("VersionId"))
        if self._store.object_lock_days is not None and existing.get("ObjectLockMode") != "COMPLIANCE":
            # A crash between verify and lock left it unlocked; finish the job now.
            self._store.lock(full_key, version)
        self.abort()
        return True, version

    def _place_small(self, full_key: str) -> str | None:
        body = bytes(self._buffer)
        with s3_call("PutObject", self._store.where(full_key)):
            response = self._client.put_object(
                Bucket=self._store.bucket,
                Key=full_key,
                Body=body,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=_b64_sha256(body),
            )
        return version_of(response.get("VersionId"))

    def _place_large(self, full_key: str) -> str | None:
        assert self._upload_id is not None  # noqa: S101 - the multipart path only
        if self._buffer or not self._parts:
            self._upload_part(bytes(self._buffer))
            self._buffer = bytearray()
        where = self._store.where(self._staging_key)
        with s3_call("CompleteMultipartUpload", where):
            response = self._client.complete_multipart_upload(
                Bucket=self._store.bucket,
                Key=self._staging_key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
        self._staging_done = True
        self._staging_version = version_of(response.get("VersionId"))
        source: dict[str, str] = {"Bucket": self._store.bucket, "Key": self._staging_key}
        if self._staging_version:
            source["VersionId"] = self._staging_version
        with s3_call("CopyObject from staging", self._store.where(full_key)):
            self._client.copy(
                source,  # type: ignore[arg-type]  # the stubs want a TypedDict; this is one at runtime
                self._store.bucket,
                full_key,
                ExtraArgs={"ChecksumAlgorithm": "SHA256"},
                Config=self._store.copy_config,
            )
        head = self._store.head(full_key)
        if head is None:
            where = self._store.where(full_key)
            raise StoreError(f"S3 copy to {where}: expected the copied object, found none")
        self._delete_staging()
        return version_of(head.get("VersionId"))

    def _delete_staging(self) -> None:
        if not self._staging_done:
            return
        with s3_call("DeleteObject (staging)", self._store.where(self._staging_key)):
            if self._staging_version:
                # A versioned bucket would otherwise keep the bytes behind a delete marker.
                self._client.delete_object(
                    Bucket=self._store.bucket, Key=self._staging_key, VersionId=self._staging_version
                )
            else:
                self._client.delete_object(Bucket=self._store.bucket, Key=self._staging_key)
        self._staging_done = False

    def _discard_final(self, full_key: str, version: str | None) -> str | None:
        """Remove an unverified final object; the reason it could not be, if so."""
        try:
            with s3_call("DeleteObject (unverified)", self._store.where(full_key)):
                if version:
                    self._client.delete_object(Bucket=self._store.bucket, Key=full_key, VersionId=version)
                else:
                    self._client.delete_object(Bucket=self._store.bucket, Key=full_key)
        except StoreError as exc:
            return str(exc)
        return None

    def abort(self) -> None:
        if self._state == "committed":
            return
        self._state = "aborted"
        self._buffer = bytearray()
        if self._upload_id is not None and not self._staging_done:
            with contextlib.suppress(ClientError, BotoCoreError):
                self._client.abort_multipart_upload(
                    Bucket=self._store.bucket, Key=self._staging_key, UploadId=self._upload_id
                )
        with contextlib.suppress(StoreError):
            self._delete_staging()


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
            self.client: S3Client = boto3.session.Session().client(
                "s3", endpoint_url=endpoint_url, config=config
            )
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
