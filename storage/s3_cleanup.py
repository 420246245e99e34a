"""S3 operations of the orphan audit: listing with times, retention, conditional deletion, staging leftovers.

**Freshening.** A write that finds its bytes already stored tags the current version with
``offboard-written=<time>`` (``freshen``): S3 cannot move ``LastModified`` without a new version, which
would be a full copy kept for years under Object Lock, while a tag changes no bytes and is allowed on a
locked version. An object's last write is the later of ``LastModified`` and that tag.

**Conditional deletion** (``unless_written_since``). On a versioned bucket (every bucket with Object
Lock) the key is first hidden behind a delete marker, then the versions' times are read, then the
versions are deleted by id or, if one was written since the cutoff, the marker is removed again. A write
of the same bytes racing with this either tagged the version before the marker (the check sees it) or
meets the marker: its tag request fails and it uploads its bytes as a new version, which the deletion
(by the ids listed before) leaves alone. A bucket without versioning has no delete marker, so there the
check and the removal are two requests, and a write landing in the milliseconds between them would lose
its object; docs/storage.md says so.

**Staging leftovers** of interrupted writes: incomplete multipart uploads and staging objects under
``<prefix>/staging/``. An upload's age is its last part's, so a slow upload that still sends parts is
never taken for a dead one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from storage.base import (
    ListedObject,
    ObjectMissing,
    ObjectRetained,
    ObjectRewritten,
    Retention,
    StoreError,
    TempFile,
    is_object_key,
)
from storage.s3_calls import MISSING_CODES, STAGING, error_code, s3_call, store_error, version_of

if TYPE_CHECKING:
    from storage.s3 import S3Store

#: Tag holding the time of the last write that found the object already stored.
WRITTEN_TAG = "offboard-written"
_STAGING_NAME = re.compile(r"staging/[0-9a-f]{32}")
_UPLOAD = "upload:"
_VERSION = "version:"


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _tag_time(moment: datetime) -> str:
    # Tag values allow letters, digits, spaces and + - = . _ : / @ only: RFC 3339 with "Z" fits.
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class _Version:
    id: str | None
    marker: bool
    modified: datetime


def freshen(store: S3Store, full_key: str, head: dict[str, Any]) -> bool:
    """Tag the current version as written now; ``False`` when there is no current object any more.

    ``head`` is what ``HeadObject`` said of the object just before. A server that refuses tags on a
    locked version (AccessDenied) is taken as freshened when that lock is in force: the repair cannot
    delete the object then either, long past the moment this write commits its row.
    """
    where = store.where(full_key)
    tagging: Any = {"TagSet": [{"Key": WRITTEN_TAG, "Value": _tag_time(store.clock())}]}
    try:
        store.client.put_object_tagging(Bucket=store.bucket, Key=full_key, Tagging=tagging)
    except ClientError as exc:
        code = error_code(exc)
        # MethodNotAllowed: the current version is a delete marker (a repair is deleting the object).
        if code in MISSING_CODES or code == "MethodNotAllowed":
            return False
        until = head.get("ObjectLockRetainUntilDate")
        locked = head.get("ObjectLockLegalHoldStatus") == "ON" or (until is not None and _utc(until) > store.clock())
        if code == "AccessDenied" and locked:
            return True
        raise store_error(exc, "PutObjectTagging", where) from exc
    except BotoCoreError as exc:
        raise store_error(exc, "PutObjectTagging", where) from exc
    return True


def list_objects(store: S3Store) -> Iterator[ListedObject]:
    # Listing under ``prefix/sha256/`` leaves ``staging/`` and anything foreign out by construction.
    paginator = store.client.get_paginator("list_objects_v2")
    with s3_call("ListObjectsV2", store.url):
        for page in paginator.paginate(Bucket=store.bucket, Prefix=store.prefix + "sha256/"):
            for item in page.get("Contents", []):
                key = item["Key"][len(store.prefix) :]
                if is_object_key(key):
                    yield ListedObject(key=key, size=int(item["Size"]), modified=_utc(item["LastModified"]))


def _versions(store: S3Store, full_key: str) -> list[_Version]:
    found: list[_Version] = []
    paginator = store.client.get_paginator("list_object_versions")
    with s3_call("ListObjectVersions", store.where(full_key)):
        for page in paginator.paginate(Bucket=store.bucket, Prefix=full_key):
            entries: list[tuple[Any, bool]] = [
                *((v, False) for v in page.get("Versions", [])),
                *((m, True) for m in page.get("DeleteMarkers", [])),
            ]
            for entry, marker in entries:
                if entry.get("Key") == full_key:
                    found.append(_Version(version_of(entry.get("VersionId")), marker, _utc(entry["LastModified"])))
    return found


def _head_version(store: S3Store, full_key: str, version: str | None) -> dict[str, Any]:
    with s3_call("HeadObject (retention)", store.where(full_key)):
        if version:
            return dict(store.client.head_object(Bucket=store.bucket, Key=full_key, VersionId=version))
        return dict(store.client.head_object(Bucket=store.bucket, Key=full_key))


def _strongest(retentions: list[Retention]) -> Retention | None:
    if not retentions:
        return None
    dated = [r for r in retentions if r.until is not None]
    longest = max(dated, key=lambda r: r.until or datetime.min.replace(tzinfo=UTC)) if dated else None
    return Retention(
        mode=longest.mode if longest else None,
        until=longest.until if longest else None,
        legal_hold=any(r.legal_hold for r in retentions),
    )


def _retention_of(store: S3Store, full_key: str, versions: list[_Version]) -> Retention | None:
    """The strongest retention over every version (a delete removes them all)."""
    found: list[Retention] = []
    for version in versions:
        # GetObjectRetention answers wrongly on moto; HeadObject reports lock and hold on every server.
        head = _head_version(store, full_key, version.id)
        mode = head.get("ObjectLockMode")
        until = head.get("ObjectLockRetainUntilDate")
        hold = head.get("ObjectLockLegalHoldStatus") == "ON"
        if mode or until or hold:
            found.append(Retention(mode=mode, until=_utc(until) if until else None, legal_hold=hold))
    return _strongest(found)


def _objects(store: S3Store, full_key: str) -> tuple[list[_Version], list[_Version]]:
    """The key's versions and delete markers; ``ObjectMissing`` when it has no current object."""
    if store.head(full_key) is None:
        raise ObjectMissing(f"no object {store.where(full_key)}")
    versions = _versions(store, full_key)
    return [v for v in versions if not v.marker], [v for v in versions if v.marker]


