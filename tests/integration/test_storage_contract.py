"""The ``ObjectStore`` contract, run on every backend: a local folder and S3 (moto's server over HTTP).

Then the backend-specific promises: read-only files and crash safety for the local folder; checksums,
staging, Object Lock retention, version ids and the post-write read-back for S3. The orphan audit's
part of the contract (listing with times, retention, conditional deletion, temp files) is in
``test_storage_cleanup.py``.
"""

from __future__ import annotations

import base64
import hashlib
import random
import stat
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from storage import ObjectMissing, ObjectRetained, ObjectStore, ObjectWriter, StoreError, object_key, open_store
from storage.base import CHUNK_SIZE
from storage.local import LocalStore
from storage.s3 import MIN_PART_SIZE, S3Store
from tests.conftest import create_bucket
from tests.services import free_port

MIB = 1024 * 1024
THRESHOLD = 5 * MIB
SIZES = {
    "empty": 0,
    "small": 1000,
    "exactly-threshold": THRESHOLD,
    "multipart": 2 * THRESHOLD + 12345,
}
FIXED_NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def payload(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


def write_all(store: ObjectStore, data: bytes, chunk: int = 700 * 1024) -> ObjectWriter:
    """A writer fed ``data`` in uneven chunks (not aligned to parts), not yet committed."""
    writer = store.writer()
    for start in range(0, len(data), chunk):
        writer.write(data[start : start + chunk])
    return writer


def read_all(store: ObjectStore, key: str) -> bytes:
    return b"".join(store.open(key))


def s3_store(endpoint: str, bucket: str, **options: Any) -> S3Store:
    options.setdefault("multipart_threshold", THRESHOLD)
    options.setdefault("part_size", MIN_PART_SIZE)
    # A small copy threshold so the multipart-size objects also exercise the multipart server-side copy.
    options.setdefault("copy_threshold", MIN_PART_SIZE)
    options.setdefault("clock", lambda: FIXED_NOW)
    return S3Store(bucket, "vault", endpoint_url=endpoint, **options)


def leftovers(store: ObjectStore) -> list[str]:
    """Everything the backend holds besides committed objects: temp files, staging objects, open uploads."""
    if isinstance(store, LocalStore):
        return sorted(p.name for p in store.tmp_dir.iterdir())
    assert isinstance(store, S3Store)
    client, bucket = store.client, store.bucket
    found = [u["Key"] for u in client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]
    versions = client.list_object_versions(Bucket=bucket)
    found += [v["Key"] for v in versions.get("Versions", []) if "/sha256/" not in v["Key"]]
    return sorted(found)


def corrupt(store: ObjectStore, key: str) -> None:
    """Replace a stored object's bytes behind the store's back (same size, one bit flipped)."""
    data = bytearray(read_all(store, key))
    data[0] ^= 1
    if isinstance(store, LocalStore):
        path = store.path_of(key)
        path.chmod(0o644)
        path.write_bytes(bytes(data))
    else:
        assert isinstance(store, S3Store)
        store.client.put_object(Bucket=store.bucket, Key=store.prefix + key, Body=bytes(data))


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return open_store((tmp_path / "blobs").as_uri())
    endpoint: str = request.getfixturevalue("s3_endpoint")
    return s3_store(endpoint, create_bucket(endpoint))


# --- the contract ---------------------------------------------------------------------------------------


def test_store_and_writer_implement_the_protocols(store: ObjectStore) -> None:
    assert isinstance(store, ObjectStore)
    writer = store.writer()
    assert isinstance(writer, ObjectWriter)
    writer.abort()


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_round_trip(store: ObjectStore, size: int) -> None:
    data = payload(size)
    writer = write_all(store, data)
    assert writer.size == size
    stored = writer.commit()
    digest = hashlib.sha256(data).hexdigest()
    assert stored.sha256 == digest
    assert stored.size == size
    assert stored.key == object_key(digest) == f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"
    chunks = list(store.open(stored.key))
    assert b"".join(chunks) == data
    assert all(len(chunk) <= CHUNK_SIZE for chunk in chunks)
    info = store.stat(stored.key)
    assert info is not None
    assert (info.key, info.size, info.version_id) == (stored.key, size, stored.version_id)
    assert list(store.keys()) == [stored.key]
    assert leftovers(store) == []


@pytest.mark.parametrize("size", [SIZES["small"], SIZES["multipart"]], ids=["small", "multipart"])
def test_identical_bytes_are_stored_once(store: ObjectStore, size: int) -> None:
    data = payload(size)
    first = write_all(store, data).commit()
    before = _fingerprint(store, first.key)
    second = write_all(store, data).commit()
    assert second == first
    assert list(store.keys()) == [first.key]
    assert _fingerprint(store, first.key) == before, "the existing object must not be rewritten"
    assert leftovers(store) == []


def _fingerprint(store: ObjectStore, key: str) -> object:
    """Something that changes if the object is rewritten: inode and bytes, or the list of S3 versions.

    (Not the local mtime: a write of stored bytes moves it on purpose, for the orphan repair.)
    """
    if isinstance(store, LocalStore):
        path = store.path_of(key)
        return (path.stat().st_ino, path.read_bytes())
    assert isinstance(store, S3Store)
    versions = store.client.list_object_versions(Bucket=store.bucket, Prefix=store.prefix + key)
    return [v["VersionId"] for v in versions.get("Versions", [])]


def test_distinct_bytes_get_distinct_keys(store: ObjectStore) -> None:
    a = write_all(store, b"alpha").commit()
    b = write_all(store, b"bravo").commit()
    assert a.key != b.key
    assert sorted(store.keys()) == sorted([a.key, b.key])
    assert read_all(store, a.key) == b"alpha"
    assert read_all(store, b.key) == b"bravo"


@pytest.mark.parametrize("size", [SIZES["small"], SIZES["multipart"]], ids=["small", "multipart"])
def test_abort_leaves_nothing(store: ObjectStore, size: int) -> None:
    writer = write_all(store, payload(size))
    writer.abort()
    writer.abort()  # idempotent
    assert list(store.keys()) == []
    assert leftovers(store) == []


def test_writer_refuses_use_after_abort(store: ObjectStore) -> None:
    writer = write_all(store, b"data")
    writer.abort()
    with pytest.raises(StoreError, match="expected an open writer, found one already aborted"):
        writer.write(b"more")
    with pytest.raises(StoreError, match="expected an open writer, found one already aborted"):
        writer.commit()


def test_writer_refuses_use_after_commit_and_abort_keeps_the_object(store: ObjectStore) -> None:
    writer = write_all(store, b"data")
    stored = writer.commit()
    with pytest.raises(StoreError, match="found one already committed"):
        writer.write(b"more")
    with pytest.raises(StoreError, match="found one already committed"):
        writer.commit()
    writer.abort()
    assert read_all(store, stored.key) == b"data"


def test_keys_lists_committed_objects_only(store: ObjectStore) -> None:
    committed = write_all(store, b"committed").commit()
    in_progress = write_all(store, payload(SIZES["multipart"]))  # parts already uploaded on S3
    assert list(store.keys()) == [committed.key]
    assert leftovers(store) != []
    in_progress.abort()
    assert list(store.keys()) == [committed.key]


def test_missing_object(store: ObjectStore) -> None:
    key = object_key(hashlib.sha256(b"never stored").hexdigest())
    with pytest.raises(ObjectMissing, match="no object"):
        store.open(key)
    assert store.stat(key) is None
    with pytest.raises(ObjectMissing, match="no object"):
        store.delete(key)
    with pytest.raises(ObjectMissing, match="no object"):
        store.delete(key, unless_written_since=FIXED_NOW)
    with pytest.raises(ObjectMissing, match="no object"):
        store.retention(key)


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "staging/abc",
        "tmp/write-1.part",
        "sha256/AB/CD/" + "ab" * 32,
        "sha256/ab/cd/" + "ab" * 32,
    ],  # the last one's fan-out does not match its hash
)
def test_keys_that_are_not_content_keys_are_refused(store: ObjectStore, key: str) -> None:
    for action in (store.open, store.stat, store.delete, store.retention):
        with pytest.raises(StoreError, match="expected a content key") as caught:
            action(key)
        assert not isinstance(caught.value, ObjectMissing)


