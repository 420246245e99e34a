"""``storage/offload.py``: work on a thread beside a copy, in order, with its errors handed back."""

from __future__ import annotations

import hashlib
import threading

import pytest

from storage.base import StoreError, checked_chunks
from storage.offload import Offload, OffloadFailed, hashing


def test_offload_consumes_every_chunk_in_order_on_another_thread() -> None:
    seen: list[bytes] = []
    threads: set[str] = set()

    def consume(chunk: bytes) -> None:
        seen.append(chunk)
        threads.add(threading.current_thread().name)

    chunks = [str(n).encode() for n in range(100)]
    with Offload(consume, name="test-offload", depth=2) as beside:
        for chunk in chunks:
            beside.put(chunk)
        beside.finish()
        assert seen == chunks  # finish waits for the last one
    assert threads == {"test-offload"}


def test_offload_hands_the_consumers_error_to_the_producer() -> None:
    def consume(chunk: bytes) -> None:
        if chunk == b"bad":
            raise OSError("disk full")

    beside = Offload(consume, name="test-offload", depth=1)
    with pytest.raises(OffloadFailed, match="test-offload failed: disk full") as failed:
        with beside:
            for chunk in [b"good", b"bad", *([b"after"] * 50)]:
                beside.put(chunk)  # raises once the failure is known, or finish does
    assert isinstance(failed.value.__cause__, OSError)
    assert not any(t.name == "test-offload" for t in threading.enumerate())


def test_offload_thread_ends_when_the_producer_fails() -> None:
    with pytest.raises(RuntimeError, match="producer"):
        with Offload(len, name="test-offload-2") as beside:
            beside.put(b"x")
            raise RuntimeError("producer")
    assert not any(t.name == "test-offload-2" for t in threading.enumerate())


def test_hashing_matches_hashlib() -> None:
    data = [bytes([n]) * 5000 for n in range(20)]
    md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with hashing([md5, sha], name="test-hashing") as beside:
        for chunk in data:
            beside.put(chunk)
    assert md5.hexdigest() == hashlib.md5(b"".join(data), usedforsecurity=False).hexdigest()
    assert sha.hexdigest() == hashlib.sha256(b"".join(data)).hexdigest()


def test_checked_chunks_of_many_chunks_flags_a_change_in_any_of_them() -> None:
    chunks = [bytes([n]) * 4096 for n in range(10)]
    good = hashlib.sha256(b"".join(chunks)).hexdigest()
    assert list(checked_chunks(iter(chunks), sha256_hex=good, where="x")) == chunks
    for flipped in (0, 1, 9):
        bad = list(chunks)
        bad[flipped] = b"\xff" + bad[flipped][1:]
        with pytest.raises(StoreError, match="is corrupt"):
            list(checked_chunks(iter(bad), sha256_hex=good, where="x"))


def test_checked_chunks_abandoned_half_way_ends_its_thread() -> None:
    chunks = [bytes([n]) * 4096 for n in range(10)]
    stream = checked_chunks(iter(chunks), sha256_hex="0" * 64, where="x")
    assert next(stream) == chunks[0] and next(stream) == chunks[1] and next(stream) == chunks[2]
    stream.close()
    assert not any(t.name == "store-sha256" for t in threading.enumerate())
