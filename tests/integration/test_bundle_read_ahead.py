"""An export whose evidence MD5s were read ahead: the load file still names the bytes of each member; an
object damaged after the read-ahead read it fails the export (the copy checks the SHA-256 again), and so does
one the read-ahead read other bytes of than the copy (their CRC-32s differ)."""

from __future__ import annotations

import csv
import hashlib
import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.bundle import Seeded, seed
from storage.local import LocalStore
from tests.integration.test_bundle_export import members
from vault.bundle import layout
from vault.bundle.export import BundleStream, prepare
from vault.bundle.read_ahead import ReadAhead
from vault.bundle.verify import verify_bundle
from vault.errors import IntegrityFailure, VerificationFailed


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Seeded]:
    made = seed(tmp_path, total=3 * (3 << 20), entries=40, files=3)  # three files of three chunks each
    try:
        yield made
    finally:
        made.services.close()


def _prepared(seeded: Seeded) -> tuple[ReadAhead, BundleStream]:
    services = seeded.services
    assert isinstance(services.store, LocalStore)
    ahead = ReadAhead(services.store)
    plan = prepare(services.transact, services.settings, seeded.principal, seeded.case_id, read_ahead=ahead)
    deadline = time.monotonic() + 30
    while ahead.finished < len(plan.evidence) and time.monotonic() < deadline:
        time.sleep(0.01)
    return ahead, BundleStream(services.transact, services.store, plan, read_ahead=ahead)


def test_read_ahead_md5s_are_those_of_the_members(seeded: Seeded, tmp_path: Path) -> None:
    ahead, stream = _prepared(seeded)
    assert ahead.finished == 3  # every MD5 came from the read-ahead
    data = b"".join(stream)
    files = members(data)
    rows = list(csv.DictReader(io.StringIO(files[layout.LOADFILE_CSV].decode("utf-8"), newline="")))
    assert len(rows) == 3
    for row in rows:
        assert row["MD5"] == hashlib.md5(files[row["BAG_PATH"]], usedforsecurity=False).hexdigest()
    path = tmp_path / "case.zip"
    path.write_bytes(data)
    assert verify_bundle(path).ok


def test_an_object_damaged_after_the_read_ahead_fails_the_export(seeded: Seeded) -> None:
    _, stream = _prepared(seeded)
    damaged = seeded.evidence_files[1]
    damaged.chmod(0o644)
    with damaged.open("r+b") as handle:
        handle.seek(5 << 20)  # in its second chunk, which the store checks on its thread
        handle.write(b"\x00" * 16)
    with pytest.raises(VerificationFailed, match="stored bytes do not match the record"):
        b"".join(stream)


def test_bytes_read_ahead_that_are_not_the_copied_ones_fail_the_export(seeded: Seeded) -> None:
    damaged = seeded.evidence_files[2]
    original = damaged.read_bytes()
    damaged.chmod(0o644)
    damaged.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))  # what the read-ahead reads
    _, stream = _prepared(seeded)
    damaged.write_bytes(original)  # and the copy reads the recorded bytes again
    with pytest.raises(IntegrityFailure, match="its object changed while it was exported"):
        b"".join(stream)