def test_delete_removes_the_object(store: ObjectStore) -> None:
    stored = write_all(store, b"orphan").commit()
    store.delete(stored.key)
    assert store.stat(stored.key) is None
    assert list(store.keys()) == []
    if isinstance(store, S3Store):  # every version gone, not hidden behind a delete marker
        versions = store.client.list_object_versions(Bucket=store.bucket)
        assert versions.get("Versions", []) == [] and versions.get("DeleteMarkers", []) == []


def test_reading_a_corrupted_object_fails_at_the_end(store: ObjectStore) -> None:
    stored = write_all(store, payload(3 * CHUNK_SIZE // 2)).commit()
    corrupt(store, stored.key)
    with pytest.raises(StoreError, match=f"is corrupt: expected SHA-256 {stored.sha256}, found"):
        read_all(store, stored.key)


# --- open_store -----------------------------------------------------------------------------------------


def test_open_store_file_url_creates_the_folder(tmp_path: Path) -> None:
    root = tmp_path / "a" / "b"
    store = open_store(root.as_uri())
    assert isinstance(store, LocalStore)
    assert root.is_dir() and store.tmp_dir == root / "tmp"
    assert store.url == root.as_uri()


def test_open_store_s3_url() -> None:
    store = open_store(
        "s3://my-bucket/some/prefix/",
        endpoint_url="http://127.0.0.1:9",
        object_lock_days=3,
        multipart_threshold=6 * MIB,
    )
    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix, store.url) == ("my-bucket", "some/prefix/", "s3://my-bucket/some/prefix/")
    assert (store.object_lock_days, store.multipart_threshold) == (3, 6 * MIB)
    assert open_store("s3://my-bucket").url == "s3://my-bucket/"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", "found ''"),
        ("http://example.com/x", "found 'http://example.com/x'"),
        ("ftp://host/path", "found 'ftp://host/path'"),
        ("/plain/path", "found '/plain/path'"),
        ("file:relative/path", "the path must be absolute"),
        ("file:///srv/../etc", "without '..'"),
        ("file://otherhost/srv/blobs", "names no host"),
        ("s3:///prefix-without-bucket", "names a bucket"),
        ("s3://bucket/prefix?versionId=1", "names a bucket, no query"),
    ],
)
def test_open_store_refuses_other_urls(url: str, reason: str) -> None:
    with pytest.raises(StoreError, match="expected file:///absolute/path or s3://bucket/prefix") as caught:
        open_store(url)
    assert reason in str(caught.value)