def retention(store: S3Store, full_key: str) -> Retention | None:
    objects, _ = _objects(store, full_key)
    return _retention_of(store, full_key, objects)


def _written_at(store: S3Store, full_key: str, versions: list[_Version]) -> datetime:
    """The latest write of any version: its upload, or a later write that found it (the tag)."""
    latest = max(v.modified for v in versions)
    for version in versions:
        with s3_call("GetObjectTagging", store.where(full_key)):
            if version.id:
                tags = store.client.get_object_tagging(Bucket=store.bucket, Key=full_key, VersionId=version.id)
            else:
                tags = store.client.get_object_tagging(Bucket=store.bucket, Key=full_key)
        for tag in tags.get("TagSet", []):
            if tag.get("Key") != WRITTEN_TAG:
                continue
            try:
                latest = max(latest, _utc(datetime.fromisoformat(tag["Value"])))
            except ValueError:
                pass  # not a time Offboard wrote; the upload time stands
    return latest


def _delete_version(store: S3Store, full_key: str, version: str | None) -> None:
    if version:
        store.client.delete_object(Bucket=store.bucket, Key=full_key, VersionId=version)
    else:
        store.client.delete_object(Bucket=store.bucket, Key=full_key)


def delete(store: S3Store, full_key: str, *, unless_written_since: datetime | None) -> None:
    """Delete every version and delete marker of ``full_key``; see the module docstring for the order."""
    where = store.where(full_key)
    objects, old_markers = _objects(store, full_key)
    held = _retention_of(store, full_key, objects)
    if held is not None and held.in_force(store.clock()):
        raise ObjectRetained(f"object {where} is under {held.describe()}; not deleted", retention=held)
    marker: str | None = None
    if unless_written_since is not None:
        if any(v.id for v in objects):
            with s3_call("DeleteObject (marker)", where):
                marker = version_of(store.client.delete_object(Bucket=store.bucket, Key=full_key).get("VersionId"))
        try:
            written = _written_at(store, full_key, objects)
        except StoreError:
            _remove_marker(store, full_key, marker)
            raise
        if written >= unless_written_since:
            _remove_marker(store, full_key, marker)
            raise ObjectRewritten(
                f"object {where} was written at {written.isoformat()}, after "
                f"{unless_written_since.isoformat()}; not deleted",
                written=written,
            )
    try:
        for version in [*objects, *old_markers]:
            _delete_version(store, full_key, version.id)
        if marker:
            _delete_version(store, full_key, marker)
    except (ClientError, BotoCoreError) as exc:
        # Whatever could not be deleted must stay readable, not hidden behind this delete's marker.
        _remove_marker(store, full_key, marker)
        if isinstance(exc, ClientError) and error_code(exc) == "AccessDenied":
            raise ObjectRetained(
                f"object {where} was not deleted: the server refused (AccessDenied), "
                "which Object Lock retention or a legal hold causes"
            ) from exc
        raise store_error(exc, "DeleteObject", where) from exc


