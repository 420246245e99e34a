"""``vault/bundle/read_ahead.py``: MD5s (and CRC-32s) read ahead of an export's copy."""

from __future__ import annotations

import hashlib
import time
import zlib
from pathlib import Path

import pytest

from storage.local import LocalStore
from vault.bundle.read_ahead import EarlyDigests, ReadAhead
from vault.models import Evidence


def _stored(store: LocalStore, data: bytes, name: str) -> Evidence:
    writer = store.writer()
    for start in range(0, len(data), 1 << 20):  # several chunks, like real evidence
        writer.write(data[start : start + (1 << 20)])
    stored = writer.commit()
    return Evidence(
        id=name, organization_id="o", case_id="c", sha256=stored.sha256, size=stored.size, content_type="x",
        original_filename=name, kind="deliverable", storage_key=stored.key, ledger_index=1,
    )  # fmt: skip


def _wait_done(ahead: ReadAhead, count: int) -> None:
    deadline = time.monotonic() + 20
    while ahead.finished < count and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "blobs")


def test_read_ahead_gives_the_md5_of_each_finished_file(store: LocalStore) -> None:
    blobs = [bytes([n]) * (3 << 20) + b"tail" for n in range(3)]
    rows = [_stored(store, data, f"e{n}") for n, data in enumerate(blobs)]
    ahead = ReadAhead(store)
    ahead.start(rows)
    _wait_done(ahead, 3)
    assert [ahead.take(row) for row in rows] == [
        EarlyDigests(hashlib.md5(d, usedforsecurity=False).hexdigest(), zlib.crc32(d)) for d in blobs
    ]
    ahead.stop()


def test_a_file_it_cannot_read_whole_is_left_to_the_copy(store: LocalStore) -> None:
    good = _stored(store, b"a" * (2 << 20), "good")
    short = _stored(store, b"b" * (2 << 20), "short")
    path = store.path_of(short.storage_key)
    path.chmod(0o644)
    path.write_bytes(b"b" * (1 << 20))  # truncated after ingest
    missing = _stored(store, b"d" * 10, "missing")
    store.path_of(missing.storage_key).unlink()
    ahead = ReadAhead(store)
    ahead.start([short, missing, good])
    _wait_done(ahead, 1)
    ahead.stop()
    assert ahead.take(short) is None  # left to the copy, which fails on the store's check
    assert ahead.take(missing) is None
    data = b"a" * (2 << 20)
    assert ahead.take(good) == EarlyDigests(hashlib.md5(data, usedforsecurity=False).hexdigest(), zlib.crc32(data))


def test_first_take_stops_the_read_ahead_and_the_taken_file_is_the_callers(store: LocalStore) -> None:
    rows = [_stored(store, bytes([n]) * (4 << 20), f"e{n}") for n in range(4)]
    ahead = ReadAhead(store)
    assert ahead.take(rows[0]) is None  # taken before it started: the copy computes it
    ahead.start(rows)
    ahead.stop()
    assert all(ahead.take(row) is None for row in rows)  # stopped before it read anything