def test_open_store_refuses_object_lock_on_a_folder(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="object lock days apply to s3:// stores only"):
        open_store(tmp_path.as_uri(), object_lock_days=1)


# --- local folder ---------------------------------------------------------------------------------------


@pytest.fixture
def local(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "blobs")


def test_local_objects_are_read_only_and_temp_files_share_the_root(local: LocalStore) -> None:
    stored = write_all(local, b"immutable").commit()
    path = local.path_of(stored.key)
    assert path == local.root / stored.key
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert local.tmp_dir.stat().st_dev == local.root.stat().st_dev


def test_local_write_killed_before_commit_leaves_no_object(local: LocalStore) -> None:
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from storage.local import LocalStore
        writer = LocalStore(Path({str(local.root)!r})).writer()
        writer.write(b"x" * {3 * MIB})
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parents[2], check=False)
    assert result.returncode == -9
    assert list(local.keys()) == []
    assert not (local.root / "sha256").exists() or not any((local.root / "sha256").rglob("*"))
    assert len(leftovers(local)) == 1, "the dead write's temp file stays in tmp/, never under a key"


def test_local_keys_ignore_foreign_files(local: LocalStore) -> None:
    stored = write_all(local, b"real").commit()
    (local.root / "README").write_text("not an object")
    (local.root / stored.key).with_name("not-a-hash").write_text("stray")
    (local.root / "sha256" / "zz" / "zz").mkdir(parents=True)
    assert list(local.keys()) == [stored.key]


# --- S3 -------------------------------------------------------------------------------------------------


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> str:
    return create_bucket(s3_endpoint)


def _head(store: S3Store, key: str) -> dict[str, Any]:
    return dict(store.client.head_object(Bucket=store.bucket, Key=store.prefix + key))


def _body(request: Any) -> bytes:
    """The bytes of a prepared request, whether botocore holds them as bytes or as a stream."""
    if isinstance(request.body, bytes):
        return request.body
    request.body.seek(0)
    data: bytes = request.body.read()
    request.body.seek(0)
    return data


def _capture(store: S3Store, operation: str) -> list[Any]:
    """Requests of one S3 operation as sent on the wire (after botocore has built them)."""
    sent: list[Any] = []
    store.client.meta.events.register(f"before-send.s3.{operation}", lambda request, **_: sent.append(request))
    return sent