def _remove_marker(store: S3Store, full_key: str, marker: str | None) -> None:
    if marker:
        with s3_call("DeleteObject (remove marker)", store.where(full_key)):
            _delete_version(store, full_key, marker)


def stale_temp_files(store: S3Store, older_than: datetime) -> Iterator[TempFile]:
    """Incomplete multipart uploads, then staging versions and markers, last touched before ``older_than``."""
    staging = store.prefix + STAGING
    client = store.client
    with s3_call("ListMultipartUploads", store.url + STAGING):
        for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=store.bucket, Prefix=staging):
            for upload in page.get("Uploads", []):
                touched, size = _upload_touched(store, upload["Key"], upload["UploadId"], _utc(upload["Initiated"]))
                if touched < older_than:
                    yield TempFile(
                        name=upload["Key"],
                        size=size,
                        modified=touched,
                        what="incomplete multipart upload",
                        ref=_UPLOAD + upload["UploadId"],
                    )
    with s3_call("ListObjectVersions", store.url + STAGING):
        for versions in client.get_paginator("list_object_versions").paginate(Bucket=store.bucket, Prefix=staging):
            leftovers: list[tuple[Any, str]] = [
                *((v, "staging object") for v in versions.get("Versions", [])),
                *((m, "staging delete marker") for m in versions.get("DeleteMarkers", [])),
            ]
            for entry, what in leftovers:
                modified = _utc(entry["LastModified"])
                if modified < older_than:
                    yield TempFile(
                        name=entry["Key"],
                        size=int(entry.get("Size", 0)),
                        modified=modified,
                        what=what,
                        ref=_VERSION + (version_of(entry.get("VersionId")) or ""),
                    )


def _upload_touched(store: S3Store, key: str, upload_id: str, initiated: datetime) -> tuple[datetime, int]:
    """When an upload last received a part (else when it started), and the bytes it holds."""
    touched, size = initiated, 0
    paginator = store.client.get_paginator("list_parts")
    for page in paginator.paginate(Bucket=store.bucket, Key=key, UploadId=upload_id):
        for part in page.get("Parts", []):
            touched = max(touched, _utc(part["LastModified"]))
            size += int(part.get("Size", 0))
    return touched, size


def remove_temp_file(store: S3Store, temp: TempFile) -> None:
    where = store.where(temp.name)
    if not temp.name.startswith(store.prefix) or not _STAGING_NAME.fullmatch(temp.name[len(store.prefix) :]):
        raise StoreError(f"expected a staging object '{store.prefix}staging/<32 hex>', found {temp.name!r}")
    try:
        if temp.ref.startswith(_UPLOAD):
            upload_id = temp.ref.removeprefix(_UPLOAD)
            touched, _ = _upload_touched(store, temp.name, upload_id, temp.modified)
            if touched > temp.modified:
                raise ObjectRewritten(
                    f"multipart upload {where} received a part at {touched.isoformat()}; kept", written=touched
                )
            store.client.abort_multipart_upload(Bucket=store.bucket, Key=temp.name, UploadId=upload_id)
        elif temp.ref.startswith(_VERSION):
            _delete_version(store, temp.name, temp.ref.removeprefix(_VERSION) or None)
        else:
            raise StoreError(f"expected an upload or version reference for {where}, found {temp.ref!r}")
    except ClientError as exc:
        if error_code(exc) == "AccessDenied":
            raise ObjectRetained(f"staging object {where} was not removed: the server refused (AccessDenied)") from exc
        raise store_error(exc, "removing staging leftover", where) from exc
    except BotoCoreError as exc:
        raise store_error(exc, "removing staging leftover", where) from exc
