"""Work beside a copy: a thread that applies one function to each chunk it is handed, in order.

A copy of evidence hashes the same bytes several times (the store's SHA-256 check, the MD5 of a load file,
the SHA-256 of a whole ZIP) and writes them out. ``hashlib`` and file writes release the interpreter lock on
large buffers, so each of those run on its own thread keeps a second core busy instead of queueing behind the
copy on one. The queue is bounded, so a slow consumer holds the producer back rather than buffering a whole
object in memory.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Generic, TypeVar

from storage.base import StoreError

#: Chunks waiting for the consumer, at most (with 1 MiB chunks: 2 MiB held per offload).
DEPTH = 2
_END = object()
T = TypeVar("T")


class OffloadFailed(StoreError):
    """The work beside a copy failed (a write refused, say); its cause is chained."""


class Offload(Generic[T]):
    """``put`` hands a chunk (or any item) to ``consume`` on the offload's thread; ``finish`` waits until every
    chunk was consumed and raises ``OffloadFailed`` from what ``consume`` raised, if anything (``put`` raises
    it early once known).

    Chunks must not change after ``put`` (bytes, not a reused buffer). Use it as a context manager so the
    thread ends even when the producer fails half-way.
    """

    def __init__(self, consume: Callable[[T], object], *, name: str, depth: int = DEPTH) -> None:
        self._name = name
        self._consume = consume
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        self._finished = False

    def _run(self) -> None:
        while (item := self._queue.get()) is not _END:
            if self._error is None:
                try:
                    self._consume(item)  # type: ignore[arg-type]
                except BaseException as exc:  # noqa: BLE001 - handed to the producer by put/finish
                    self._error = exc  # keep draining, so the producer never blocks on a full queue

    def _raise(self) -> None:
        if self._error is not None:
            raise OffloadFailed(f"{self._name} failed: {self._error}") from self._error

    def put(self, chunk: T) -> None:
        self._raise()
        self._queue.put(chunk)

    def finish(self) -> None:
        if not self._finished:
            self._finished = True
            self._queue.put(_END)
            self._thread.join()
        self._raise()

    def __enter__(self) -> Offload[T]:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            self.finish()
            return
        if not self._finished:  # the producer failed: end the thread, and let its error be the one raised
            self._finished = True
            self._queue.put(_END)
            self._thread.join()


def hashing(digests: Iterable[hashlib._Hash], *, name: str) -> Offload[bytes]:
    """An offload that updates every digest in ``digests`` with each chunk."""
    chosen = tuple(digests)

    def update(chunk: bytes) -> None:
        for digest in chosen:
            digest.update(chunk)

    return Offload(update, name=name)
