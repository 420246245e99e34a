"""A local-folder object store: content-addressed files, written atomically (temp file, fsync, rename).

Layout under the root: ``sha256/<2 hex>/<2 hex>/<64 hex>`` for committed objects (mode 0444) and ``tmp/``
for writes in progress (``write-*.part``) and deletions in progress (``<64 hex>.deleting``). The temp
folder is inside the root so every ``rename`` never crosses a filesystem and is atomic (POSIX
``rename(2)``): a reader sees the whole object or nothing.

An object's modification time is its last write: a commit that finds the same bytes already stored
sets it to now (as git freshens a loose object it would have written), so the orphan repair's age test
sees that write. A conditional delete renames the object away first and checks the time after, so a
racing write either freshened it before the rename (the delete puts it back) or finds it gone and
stores its own copy.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from storage.base import (
    CHUNK_SIZE,
    ListedObject,
    ObjectInfo,
    ObjectMissing,
    ObjectRewritten,
    Retention,
    StoredObject,
    StoreError,
    TempFile,
    checked_chunks,
    is_object_key,
    key_sha256,
    object_key,
)

#: Committed objects are read-only: nothing in Offboard ever rewrites one in place.
OBJECT_MODE = 0o444
_OBJECTS_DIR = "sha256"
_TMP_DIR = "tmp"
_PART = ".part"
_DELETING = ".deleting"
_DELETING_RE = re.compile(r"[0-9a-f]{64}\.deleting")


def _mtime(info: os.stat_result) -> datetime:
    return datetime.fromtimestamp(info.st_mtime, UTC)


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
                # Same hash: the bytes are already stored. Keep the old file's bytes untouched.
                if existing.size != self._size:
                    raise StoreError(f"object {key} already exists with size {existing.size}, expected {self._size}")
                try:
                    # This write's row is about to name the object: restart its age so the orphan
                    # repair, which only deletes objects not written for a day, leaves it alone.
                    # (An explicit time: utime(None) takes the kernel's coarse clock, a few ms behind.)
                    now = time.time_ns()
                    os.utime(final, ns=(now, now))
                except FileNotFoundError:
                    existing = None  # a concurrent orphan repair took it away: store this copy instead
                else:
                    self._temp.unlink()
            if existing is None:
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

    def _leaves(self) -> Iterator[tuple[str, os.DirEntry[str]]]:
        """Committed keys and their directory entries in sorted order, one fan-out directory at a time."""

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
                        yield key, leaf

    def keys(self) -> Iterator[str]:
        """Committed keys in sorted order, one fan-out directory in memory at a time."""
        for key, _ in self._leaves():
            yield key

    def list_objects(self) -> Iterator[ListedObject]:
        for key, leaf in self._leaves():
            try:
                info = leaf.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # deleted since the directory was read
            except OSError as exc:
                raise StoreError(f"cannot stat {key} in {self.url}: {exc}") from exc
            yield ListedObject(key=key, size=info.st_size, modified=_mtime(info))

    def retention(self, key: str) -> Retention | None:
        """A folder has no retention (Object Lock is refused for it by ``open_store``)."""
        if self.stat(key) is None:
            raise ObjectMissing(f"no object {key} in {self.url}")
        return None

    def delete(self, key: str, *, unless_written_since: datetime | None = None) -> None:
        path = self.path_of(key)
        if unless_written_since is None:
            try:
                path.unlink()
            except FileNotFoundError as exc:
                raise ObjectMissing(f"no object {key} in {self.url}") from exc
            except OSError as exc:
                raise StoreError(f"cannot delete {key} in {self.url}: {exc}") from exc
            with contextlib.suppress(OSError):
                _fsync_dir(path.parent)
            return
        # Rename first, check after: once the file is away from its key, a write of the same bytes can
        # no longer freshen it (it finds no object and stores its own copy), so a time read now is final.
        aside = self.tmp_dir / f"{key_sha256(key)}{_DELETING}"
        try:
            os.rename(path, aside)
        except FileNotFoundError as exc:
            raise ObjectMissing(f"no object {key} in {self.url}") from exc
        except OSError as exc:
            raise StoreError(f"cannot delete {key} in {self.url}: {exc}") from exc
        try:
            written = _mtime(aside.stat())
            if written >= unless_written_since:
                self._put_back(aside, path)
                raise ObjectRewritten(
                    f"object {key} was written at {written.isoformat()}, after {unless_written_since.isoformat()}; "
                    "not deleted",
                    written=written,
                )
            aside.unlink()
        except OSError as exc:
            raise StoreError(f"cannot delete {key} in {self.url}: {exc}") from exc
        with contextlib.suppress(OSError):
            _fsync_dir(path.parent)
            _fsync_dir(self.tmp_dir)

    def _put_back(self, aside: Path, path: Path) -> None:
        """Return a set-aside object to its key, unless a write has stored the same bytes there meanwhile."""
        try:
            os.link(aside, path)
        except FileExistsError:
            pass  # identical bytes (same hash) are already back under the key
        aside.unlink()
        _fsync_dir(path.parent)

    def stale_temp_files(self, older_than: datetime) -> Iterator[TempFile]:
        """``tmp/*.part`` (interrupted writes) and ``tmp/*.deleting`` (interrupted deletions) not touched since."""
        try:
            with os.scandir(self.tmp_dir) as listing:
                found = sorted(listing, key=lambda entry: entry.name)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StoreError(f"cannot list {self.tmp_dir}: {exc}") from exc
        for entry in found:
            what = self._temp_kind(entry.name)
            if what is None or not entry.is_file(follow_symlinks=False):
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # committed or aborted since the folder was read
            except OSError as exc:
                raise StoreError(f"cannot stat {entry.path}: {exc}") from exc
            if _mtime(info) < older_than:
                yield TempFile(name=f"{_TMP_DIR}/{entry.name}", size=info.st_size, modified=_mtime(info), what=what)

    @staticmethod
    def _temp_kind(name: str) -> str | None:
        if name.endswith(_PART):
            return "interrupted upload"
        if _DELETING_RE.fullmatch(name):
            return "interrupted deletion"
        return None

    def remove_temp_file(self, temp: TempFile) -> None:
        """Remove a stale ``.part``; put a stale ``.deleting`` back under its key (the audit decides again)."""
        directory, _, name = temp.name.partition("/")
        what = self._temp_kind(name)
        if directory != _TMP_DIR or "/" in name or what is None:
            raise StoreError(f"expected a temp file 'tmp/<name>.part' or 'tmp/<hex>.deleting', found {temp.name!r}")
        path = self.tmp_dir / name
        try:
            written = _mtime(path.stat())
            if written > temp.modified:
                # Written since it was listed: its writer is alive (every chunk moves the time on).
                raise ObjectRewritten(
                    f"temp file {temp.name} was written at {written.isoformat()}; kept", written=written
                )
            if name.endswith(_DELETING):
                final = self.path_of(object_key(name.removesuffix(_DELETING)))
                _make_dirs_durable(final.parent, self.root)
                self._put_back(path, final)
            else:
                path.unlink()
        except FileNotFoundError as exc:
            raise ObjectMissing(f"no temp file {temp.name} in {self.url}") from exc
        except OSError as exc:
            raise StoreError(f"cannot remove {temp.name} in {self.url}: {exc}") from exc