@pytest.mark.parametrize("size", [SIZES["small"], SIZES["multipart"]], ids=["small", "multipart"])
def test_s3_objects_carry_compliance_retention_and_a_version(s3_endpoint: str, s3_bucket: str, size: int) -> None:
    store = s3_store(s3_endpoint, s3_bucket, object_lock_days=30)
    stored = write_all(store, payload(size)).commit()
    head = _head(store, stored.key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] == FIXED_NOW + timedelta(days=30)
    assert stored.version_id is not None and stored.version_id == head["VersionId"]
    with pytest.raises(ObjectRetained, match=r"is under COMPLIANCE retention until 2030-02-01T03:04:05\+00:00"):
        store.delete(stored.key)


def test_s3_without_object_lock_days_sets_no_retention(s3_endpoint: str, s3_bucket: str) -> None:
    store = s3_store(s3_endpoint, s3_bucket)
    stored = write_all(store, b"plain").commit()
    assert "ObjectLockMode" not in _head(store, stored.key)


def test_s3_puts_carry_sha256_checksums(s3_endpoint: str, s3_bucket: str) -> None:
    store = s3_store(s3_endpoint, s3_bucket)
    puts, parts = _capture(store, "PutObject"), _capture(store, "UploadPart")
    small = payload(SIZES["small"])
    write_all(store, small).commit()
    write_all(store, payload(SIZES["multipart"])).commit()
    assert len(puts) == 1
    assert (
        puts[0].headers["x-amz-checksum-sha256"].decode() == base64.b64encode(hashlib.sha256(small).digest()).decode()
    )
    assert len(parts) == 3
    for request in parts:
        expected = base64.b64encode(hashlib.sha256(_body(request)).digest()).decode()
        assert request.headers["x-amz-checksum-sha256"].decode() == expected
    assert [len(_body(request)) for request in parts] == [MIN_PART_SIZE, MIN_PART_SIZE, 12345]


def test_s3_memory_stays_within_one_part(s3_endpoint: str, s3_bucket: str) -> None:
    store = s3_store(s3_endpoint, s3_bucket)
    writer = store.writer()
    chunk = 256 * 1024
    for start in range(0, 4 * THRESHOLD, chunk):
        writer.write(payload(chunk, seed=start))
        # The buffer is private; it is the one thing whose size this test is about.
        assert len(writer._buffer) < max(store.multipart_threshold, store.part_size) + chunk
    writer.commit()


def test_s3_multipart_write_uses_a_staging_key_until_commit(s3_endpoint: str, s3_bucket: str) -> None:
    store = s3_store(s3_endpoint, s3_bucket)
    writer = write_all(store, payload(SIZES["multipart"]))
    uploads = store.client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", [])
    assert [u["Key"].rsplit("/", 1)[0] for u in uploads] == ["vault/staging"]
    stored = writer.commit()
    assert leftovers(store) == []
    assert [o["Key"] for o in store.client.list_objects_v2(Bucket=s3_bucket)["Contents"]] == ["vault/" + stored.key]


@pytest.mark.parametrize(
    ("operation", "size", "found"),
    [
        # moto echoes the (wrong) stored checksum on GET, so botocore's response validation fires first.
        ("PutObject", SIZES["small"], "found Expected checksum"),
        # No combined checksum comes back for multipart objects: only Offboard's own SHA-256 compare fires.
        ("UploadPart", SIZES["multipart"], "found SHA-256 "),
    ],
)
def test_s3_read_back_catches_bytes_the_server_accepted_wrongly(
    s3_endpoint: str, s3_bucket: str, operation: str, size: int, found: str
) -> None:
    """moto stores a body that does not match its x-amz-checksum-sha256; the read-back must notice."""
    store = s3_store(s3_endpoint, s3_bucket, object_lock_days=30)

    def flip_a_bit(request: Any, **_: object) -> None:
        body = _body(request)
        request.body = bytes([body[0] ^ 1]) + body[1:]

    store.client.meta.events.register(f"before-send.s3.{operation}", flip_a_bit)
    data = payload(size)
    expected = f"does not hold the bytes sent: expected SHA-256 {hashlib.sha256(data).hexdigest()} and {size} bytes"
    with pytest.raises(StoreError, match=expected) as caught:
        write_all(store, data).commit()
    assert found in str(caught.value)
    versions = store.client.list_object_versions(Bucket=s3_bucket)
    assert versions.get("Versions", []) == [], "the corrupt version is removed, never locked"
    assert leftovers(store) == []


def test_s3_dedup_locks_an_object_left_unlocked(s3_endpoint: str, s3_bucket: str) -> None:
    data = b"written before a crash between verify and lock"
    unlocked = write_all(s3_store(s3_endpoint, s3_bucket), data).commit()
    locked_store = s3_store(s3_endpoint, s3_bucket, object_lock_days=7)
    again = write_all(locked_store, data).commit()
    assert again == unlocked
    assert _head(locked_store, again.key)["ObjectLockMode"] == "COMPLIANCE"


