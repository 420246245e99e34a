"""The orphan audit's part of the ``ObjectStore`` contract, on a local folder and on S3 (moto's server):
listing with last-write times, retention and legal hold, deletion refused under retention, deletion on
condition that nobody wrote the object since a cutoff (including a write racing with the delete), and
the temporary leftovers of interrupted writes.
"""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from storage import (
    ObjectMissing,
    ObjectRetained,
    ObjectRewritten,
    ObjectStore,
    Retention,
    StoreError,
    TempFile,
    open_store,
)
from storage.local import LocalStore
from storage.s3 import S3Store
from storage.s3_calls import utc_now
from tests.conftest import create_bucket
from tests.integration.test_storage_contract import FIXED_NOW, SIZES, leftovers, payload, read_all, s3_store, write_all

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """A store whose clock is the real one (the S3 freshen tag and retention checks read it)."""
    if request.param == "local":
        return open_store((tmp_path / "blobs").as_uri())
    endpoint: str = request.getfixturevalue("s3_endpoint")
    return s3_store(endpoint, create_bucket(endpoint), clock=utc_now)


def now() -> datetime:
    return datetime.now(UTC)


def s3_versions(store: S3Store) -> tuple[list[Any], list[Any]]:
    listed = store.client.list_object_versions(Bucket=store.bucket)
    return listed.get("Versions", []), listed.get("DeleteMarkers", [])


# --- listing --------------------------------------------------------------------------------------------


def test_list_objects_reports_size_and_last_write(store: ObjectStore) -> None:
    # S3 reports LastModified to the second, so the window starts at the second before.
    before = now().replace(microsecond=0)
    a = write_all(store, b"alpha").commit()
    b = write_all(store, payload(SIZES["small"])).commit()
    after = now()
    listed = {o.key: o for o in store.list_objects()}
    assert set(listed) == {a.key, b.key} == set(store.keys())
    assert (listed[a.key].size, listed[b.key].size) == (5, SIZES["small"])
    for item in listed.values():
        assert item.modified.tzinfo is not None
        assert before <= item.modified <= after


def test_list_objects_leaves_out_writes_in_progress(store: ObjectStore) -> None:
    committed = write_all(store, b"committed").commit()
    in_progress = write_all(store, payload(SIZES["multipart"]))
    assert [o.key for o in store.list_objects()] == [committed.key]
    in_progress.abort()


# --- retention ------------------------------------------------------------------------------------------


def test_an_object_without_retention_has_none_and_can_be_deleted(store: ObjectStore) -> None:
    stored = write_all(store, b"plain").commit()
    assert store.retention(stored.key) is None
    store.delete(stored.key)
    assert store.stat(stored.key) is None


def test_s3_compliance_retention_is_read_from_head_object_and_refuses_delete(s3_endpoint: str) -> None:
    store = s3_store(s3_endpoint, create_bucket(s3_endpoint), object_lock_days=30)
    stored = write_all(store, b"locked").commit()
    expected = Retention(mode="COMPLIANCE", until=FIXED_NOW + timedelta(days=30))
    assert store.retention(stored.key) == expected
    for condition in (None, LONG_AGO):
        with pytest.raises(ObjectRetained, match="is under COMPLIANCE retention until 2030-02-01") as caught:
            store.delete(stored.key, unless_written_since=condition)
        assert caught.value.retention == expected
    assert read_all(store, stored.key) == b"locked"
    assert s3_versions(store)[1] == [], "a refused delete leaves no delete marker"


def test_s3_legal_hold_refuses_delete(s3_endpoint: str) -> None:
    store = s3_store(s3_endpoint, create_bucket(s3_endpoint), clock=utc_now)
    stored = write_all(store, b"held").commit()
    store.client.put_object_legal_hold(Bucket=store.bucket, Key=store.prefix + stored.key, LegalHold={"Status": "ON"})
    assert store.retention(stored.key) == Retention(mode=None, until=None, legal_hold=True)
    with pytest.raises(ObjectRetained, match="is under a legal hold; not deleted"):
        store.delete(stored.key, unless_written_since=now() + timedelta(hours=1))
    assert read_all(store, stored.key) == b"held"


def test_s3_server_refusal_is_retention_and_the_delete_marker_is_taken_back(s3_endpoint: str) -> None:
    """The store's clock says the retention has ended, the server's does not: the server wins."""
    bucket = create_bucket(s3_endpoint)
    stored = write_all(s3_store(s3_endpoint, bucket, object_lock_days=1, clock=utc_now), b"still locked").commit()
    late = s3_store(s3_endpoint, bucket, clock=lambda: utc_now() + timedelta(days=30))
    assert late.retention(stored.key) is not None
    for condition in (None, now() + timedelta(days=31)):
        with pytest.raises(ObjectRetained, match=r"the server refused \(AccessDenied\)"):
            late.delete(stored.key, unless_written_since=condition)
        assert read_all(late, stored.key) == b"still locked"
        assert s3_versions(late)[1] == [], "the marker placed before the check is removed again"


