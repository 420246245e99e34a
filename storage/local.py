"""A local-folder object store: content-addressed files, written atomically (temp file, fsync, rename).

Layout under the root: ``sha256/<2 hex>/<2 hex>/<64 hex>`` for committed objects (mode 0444) and ``tmp/``
for writes in progress. The temp folder is inside the root so the final ``rename`` never crosses a
filesystem and is atomic (POSIX ``rename(2)``): a reader sees the whole object or nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from storage.base import (
    CHUNK_SIZE,
    ObjectInfo,
    ObjectMissing,
    StoredObject,
    StoreError,
    checked_chunks,
    is_object_key,
    key_sha256,
    object_key,
)

#: Committed objects are read-only: nothing in Offboard ever rewrites one in place.
OBJECT_MODE = 0o444
_OBJECTS_DIR = "sha256"
_TMP_DIR = "tmp"


def _fsync_dir(path: Path) -> None:
    """Persist a directory's entries (a rename or a new child is only durable once its parent is synced)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_dirs_durable(path: Path, root: Path) -> None:
    """Create ``path`` and its missing parents below ``root``, syncing each parent after a creation."""
    missing: list[Path] = []
    current = path
    while current != root and not current.is_dir():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # a concurrent writer created it: equally good
            directory.mkdir()
        _fsync_dir(directory.parent)


def _file_chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk


class LocalWriter:
    """One streamed write into ``tmp/``; ``commit()`` renames it under its content key."""

    def __init__(self, store: LocalStore) -> None:
        self._store = store
        fd, name = tempfile.mkstemp(prefix="write-", suffix=".part", dir=store.tmp_dir)
        self._temp = Path(name)
        self._file: BinaryIO | None = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self._size = 0
        self._state = "open"

    @property
    def size(self) -> int:
        return self._size

    def _require_open(self, action: str) -> BinaryIO:
        if self._file is None or self._state != "open":
            raise StoreError(f"cannot {action}: expected an open writer, found one already {self._state}")
        return self._file

    def write(self, chunk: bytes) -> None:
        handle = self._require_open("write")
        try:
            handle.write(chunk)
        except OSError as exc:
            self.abort()
            raise StoreError(f"writing to {self._temp} failed: {exc}") from exc
        # Hashed from the same buffer that was written: the bytes are never read back.
        self._hash.update(chunk)
        self._size += len(chunk)

    def commit(self) -> StoredObject:
        handle = self._require_open("commit")
        sha256 = self._hash.hexdigest()
        key = object_key(sha256)
        final = self._store.path_of(key)
        try:
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), OBJECT_MODE)
            handle.close()
            self._file = None
            existing = self._store.stat(key)
            if existing is not None:
                # Same hash: the bytes are already stored. Keep the old file untouched.
                if existing.size != self._size:
                    raise StoreError(
                        f"object {key} already exists with size {existing.size}, expected {self._size}"
                    )
                self._temp.unlink()
            else:
                _make_dirs_durable(final.parent, self._store.root)
                os.replace(self._temp, final)
                _fsync_dir(final.parent)
        except OSError as exc:
            self.abort()
            raise StoreError(f"committing {key} under {self._store.url} failed: {exc}") from exc
        except StoreError:
            self.abort()
            raise
        self._state = "committed"
        return StoredObject(key=key, sha256=sha256, size=self._size)

    def abort(self) -> None:
        if self._state == "committed":
            return
        self._state = "aborted"
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
        with contextlib.suppress(OSError):
            self._temp.unlink(missing_ok=True)


class LocalStore:
    """Objects as read-only files under ``root``; see the module docstring for the layout."""

    def __init__(self, root: Path) -> None:
        if not root.is_absolute():
            raise StoreError(f"expected an absolute store folder, found {str(root)!r}")
        self.root = root
        self.url = root.as_uri()
        self.tmp_dir = root / _TMP_DIR
        try:
            root.mkdir(parents=True, exist_ok=True)
            self.tmp_dir.mkdir(exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the store folder {root}: {exc}") from exc

    def path_of(self, key: str) -> Path:
        """The file of ``key`` (validated: a key can never name a path outside the store)."""
        key_sha256(key)
        return self.root / key

    def writer(self) -> LocalWriter:
        try:
            return LocalWriter(self)
        except OSError as exc:
            raise StoreError(f"cannot start a write in {self.tmp_dir}: {exc}") from exc

    def open(self, key: str) -> Iterator[bytes]:
        path = self.path_of(key)
        try:
            handle = path.open("rb")
        except FileNotFoundError as exc:
            raise ObjectMissing(f"no object {key} in {self.url}") from exc
        except OSError as exc:
            raise StoreError(f"cannot open {key} in {self.url}: {exc}") from exc
        return checked_chunks(_file_chunks(handle), sha256_hex=key_sha256(key), where=f"{self.url}/{key}")

    def stat(self, key: str) -> ObjectInfo | None:
        try:
            info = self.path_of(key).stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot stat {key} in {self.url}: {exc}") from exc
        if not stat.S_ISREG(info.st_mode):
            raise StoreError(f"expected a regular file for {key} in {self.url}, found mode {info.st_mode:o}")
        return ObjectInfo(key=key, size=info.st_size)

    def keys(self) -> Iterator[str]:
        """Committed keys in sorted order, one fan-out directory in memory at a time."""

        def entries(directory: Path) -> list[os.DirEntry[str]]:
            try:
                with os.scandir(directory) as listing:
                    return sorted(listing, key=lambda entry: entry.name)
            except (FileNotFoundError, NotADirectoryError):
                return []
            except OSError as exc:
                raise StoreError(f"cannot list {directory} in {self.url}: {exc}") from exc

        for first in entries(self.root / _OBJECTS_DIR):
            for second in entries(Path(first.path)):
                for leaf in entries(Path(second.path)):
                    key = f"{_OBJECTS_DIR}/{first.name}/{second.name}/{leaf.name}"
                    if is_object_key(key) and leaf.is_file(follow_symlinks=False):
                        yield key

    def delete(self, key: str) -> None:
        path = self.path_of(key)
        try:
            path.unlink()
        except FileNotFoundError as exc:
            raise ObjectMissing(f"no object {key} in {self.url}") from exc
        except OSError as exc:
            raise StoreError(f"cannot delete {key} in {self.url}: {exc}") from exc
        with contextlib.suppress(OSError):
            _fsync_dir(path.parent)
