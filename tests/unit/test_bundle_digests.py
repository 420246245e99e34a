"""Members read by offset and hashed on a pool give hashlib's digests; corruption is still reported."""

from __future__ import annotations

import hashlib
import os
import struct
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from vault.bundle import bagit, digests, zipsafe
from vault.bundle import verify as verify_module
from vault.bundle.verify import verify_bundle
from vault.bundle.zipsafe import MemberUnreadable, SafeZip

CHUNK = 4096
SIZES = [0, 1, 2047, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 7]


def payload(size: int, seed: int = 0) -> bytes:
    # Half random, half repetitive, so deflate has something to do and chunks differ.
    half = size // 2
    return os.urandom(half) + bytes((seed + i) % 251 for i in range(size - half))


def make(path: Path, members: dict[str, bytes], method: int) -> Path:
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(f"bag/{name}", data)
    return path


def expected(data: bytes) -> dict[str, str]:
    return {"sha256": hashlib.sha256(data).hexdigest(), "sha512": hashlib.sha512(data).hexdigest()}


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
@pytest.mark.parametrize("size", SIZES)
def test_feed_gives_hashlib_digests_at_every_size(tmp_path: Path, method: int, size: int) -> None:
    data = payload(size)
    with SafeZip.open(make(tmp_path / "a.zip", {"x": data, "y": b"after"}, method)) as archive:
        h256, h512 = hashlib.sha256(), hashlib.sha512()
        chunks: list[int] = []
        archive.feed("x", [h256.update, h512.update, lambda c: chunks.append(len(c))], chunk_size=CHUNK)
        assert {"sha256": h256.hexdigest(), "sha512": h512.hexdigest()} == expected(data)
        assert sum(chunks) == size and all(0 < n for n in chunks)
        assert archive.read("x") == data and archive.read("y") == b"after"


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_pool_and_inline_hashing_agree_with_hashlib(
    tmp_path: Path, method: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digests, "LARGE", CHUNK)
    monkeypatch.setattr(digests, "LARGE_CHUNK", 1000)
    # One member larger than all others together: its SHA-256 and SHA-512 become separate jobs.
    members = {f"data/m{size}": payload(size, size) for size in SIZES} | {"data/huge": payload(40 * CHUNK + 3)}
    with SafeZip.open(make(tmp_path / "a.zip", members, method)) as archive:
        jobs = digests.plan_jobs(archive, ["data/huge", f"data/m{3 * CHUNK + 7}"], workers=2)
        assert [(j.name, j.algorithms, j.check_crc) for j in jobs] == [
            ("data/huge", ("sha512",), False),
            ("data/huge", ("sha256",), True),
            (f"data/m{3 * CHUNK + 7}", ("sha256", "sha512"), True),
        ]
        with ThreadPoolExecutor(max_workers=2) as pool:
            pending = digests.start_large(archive, pool, 2, skip=lambda name: name == f"data/m{CHUNK + 1}")
            inline = digests.hash_inline(archive, set(archive.members) - pending.names)
            inline.merge(pending.result())
        assert pending.names == {"data/huge", f"data/m{CHUNK}", f"data/m{3 * CHUNK + 7}"}
    assert not inline.unreadable
    for name, data in members.items():
        assert {"sha256": inline.sha256[name], "sha512": inline.sha512[name]} == expected(data), name
        assert inline.kept[name] == data


def test_a_corrupt_large_member_is_unreadable_not_hashed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digests, "LARGE", CHUNK)
    data, other = payload(10 * CHUNK), payload(5 * CHUNK, 1)
    path = make(tmp_path / "a.zip", {"data/big": data, "data/other": other}, zipfile.ZIP_STORED)
    raw = bytearray(path.read_bytes())
    raw[raw.find(data) + 7 * CHUNK] ^= 0x01  # CRC-32 left as it was
    path.write_bytes(bytes(raw))
    with SafeZip.open(path) as archive, ThreadPoolExecutor(max_workers=2) as pool:
        result = digests.start_large(archive, pool, 2, skip=lambda _: False).result()
    assert "CRC-32" in result.unreadable["data/big"]
    assert "data/big" not in result.sha256 and "data/big" not in result.sha512
    assert {"sha256": result.sha256["data/other"], "sha512": result.sha512["data/other"]} == expected(other)


def test_local_header_must_match_the_directory(tmp_path: Path) -> None:
    path = make(tmp_path / "a.zip", {"x": b"one", "y": b"two"}, zipfile.ZIP_STORED)
    raw = bytearray(path.read_bytes())
    raw[30:35] = b"bag/z"  # the first local header now names another file
    path.write_bytes(bytes(raw))
    with SafeZip.open(path) as archive:
        with pytest.raises(MemberUnreadable, match="local header names"):
            archive.read("x")
        assert archive.read("y") == b"two"