def test_s3_dedup_refuses_an_object_of_another_size(s3_endpoint: str, s3_bucket: str) -> None:
    store = s3_store(s3_endpoint, s3_bucket)
    data = b"the real bytes"
    key = object_key(hashlib.sha256(data).hexdigest())
    store.client.put_object(Bucket=s3_bucket, Key=store.prefix + key, Body=b"planted")
    with pytest.raises(StoreError, match=f"object {key} already exists with size 7, expected {len(data)}"):
        write_all(store, data).commit()


def test_s3_retention_on_a_bucket_without_object_lock_fails_and_leaves_nothing(s3_endpoint: str) -> None:
    bucket = create_bucket(s3_endpoint, object_lock=False)
    store = s3_store(s3_endpoint, bucket, object_lock_days=1)
    with pytest.raises(StoreError, match="expected bucket .* to accept COMPLIANCE retention"):
        write_all(store, payload(SIZES["multipart"])).commit()
    assert store.client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    assert leftovers(store) == []


def test_s3_missing_bucket(s3_endpoint: str) -> None:
    store = s3_store(s3_endpoint, "no-such-bucket")
    with pytest.raises(StoreError, match="expected an existing bucket for s3://no-such-bucket/vault/.*found none"):
        write_all(store, b"x").commit()
    with pytest.raises(StoreError, match="expected an existing bucket"):
        list(store.keys())
    with pytest.raises(StoreError, match="expected an existing bucket"):
        write_all(store, payload(SIZES["multipart"]))


def test_s3_unreachable_endpoint() -> None:
    store = S3Store("bucket", endpoint_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StoreError, match="S3 HeadObject of s3://bucket/sha256/.* failed: Could not connect"):
        store.stat(object_key("ab" * 32))


def test_s3_prefixes_keep_stores_apart(s3_endpoint: str, s3_bucket: str) -> None:
    one = s3_store(s3_endpoint, s3_bucket)
    other = S3Store(s3_bucket, "other", endpoint_url=s3_endpoint)
    stored = write_all(one, b"mine").commit()
    one.client.put_object(Bucket=s3_bucket, Key="vault/sha256/not-a-key", Body=b"x")
    assert list(one.keys()) == [stored.key]
    assert list(other.keys()) == []
    assert other.stat(stored.key) is None


def test_s3_keys_paginate(s3_endpoint: str, s3_bucket: str) -> None:
    store = s3_store(s3_endpoint, s3_bucket)
    # More than one ListObjectsV2 page (1000 keys); placed directly, as 1001 full writes would be slow.
    expected = sorted(object_key(hashlib.sha256(str(n).encode()).hexdigest()) for n in range(1001))
    for key in expected:
        store.client.put_object(Bucket=s3_bucket, Key=store.prefix + key, Body=b"")
    assert sorted(store.keys()) == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"part_size": MIN_PART_SIZE - 1}, "expected a part size >= 5242880 bytes"),
        ({"object_lock_days": 0}, "expected object lock days >= 1, found 0"),
        ({"multipart_threshold": 0}, "expected a multipart threshold >= 1 byte, found 0"),
    ],
)
def test_s3_store_refuses_bad_settings(options: dict[str, Any], message: str) -> None:
    with pytest.raises(StoreError, match=message):
        S3Store("bucket", **options)
    with pytest.raises(StoreError, match="expected a bucket name"):
        S3Store("")


def test_s3_unremovable_corrupt_object_is_named_in_the_error(s3_endpoint: str, s3_bucket: str) -> None:
    """With a bucket-wide default retention the server locks every put at once (which docs/storage.md
    warns against): a corrupt object can then not be removed, and the error must say so."""
    store = s3_store(s3_endpoint, s3_bucket)
    store.client.put_object_lock_configuration(
        Bucket=s3_bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}},
        },
    )

    def flip_a_bit(request: Any, **_: object) -> None:
        body = _body(request)
        request.body = bytes([body[0] ^ 1]) + body[1:]

    store.client.meta.events.register("before-send.s3.PutObject", flip_a_bit)
    with pytest.raises(
        StoreError,
        match="does not hold the bytes sent.*; the unverified object could not be removed: .*AccessDenied",
    ):
        write_all(store, b"locked on arrival").commit()
