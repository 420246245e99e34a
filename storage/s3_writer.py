"""One streamed write to an S3-compatible store: a single ``PutObject`` or a multipart upload to staging.

Every put carries an ``x-amz-checksum-sha256`` (whole object, or per part for multipart uploads), and
because some servers accept a wrong checksum (moto does), ``commit()`` also has the store read the object
back and compare SHA-256 and size itself. Objects below the multipart threshold are buffered and sent with
one ``PutObject`` to their content key; larger ones are uploaded in parts to ``staging/<uuid>`` (the hash
is only known at the end), then copied server-side to the content key and the staging version is deleted.
Object Lock COMPLIANCE retention is applied to the verified version only, so a corrupt upload is never
locked under a content key for years. A write that finds its bytes already stored tags that object with
the time (``storage/s3_cleanup.py``), so the orphan repair sees it as just written.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import uuid
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from storage import s3_cleanup
from storage.base import StoredObject, StoreError, object_key
from storage.s3_calls import STAGING, s3_call, version_of

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

    from storage.s3 import S3Store


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