# --- conditional delete ---------------------------------------------------------------------------------


def test_conditional_delete_removes_an_object_not_written_since(store: ObjectStore) -> None:
    stored = write_all(store, b"orphan").commit()
    store.delete(stored.key, unless_written_since=now() + timedelta(seconds=1))
    assert store.stat(stored.key) is None and list(store.keys()) == []
    assert leftovers(store) == []
    if isinstance(store, S3Store):
        assert s3_versions(store) == ([], []), "every version and the marker are gone"


def test_a_write_of_stored_bytes_counts_as_a_write(store: ObjectStore) -> None:
    """A write that deduplicates onto an orphan is about to give it a row: the orphan repair must see it."""
    first = write_all(store, b"uploaded twice").commit()
    cutoff = now()
    time.sleep(0.02)
    again = write_all(store, b"uploaded twice").commit()
    assert again.key == first.key
    with pytest.raises(ObjectRewritten, match="was written at .*; not deleted") as caught:
        store.delete(first.key, unless_written_since=cutoff)
    assert caught.value.written >= cutoff
    assert read_all(store, first.key) == b"uploaded twice"
    assert list(store.keys()) == [first.key]
    assert leftovers(store) == []
    if isinstance(store, S3Store):
        assert s3_versions(store)[1] == [], "the marker placed before the check is removed again"


def _refuse_tags(store: S3Store) -> None:
    def refuse(**_: object) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "PutObjectTagging")

    store.client.meta.events.register_first("before-call.s3.PutObjectTagging", refuse)


def test_s3_a_server_refusing_tags_on_a_locked_object_still_deduplicates(s3_endpoint: str) -> None:
    """Should a server refuse tags on a locked version, a duplicate upload must still work: the lock
    keeps the repair away from the object anyway."""
    store = s3_store(s3_endpoint, create_bucket(s3_endpoint), object_lock_days=30, clock=utc_now)
    first = write_all(store, b"locked and uploaded twice").commit()
    _refuse_tags(store)
    assert write_all(store, b"locked and uploaded twice").commit() == first
    assert leftovers(store) == []


def test_s3_a_refused_tag_on_an_unlocked_object_fails_the_write(s3_endpoint: str) -> None:
    store = s3_store(s3_endpoint, create_bucket(s3_endpoint), clock=utc_now)
    write_all(store, b"uploaded twice").commit()
    _refuse_tags(store)
    with pytest.raises(StoreError, match="S3 PutObjectTagging of s3://.* failed: AccessDenied"):
        write_all(store, b"uploaded twice").commit()
    assert leftovers(store) == []


