"""Read-ahead for an export: the MD5 of each evidence file (for the load file), computed on a thread while the
plan's reports render, so the copy that follows has one hash fewer to compute.

``prepare`` starts it once the plan is known; the stream ``take``s each file's MD5 as it reaches the file.
The read-ahead stops there: from then on the copy keeps both cores busy itself, and a file it has not finished
is left to the stream, which computes its MD5 while copying, as without a read-ahead.

Integrity: the read-ahead reads the object's file as it is and keeps, beside its MD5, its CRC-32. The copy
checks the SHA-256 of the bytes it writes against the content address, as always, and the CRC-32 zipfile
computes of them against the read-ahead's: if they differ, the object changed between the two reads and the
export fails (``BundleStream``). So the MD5 is of bytes that match the verified member's CRC-32. No verifier
recomputes a load file's MD5 (``docs/bundle.md``, "Legal packaging": it is there for the tools, the proofs rest
on SHA-256), which is why the export checks it this way. A read that fails is forgotten here: the copy meets the
same object and reports it.

Worth it only where a second read is cheap (a local folder, whose first read leaves the bytes in the page
cache), so it takes the local store only.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from zlib_ng.zlib_ng import crc32

from storage.base import StoreError
from storage.local import LocalStore
from vault.models import Evidence

#: Read size: large, so the thread takes the interpreter lock back rarely while the reports render in Python.
CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class EarlyDigests:
    """What the read-ahead found of one file."""

    md5: str
    #: CRC-32 of the bytes the MD5 is of, for the copy to compare with its own.
    crc: int


class ReadAhead:
    """MD5s (and CRC-32s) of evidence files, by evidence id, read on a thread of their own."""

    def __init__(self, store: LocalStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._done: dict[str, EarlyDigests] = {}
        self._taken: set[str] = set()
        self._stopped = False
        self._thread: threading.Thread | None = None

    @property
    def finished(self) -> int:
        """How many files it has finished (for tests and figures)."""
        return len(self._done)

    def start(self, rows: Sequence[Evidence]) -> None:
        """Begin reading ``rows`` in order (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, args=(list(rows),), name="read-ahead", daemon=True)
            self._thread.start()

    def _run(self, rows: list[Evidence]) -> None:
        for row in rows:
            if self._stopped:
                return
            found = None if row.id in self._taken else self._digests(row)
            with self._lock:
                if found is not None and row.id not in self._taken:
                    self._done[row.id] = found

    def _digests(self, row: Evidence) -> EarlyDigests | None:
        """``None`` if the stream took the file first or the read failed (the stream reads it itself)."""
        digest, crc, size = hashlib.md5(usedforsecurity=False), 0, 0
        buffer = memoryview(bytearray(CHUNK))
        try:
            with self._store.path_of(row.storage_key).open("rb", buffering=0) as handle:
                while count := handle.readinto(buffer):
                    if self._stopped or row.id in self._taken:
                        return None
                    digest.update(buffer[:count])
                    crc = crc32(buffer[:count], crc)
                    size += count
        except (OSError, StoreError):
            return None
        return EarlyDigests(digest.hexdigest(), crc) if size == row.size else None

    def take(self, row: Evidence) -> EarlyDigests | None:
        """What the read-ahead found of ``row`` if it finished the file; else ``None``, and that file is the
        caller's. The first ``take`` stops the read-ahead: the copy has begun."""
        self._stopped = True
        with self._lock:
            self._taken.add(row.id)
            return self._done.get(row.id)

    def stop(self) -> None:
        """Drop what is left and wait for the thread (it ends within one chunk)."""
        self._stopped = True
        if self._thread is not None:
            self._thread.join()
