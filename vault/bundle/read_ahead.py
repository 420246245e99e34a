"""Read-ahead for an export: the MD5 of each evidence file (for the load file), computed on a thread while the
plan's reports render, so the copy that follows has one hash fewer to compute.

``prepare`` starts it once the plan is known; the stream then ``take``s each file's MD5 as it reaches the file.
The read-ahead stops there: from then on the copy keeps both cores busy itself, and a file it has not finished
is left to the stream, which computes its MD5 while copying, as without a read-ahead.

Integrity: the read-ahead reads through ``stream_verified``, so an MD5 is kept only for bytes whose SHA-256 is
the object's content address; the copy checks the SHA-256 of the bytes it writes again, as always. So the MD5
in the load file is of the same bytes as the evidence member, or the export fails. A read that fails is
forgotten here: the copy meets the same object and reports it.

Worth it only where a second read is cheap (a local folder, whose first read leaves the bytes in the page
cache), so the adapters use it for the local store alone.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence

from storage.base import ObjectStore
from vault.errors import OffboardError
from vault.evidence.ingest import stream_verified
from vault.models import Evidence


class ReadAhead:
    """MD5s of evidence files, by evidence id, from a verified read on a thread of their own."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._done: dict[str, str] = {}
        self._taken: set[str] = set()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def start(self, rows: Sequence[Evidence]) -> None:
        """Begin reading ``rows`` in order (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, args=(list(rows),), name="read-ahead", daemon=True)
            self._thread.start()

    def _run(self, rows: list[Evidence]) -> None:
        for row in rows:
            if self._stopped:
                return
            found = None if row.id in self._taken else self._md5(row)
            with self._lock:
                if found is not None and row.id not in self._taken:
                    self._done[row.id] = found

    def _md5(self, row: Evidence) -> str | None:
        """The MD5 of the object's bytes once they proved to be the recorded ones; ``None`` if the stream took
        the file first or the read failed (the stream computes this one itself, and reports the failure)."""
        digest = hashlib.md5(usedforsecurity=False)
        try:
            for chunk in stream_verified(self._store, row):
                if self._stopped or row.id in self._taken:
                    return None
                digest.update(chunk)
        except (OffboardError, OSError):
            return None
        return digest.hexdigest()

    def take(self, row: Evidence) -> str | None:
        """The MD5 of ``row``'s verified bytes if the read-ahead finished it; else ``None``, and that file is
        the caller's. The first ``take`` stops the read-ahead: the copy has begun."""
        self._stopped = True
        with self._lock:
            self._taken.add(row.id)
            return self._done.get(row.id)

    def stop(self) -> None:
        """Drop what is left and wait for the thread (it ends within one chunk)."""
        self._stopped = True
        if self._thread is not None:
            self._thread.join()
