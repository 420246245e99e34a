"""Local folder store: durability order and every error path; the content-key helpers of ``storage.base``."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from storage.base import ObjectMissing, StoreError, checked_chunks, is_object_key, key_sha256, object_key
from storage.local import LocalStore

DATA = b"evidence bytes"
DIGEST = hashlib.sha256(DATA).hexdigest()
KEY = object_key(DIGEST)


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "blobs")


# --- content keys ---------------------------------------------------------------------------------------


def test_object_key_layout() -> None:
    assert KEY == f"sha256/{DIGEST[:2]}/{DIGEST[2:4]}/{DIGEST}"
    assert key_sha256(KEY) == DIGEST
    assert is_object_key(KEY)


@pytest.mark.parametrize("bad", ["", "AB" * 32, "ab" * 31, "ab" * 33, "zz" * 32])
def test_object_key_refuses_what_is_not_a_lowercase_sha256(bad: str) -> None:
    with pytest.raises(StoreError, match=f"expected a lower-case hex SHA-256 .*, found {bad!r}"):
        object_key(bad)


@pytest.mark.parametrize(
    "bad", ["", DIGEST, f"sha256/{DIGEST}", f"sha256/00/00/{DIGEST}", f"{KEY}/", f"/{KEY}", f"x/{KEY}"]
)
def test_key_sha256_refuses_other_layouts(bad: str) -> None:
    assert not is_object_key(bad)
    with pytest.raises(StoreError, match="expected a content key"):
        key_sha256(bad)


def test_checked_chunks_passes_matching_bytes_and_flags_others() -> None:
    assert list(checked_chunks(iter([b"evidence ", b"bytes"]), sha256_hex=DIGEST, where="x")) == [
        b"evidence ",
        b"bytes",
    ]
    stream = checked_chunks(iter([b"other"]), sha256_hex=DIGEST, where="s3://b/k")
    assert next(stream) == b"other"  # bytes flow before the verdict, which comes at the end
    with pytest.raises(StoreError, match=f"object s3://b/k is corrupt: expected SHA-256 {DIGEST}, found"):
        next(stream)


# --- durability -----------------------------------------------------------------------------------------


def test_commit_syncs_file_then_renames_then_syncs_directories(store: LocalStore, monkeypatch: Any) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        target = os.readlink(f"/proc/self/fd/{fd}")
        events.append("fsync " + os.path.relpath(target, store.root))
        real_fsync(fd)

    def replace(src: Any, dst: Any) -> None:
        events.append("rename")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    writer = store.writer()
    writer.write(DATA)
    temp_name = os.path.relpath(next(store.tmp_dir.iterdir()), store.root)
    writer.commit()
    fan = f"sha256/{DIGEST[:2]}/{DIGEST[2:4]}"
    assert (
        events
        == [
            f"fsync {temp_name}",
            "fsync .",  # new sha256/
            "fsync sha256",  # new sha256/ab
            f"fsync sha256/{DIGEST[:2]}",  # new sha256/ab/cd
            "rename",
            f"fsync {fan}",
        ]
    )


# --- error paths ----------------------------------------------------------------------------------------


class _FullDisk:
    def write(self, _chunk: bytes) -> int:
        raise OSError(28, "No space left on device")

    def close(self) -> None:
        pass


def test_write_failure_aborts_and_removes_the_temp_file(store: LocalStore) -> None:
    writer = store.writer()
    writer._file = _FullDisk()  # type: ignore[assignment]  # stands in for a full disk
    with pytest.raises(StoreError, match="writing to .*write-.*part failed: .*No space left on device"):
        writer.write(DATA)
    assert list(store.tmp_dir.iterdir()) == []
    with pytest.raises(StoreError, match="found one already aborted"):
        writer.commit()


def test_rename_failure_leaves_nothing(store: LocalStore, monkeypatch: Any) -> None:
    def refuse(_src: Any, _dst: Any) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", refuse)
    writer = store.writer()
    writer.write(DATA)
    with pytest.raises(StoreError, match=f"committing {KEY} under file://.* failed: .*Input/output error"):
        writer.commit()
    assert list(store.tmp_dir.iterdir()) == []
    assert list(store.keys()) == []


def test_dedup_refuses_a_planted_object_of_another_size(store: LocalStore) -> None:
    planted = store.path_of(KEY)
    planted.parent.mkdir(parents=True)
    planted.write_bytes(b"short")
    writer = store.writer()
    writer.write(DATA)
    with pytest.raises(StoreError, match=f"object {KEY} already exists with size 5, expected {len(DATA)}"):
        writer.commit()
    assert list(store.tmp_dir.iterdir()) == []
    assert planted.read_bytes() == b"short"


def test_store_root_must_be_absolute() -> None:
    with pytest.raises(StoreError, match="expected an absolute store folder, found 'relative/blobs'"):
        LocalStore(Path("relative/blobs"))


def test_store_root_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("in the way")
    with pytest.raises(StoreError, match="cannot create the store folder .*file/blobs"):
        LocalStore(tmp_path / "file" / "blobs")


def test_writer_without_a_temp_folder(store: LocalStore) -> None:
    store.tmp_dir.rmdir()
    with pytest.raises(StoreError, match="cannot start a write in .*tmp"):
        store.writer()


def test_a_directory_where_an_object_should_be(store: LocalStore) -> None:
    store.path_of(KEY).mkdir(parents=True)
    with pytest.raises(StoreError, match="expected a regular file for sha256/.* found mode 40"):
        store.stat(KEY)
    with pytest.raises(StoreError, match=f"cannot open {KEY}") as opened:
        store.open(KEY)
    assert not isinstance(opened.value, ObjectMissing)
    with pytest.raises(StoreError, match=f"cannot delete {KEY}") as deleted:
        store.delete(KEY)
    assert not isinstance(deleted.value, ObjectMissing)
    assert list(store.keys()) == []


def test_a_file_where_a_fan_out_folder_should_be(store: LocalStore) -> None:
    (store.root / "sha256").mkdir()
    (store.root / "sha256" / DIGEST[:2]).write_text("in the way")
    with pytest.raises(StoreError, match=f"cannot stat {KEY}"):
        store.stat(KEY)
    writer = store.writer()
    writer.write(DATA)
    with pytest.raises(StoreError, match=f"cannot stat {KEY} .*Not a directory"):
        writer.commit()
    assert list(store.tmp_dir.iterdir()) == []


def test_mkdir_failure_on_commit_leaves_nothing(store: LocalStore, monkeypatch: Any) -> None:
    def refuse(*_: Any, **__: Any) -> None:
        raise OSError(122, "Disk quota exceeded")

    monkeypatch.setattr(Path, "mkdir", refuse)
    writer = store.writer()
    writer.write(DATA)
    with pytest.raises(StoreError, match=f"committing {KEY} under file://.* failed: .*Disk quota exceeded"):
        writer.commit()
    assert list(store.tmp_dir.iterdir()) == []


def test_keys_of_an_empty_store(store: LocalStore) -> None:
    assert list(store.keys()) == []


def test_keys_are_sorted(store: LocalStore) -> None:
    keys = []
    for n in range(40):
        writer = store.writer()
        writer.write(str(n).encode())
        keys.append(writer.commit().key)
    assert list(store.keys()) == sorted(keys)


def test_keys_listing_failure(store: LocalStore, monkeypatch: Any) -> None:
    writer = store.writer()
    writer.write(DATA)
    writer.commit()

    def refuse(_path: Any) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "scandir", refuse)
    with pytest.raises(StoreError, match="cannot list .*sha256 in file://.*Permission denied"):
        list(store.keys())