def _pretend_present(store: ObjectStore, monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    """Make the next write see the object as its existence check did just before a delete began."""
    if isinstance(store, LocalStore):
        seen_local = store.stat(key)
        monkeypatch.setattr(store, "stat", lambda _key: seen_local)
    else:
        assert isinstance(store, S3Store)
        seen_s3 = store.head(store.prefix + key)
        monkeypatch.setattr(store, "head", lambda _key: seen_s3)


def test_a_write_racing_with_a_conditional_delete_keeps_its_object(
    store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write saw the object, then the delete set it aside (rename / delete marker) before the write
    could freshen it: the write must store its own copy, and the delete must not remove that copy."""
    data = payload(SIZES["small"], seed=3)
    orphan = write_all(store, data).commit()
    racer = write_all(store, data)
    _pretend_present(store, monkeypatch, orphan.key)
    raced: list[str] = []

    def write_in_between() -> None:
        raced.append(racer.commit().key)

    if isinstance(store, LocalStore):
        rename = os.rename

        def rename_then_write(src: Any, dst: Any) -> None:
            rename(src, dst)
            if str(dst).endswith(".deleting"):
                write_in_between()

        monkeypatch.setattr(os, "rename", rename_then_write)
    else:
        assert isinstance(store, S3Store)
        # The delete's first tag read comes right after its marker.
        store.client.meta.events.register_first(
            "before-call.s3.GetObjectTagging", lambda **_: None if raced else write_in_between()
        )
    store.delete(orphan.key, unless_written_since=now() + timedelta(hours=1))
    monkeypatch.undo()
    assert raced == [orphan.key]
    assert read_all(store, orphan.key) == data, "the racing write's copy survives the delete"
    assert list(store.keys()) == [orphan.key]
    assert leftovers(store) == []


# --- temp files -----------------------------------------------------------------------------------------


def test_stale_temp_files_are_listed_and_removed_and_objects_are_not(store: ObjectStore) -> None:
    committed = write_all(store, b"committed").commit()
    crashed = write_all(store, payload(SIZES["multipart"]))  # never committed nor aborted: a crash
    assert list(store.stale_temp_files(LONG_AGO)) == [], "nothing is older than the cutoff"
    stale = list(store.stale_temp_files(now() + timedelta(minutes=1)))
    assert len(stale) == 1
    (temp,) = stale
    if isinstance(store, LocalStore):
        assert temp.name.startswith("tmp/write-") and temp.name.endswith(".part")
        assert (temp.what, temp.size) == ("interrupted upload", SIZES["multipart"])
    else:
        assert temp.name.startswith("vault/staging/")
        assert temp.what == "incomplete multipart upload"
        assert temp.size == 2 * 5 * 1024 * 1024, "the parts uploaded so far"
    store.remove_temp_file(temp)
    assert leftovers(store) == []
    with pytest.raises(ObjectMissing):
        store.remove_temp_file(temp)
    assert read_all(store, committed.key) == b"committed"
    del crashed


@pytest.mark.parametrize(
    "name",
    ["sha256/ab/cd/" + "abcd" * 16, "../etc/passwd", "tmp/../sha256/x.part", "tmp/notes.txt", "staging/xyz"],
)
def test_remove_temp_file_refuses_anything_else(store: ObjectStore, name: str) -> None:
    with pytest.raises(StoreError, match="expected a (temp file|staging object)") as caught:
        store.remove_temp_file(TempFile(name=name, size=0, modified=LONG_AGO, what="forged"))
    assert not isinstance(caught.value, ObjectMissing)


@pytest.fixture
def local(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "blobs")


def _aged(path: Path, age: timedelta) -> Path:
    moment = (now() - age).timestamp()
    os.utime(path, (moment, moment))
    return path


def test_local_temp_files_age_by_their_last_write(local: LocalStore) -> None:
    old = local.tmp_dir / "write-old.part"
    old.write_bytes(b"x")
    _aged(old, timedelta(hours=2))
    fresh = local.tmp_dir / "write-fresh.part"
    fresh.write_bytes(b"still uploading")
    (local.tmp_dir / "unrelated.txt").write_text("not ours")
    _aged(local.tmp_dir / "unrelated.txt", timedelta(days=9))
    stale = list(local.stale_temp_files(now() - timedelta(hours=1)))
    assert [(t.name, t.size, t.what) for t in stale] == [("tmp/write-old.part", 1, "interrupted upload")]
    # A writer that wakes up between listing and removal keeps its file.
    old.write_bytes(b"xy")
    with pytest.raises(ObjectRewritten, match="temp file tmp/write-old.part was written at"):
        local.remove_temp_file(stale[0])
    assert old.exists() and fresh.exists() and (local.tmp_dir / "unrelated.txt").exists()


def test_local_interrupted_deletion_is_put_back(local: LocalStore) -> None:
    """A conditional delete that died after setting the object aside leaves ``tmp/<hex>.deleting``:
    the clean-up puts it back under its key, so the next audit decides about it again."""
    stored = write_all(local, b"set aside").commit()
    aside = local.tmp_dir / f"{stored.sha256}.deleting"
    os.rename(local.path_of(stored.key), aside)
    _aged(aside, timedelta(hours=3))
    (stale,) = local.stale_temp_files(now() - timedelta(hours=1))
    assert (stale.name, stale.what) == (f"tmp/{stored.sha256}.deleting", "interrupted deletion")
    local.remove_temp_file(stale)
    assert read_all(local, stored.key) == b"set aside"
    assert leftovers(local) == []


def test_s3_staging_objects_left_by_a_crash_are_temp_files(s3_endpoint: str) -> None:
    """A crash between completing a multipart upload and deleting its staging object leaves the object."""
    store = s3_store(s3_endpoint, create_bucket(s3_endpoint), clock=utc_now)
    name = "vault/staging/" + hashlib.sha256(b"x").hexdigest()[:32]
    store.client.put_object(Bucket=store.bucket, Key=name, Body=b"staged bytes")
    store.client.put_object(Bucket=store.bucket, Key="vault/elsewhere/abc", Body=b"foreign")
    (stale,) = store.stale_temp_files(now() + timedelta(minutes=1))
    assert (stale.name, stale.size, stale.what) == (name, 12, "staging object")
    store.remove_temp_file(stale)
    versions, markers = s3_versions(store)
    assert [v["Key"] for v in versions] == ["vault/elsewhere/abc"] and markers == []


def test_an_s3_upload_still_sending_parts_is_not_stale(s3_endpoint: str) -> None:
    """moto reports a fixed 2010 start time for every multipart upload; the age is the last part's."""
    store = s3_store(s3_endpoint, create_bucket(s3_endpoint), clock=utc_now)
    writer = write_all(store, payload(SIZES["multipart"]))
    assert list(store.stale_temp_files(now() - timedelta(hours=1))) == []
    assert len(list(store.stale_temp_files(now() + timedelta(minutes=1)))) == 1
    writer.abort()