def test_data_may_not_run_into_the_next_member(tmp_path: Path) -> None:
    path = make(tmp_path / "a.zip", {"x": b"one" * 100, "y": b"two"}, zipfile.ZIP_STORED)
    raw = bytearray(path.read_bytes())
    raw[28:30] = struct.pack("<H", 50)  # a local extra field that pushes the data past the next header
    path.write_bytes(bytes(raw))
    with SafeZip.open(path) as archive, pytest.raises(MemberUnreadable, match="overlaps"):
        archive.read("x")


def test_a_flipped_byte_in_large_evidence_fails_both_manifests(tmp_path: Path) -> None:
    evidence = "data/evidence/e1-big.bin"
    data = payload(2 * digests.LARGE + 12_345)
    tampered = bytearray(data)
    tampered[digests.LARGE + 99] ^= 0x80
    manifests = {
        f"manifest-{algorithm}.txt": bagit.manifest_text({evidence: hashlib.new(algorithm, data).hexdigest()})
        for algorithm in ("sha256", "sha512")
    }
    for label, content in (("good", data), ("bad", bytes(tampered))):
        members = {"bagit.txt": bagit.BAGIT_TXT_BODY, **manifests, evidence: content}
        report = verify_bundle(make(tmp_path / f"{label}.zip", members, zipfile.ZIP_STORED))
        failing = {(c.kind, c.item, c.detail.split(" ")[0]) for c in report.failures}
        bad_manifests = {entry for entry in failing if entry[:2] == ("manifest", evidence)}
        if label == "good":
            assert not bad_manifests, failing
        else:
            assert bad_manifests == {("manifest", evidence, "sha256"), ("manifest", evidence, "sha512")}


def test_read_many_reads_blocks_and_reports_each_bad_member(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipsafe, "BLOCK", 3000)  # several blocks, and members cut at block edges
    members = {f"m{i:03}": payload(i * 37 % 900, i) for i in range(60)}
    path = make(tmp_path / "a.zip", members, zipfile.ZIP_DEFLATED)
    with SafeZip.open(path) as archive:
        assert dict(archive.read_many(archive.members)) == members
    raw = bytearray(path.read_bytes())
    victim = raw.find(b"bag/m031") + len(b"bag/m031") + 2  # inside m031's deflated data
    raw[victim] ^= 0xFF
    path.write_bytes(bytes(raw))
    with SafeZip.open(path) as archive:
        found = dict(archive.read_many(archive.members))
    assert isinstance(found.pop("m031"), MemberUnreadable)
    assert found == {name: data for name, data in members.items() if name != "m031"}


def test_read_many_with_a_long_extra_field(tmp_path: Path) -> None:
    buffer_path = tmp_path / "a.zip"
    with zipfile.ZipFile(buffer_path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("bag/a", b"first")
        info = zipfile.ZipInfo("bag/b")
        info.extra = struct.pack("<HH", 0xCAFE, 200) + bytes(200)  # longer than the room read with headers
        archive.writestr(info, b"second")
        archive.writestr("bag/c", b"third")
    with SafeZip.open(buffer_path) as archive:
        assert dict(archive.read_many(archive.members)) == {"a": b"first", "b": b"second", "c": b"third"}
        assert archive.read("b") == b"second"


def test_the_caller_hashes_queued_jobs_and_a_failing_job_is_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digests, "LARGE", CHUNK)
    members = {f"data/m{i}": payload(2 * CHUNK + i, i) for i in range(6)}
    with SafeZip.open(make(tmp_path / "a.zip", members, zipfile.ZIP_STORED)) as archive:
        # No pool thread at all: the caller alone must run every queued job.
        with ThreadPoolExecutor(max_workers=1) as idle:
            pending = digests.PendingDigests(archive, digests.plan_jobs(archive, members, 2), idle, helpers=0)
            result = pending.result()
        assert {name: result.sha256[name] for name in members} == {
            name: hashlib.sha256(data).hexdigest() for name, data in members.items()
        }

        def broken(self: object, archive: SafeZip) -> object:
            raise RuntimeError("a bug, not a bad member")

        monkeypatch.setattr(digests._Job, "run", broken)
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = digests.start_large(archive, pool, 2, skip=lambda _: False)
            with pytest.raises(RuntimeError, match="a bug"):
                pending.result()


def test_verify_restores_the_switch_interval(tmp_path: Path) -> None:
    before = sys.getswitchinterval()
    members = {"bagit.txt": bagit.BAGIT_TXT_BODY, "data/x": b"x"}
    verify_bundle(make(tmp_path / "a.zip", members, zipfile.ZIP_STORED))
    assert sys.getswitchinterval() == before


@pytest.mark.parametrize(("cores", "threads"), [(1, 1), (2, 1), (3, 2), (16, 2)])
def test_pool_threads_leave_the_caller_a_core(monkeypatch: pytest.MonkeyPatch, cores: int, threads: int) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(cores)), raising=False)
    assert verify_module._pool_threads() == threads
