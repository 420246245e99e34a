"""Hostile archives are refused before anything is read, each with its reason; honest ones open."""

from __future__ import annotations

import io
import os
import stat
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from vault.bundle import zipsafe
from vault.bundle.verify import verify_bundle
from vault.bundle.zipsafe import (
    DEFAULT_MAX_ARCHIVE_BYTES,
    MAX_ENTRIES,
    HostileArchive,
    MemberUnreadable,
    SafeZip,
    path_problem,
)

#: A repetitive log line: 5 MiB of it deflates about 290:1 (zlib level 9), well above the old 200:1 rule.
LOG_LINE = b"2026-11-25T10:00:00Z INFO ledger: appended entry, batch committed\n"


def make(path: Path, members: list[tuple[str | zipfile.ZipInfo, bytes]], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return path


def refused(path: Path, needle: str) -> None:
    with pytest.raises(HostileArchive) as caught:
        SafeZip.open(path)
    assert needle in caught.value.message, caught.value.message
    report = verify_bundle(path)
    assert not report.ok and any(needle in c.detail for c in report.failures)


def test_honest_archive_opens_relative_to_its_root(tmp_path: Path) -> None:
    path = make(tmp_path / "ok.zip", [("bag/bagit.txt", b"a"), ("bag/data/x", b"b" * 10)])
    with SafeZip.open(path) as archive:
        assert archive.root == "bag" and sorted(archive.members) == ["bagit.txt", "data/x"]
        assert archive.read("data/x") == b"b" * 10


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("/etc/passwd", "absolute path"),
        ("bag/../../evil", "'..' path component"),
        ("C:/windows/evil", "absolute path"),
        ("bag\\..\\evil", "backslash"),
        ("bag/~/evil", "'~' path component"),
        ("bag//evil", "empty or '.' path component"),
        ("bag/./evil", "empty or '.' path component"),
        ("bag/ev\x01il", "control character"),
    ],
)
def test_dangerous_paths_are_refused(tmp_path: Path, name: str, reason: str) -> None:
    assert path_problem(name) is not None and reason in str(path_problem(name))
    refused(make(tmp_path / "bad.zip", [("bag/bagit.txt", b"a"), (name, b"x")]), reason)


def test_symlinks_and_special_files_are_refused(tmp_path: Path) -> None:
    link = zipfile.ZipInfo("bag/data/link")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    refused(make(tmp_path / "link.zip", [("bag/bagit.txt", b"a"), (link, b"/etc/passwd")]), "symbolic link")
    fifo = zipfile.ZipInfo("bag/data/fifo")
    fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
    refused(make(tmp_path / "fifo.zip", [("bag/bagit.txt", b"a"), (fifo, b"")]), "special file")


def test_too_many_entries_refused_before_parsing(tmp_path: Path) -> None:
    path = make(tmp_path / "many.zip", [("bag/a", b"a")])
    data = bytearray(path.read_bytes())
    at = data.rfind(b"PK\x05\x06")
    data[at + 8 : at + 12] = struct.pack("<HH", 0xFFFF, 0xFFFF)
    # A ZIP64 end record declaring more entries than allowed, pointed at by a locator.
    record = b"PK\x06\x06" + struct.pack("<QHHIIQQQQ", 44, 45, 45, 0, 0, MAX_ENTRIES + 1, MAX_ENTRIES + 1, 0, 0)
    locator = b"PK\x06\x07" + struct.pack("<IQI", 0, at, 1)
    path.write_bytes(bytes(data[:at]) + record + locator + bytes(data[at:]))
    refused(path, f"declares {MAX_ENTRIES + 1} entries")


def test_duplicates_encryption_methods_roots_and_overlaps(tmp_path: Path) -> None:
    with pytest.warns(UserWarning):
        refused(make(tmp_path / "dup.zip", [("bag/a", b"1"), ("bag/a", b"2")]), "appears more than once")
    refused(make(tmp_path / "roots.zip", [("one/a", b"1"), ("two/b", b"2")]), "one top-level folder")
    path = make(tmp_path / "enc.zip", [("bag/secret", b"x")], zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    data[data.rfind(b"PK\x01\x02") + 8] |= 0x1  # zipfile clears the flag when writing: set it by hand
    path.write_bytes(bytes(data))
    refused(path, "encrypted")
    bz = make(tmp_path / "bz.zip", [("bag/a", b"x" * 100)], zipfile.ZIP_BZIP2)
    refused(bz, "compression method 12")
    # Two central directory entries pointing at the same local member: the overlapping-files bomb.
    path = make(tmp_path / "overlap.zip", [("bag/a", b"x" * 1000), ("bag/b", b"y" * 1000)], zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    second = data.rfind(b"PK\x01\x02")
    data[second + 42 : second + 46] = struct.pack("<I", 0)
    path.write_bytes(bytes(data))
    with pytest.raises(HostileArchive) as caught:
        SafeZip.open(path)
    assert "overlaps" in caught.value.message or "differ" in caught.value.message


def test_not_a_zip_and_not_a_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"hello")
    refused(junk, "not a ZIP archive")
    with pytest.raises(HostileArchive, match="not a regular file"):
        SafeZip.open(tmp_path)
    link = tmp_path / "link.zip"
    link.symlink_to(make(tmp_path / "real.zip", [("bag/a", b"a")]))
    with pytest.raises(HostileArchive, match="not a regular file"):
        SafeZip.open(link)


def test_reading_caps_and_corruption(tmp_path: Path) -> None:
    path = make(tmp_path / "crc.zip", [("bag/a", b"payload" * 100)], zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    at = data.find(b"payload")
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    with SafeZip.open(path) as archive:
        with pytest.raises(MemberUnreadable, match="cannot be read back"):
            archive.read("a")
        with pytest.raises(MemberUnreadable, match="expected at most 10"):
            archive.read("a", limit=10)
    # A deflated member whose header understates its size is cut at the declared size.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive_out:
        archive_out.writestr("bag/a", b"z" * 5000)
    raw = bytearray(buffer.getvalue())
    central = raw.rfind(b"PK\x01\x02")
    raw[central + 24 : central + 28] = struct.pack("<I", 100)
    liar = tmp_path / "liar.zip"
    liar.write_bytes(bytes(raw))
    with SafeZip.open(liar) as archive, pytest.raises(MemberUnreadable, match="produces more than the 100 bytes"):
        archive.read("a")


# --- any compression ratio, bounded by the declared sizes ----------------------------------------------


def declare(path: Path, name: str, size: int) -> None:
    """Make the central directory declare ``size`` uncompressed bytes for ``name`` (data left alone)."""
    raw = bytearray(path.read_bytes())
    at = raw.find(b"PK\x01\x02")
    while raw[at + 46 : at + 46 + len(name)] != name.encode():
        at = raw.find(b"PK\x01\x02", at + 4)
        assert at >= 0, name
    raw[at + 24 : at + 28] = struct.pack("<I", size)
    path.write_bytes(bytes(raw))


def zeros_member(path: Path, mib: int) -> Path:
    """An archive whose ``bag/data/zeros`` holds ``mib`` MiB of zeros, deflated, written in a stream."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("bag/bagit.txt", b"BagIt")
        info = zipfile.ZipInfo("bag/data/zeros")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w") as member:
            for _ in range(mib):
                member.write(bytes(1 << 20))
    return path


def test_a_member_of_any_ratio_within_its_declared_size_is_read(tmp_path: Path) -> None:
    data = LOG_LINE * (5 * 1024 * 1024 // len(LOG_LINE))
    path = tmp_path / "log.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("bag/bagit.txt", b"BagIt")
        archive.writestr("bag/data/ledger.log", data)
    with SafeZip.open(path) as opened:
        info = opened.members["data/ledger.log"]
        assert info.file_size > 250 * info.compress_size  # refused as a "compression bomb" before
        assert opened.read("data/ledger.log") == data
        chunks: list[bytes] = []
        opened.feed("data/ledger.log", [lambda chunk: chunks.append(bytes(chunk))], chunk_size=64 * 1024)
        assert b"".join(chunks) == data
    # 50 MiB of zeros (about 1030:1) is no more refused than the log: only sizes bound the work.
    with SafeZip.open(zeros_member(tmp_path / "zeros.zip", 50)) as opened:
        total = 0

        def count(chunk: memoryview) -> None:
            nonlocal total
            total += len(chunk)

        opened.feed("data/zeros", [count])
        assert total == 50 << 20
    report = verify_bundle(path)  # not a bundle, but nothing about the archive fails
    assert not report.ok and report.refused is None
    assert not [c for c in report.failures if c.kind == "archive"], report.failures


def test_a_member_inflating_past_its_declared_size_is_stopped_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """64 MiB of zeros declared as 256 KiB: reading stops within a chunk of the declared size, having read
    only the first few KiB of the 64 KiB of deflate data."""
    path = zeros_member(tmp_path / "bomb.zip", 64)
    declared, chunk = 256 * 1024, 4096
    declare(path, "bag/data/zeros", declared)
    inflated = 0
    original = zipsafe._inflated

    def counted(*args: object, **kwargs: object) -> Iterator[bytes]:
        nonlocal inflated
        for piece in original(*args, **kwargs):
            inflated += len(piece)
            yield piece

    monkeypatch.setattr(zipsafe, "_inflated", counted)
    read_at = SafeZip._read_at
    archive_bytes = 0

    def counting_read(self: SafeZip, offset: int, buffer: memoryview) -> int:
        nonlocal archive_bytes
        got = read_at(self, offset, buffer)
        archive_bytes += got
        return got

    monkeypatch.setattr(SafeZip, "_read_at", counting_read)
    with SafeZip.open(path) as opened:
        compressed = opened.members["data/zeros"].compress_size
        assert compressed > 60_000
        consumed = 0

        def consume(piece: memoryview) -> None:
            nonlocal consumed
            consumed += len(piece)

        with pytest.raises(MemberUnreadable, match=f"produces more than the {declared} bytes it declares"):
            opened.feed("data/zeros", [consume], chunk_size=chunk)
        assert consumed <= declared  # the consumers never see a byte beyond the declared size
        assert declared < inflated <= declared + chunk  # at most one chunk was inflated beyond it
        assert archive_bytes < 4 * chunk  # and the rest of the deflate data was never read
        # Whole-member reads stop at the declared size as well (one byte past it is what tells).
        with pytest.raises(MemberUnreadable, match=f"produces more than the {declared} bytes it declares"):
            opened.read("data/zeros")
    report = verify_bundle(path)
    assert any(
        c.kind == "archive" and c.item == "data/zeros" and "produces more than" in c.detail for c in report.failures
    )


def test_the_declared_total_is_capped_before_any_member_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert DEFAULT_MAX_ARCHIVE_BYTES == 64 << 30
    path = make(tmp_path / "two.zip", [("bag/a", b"a" * 600), ("bag/b", b"b" * 600)])

    def no_reading(*_args: object) -> int:
        raise AssertionError("a member was read")

    monkeypatch.setattr(SafeZip, "_read_at", no_reading)
    with pytest.raises(HostileArchive) as caught:
        SafeZip.open(path, max_total_bytes=1199)
    assert caught.value.message == (
        "refusing two.zip: the members declare 1200 bytes uncompressed in all, above the limit of 1199 bytes"
    )
    SafeZip.open(path, max_total_bytes=1200).close()  # at the limit is within it
    report = verify_bundle(path, max_total_bytes=1000)
    assert not report.ok and report.refused is not None and "above the limit of 1000 bytes" in report.refused
    assert [(c.kind, c.item) for c in report.checks] == [("archive", "two.zip")]
    # The default limit: seventeen members each declaring almost 4 GiB (their data is a few bytes).
    names = [f"bag/m{i:02}" for i in range(17)]
    big = make(tmp_path / "big.zip", [(name, b"tiny") for name in names])
    for name in names:
        declare(big, name, 0xFFFF_FFF0)
    with pytest.raises(HostileArchive, match=f"declare {17 * 0xFFFF_FFF0} bytes .* limit of {64 << 30} bytes"):
        SafeZip.open(big)


# --- files that are not a readable ZIP: one sentence, never a traceback -------------------------------


def not_a_bundle(path: Path | str, needle: str) -> None:
    """``SafeZip.open`` refuses ``path`` saying ``needle``, and ``verify_bundle`` reports it, never raising."""
    with pytest.raises(HostileArchive) as caught:
        SafeZip.open(path)
    assert needle in caught.value.message, caught.value.message
    report = verify_bundle(path)
    assert not report.ok and report.refused == caught.value.message
    assert report.checks and all(c.kind == "archive" and not c.ok for c in report.checks)


def test_empty_zero_byte_missing_and_directory(tmp_path: Path) -> None:
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    assert empty.stat().st_size == 22  # the end-of-central-directory record alone
    not_a_bundle(empty, "empty.zip is an empty ZIP archive (no members)")
    zero = tmp_path / "zero.zip"
    zero.touch()
    not_a_bundle(zero, "zero.zip is empty (0 bytes), not a ZIP archive")
    not_a_bundle(tmp_path / "nowhere" / "case.zip", "nowhere/case.zip does not exist")
    not_a_bundle(tmp_path, "is a directory, not a regular file")


def test_garbage_and_other_formats(tmp_path: Path) -> None:
    garbage = tmp_path / "random.zip"
    garbage.write_bytes(os.urandom(10_000).replace(b"PK", b"pk"))
    not_a_bundle(garbage, "random.zip is not a ZIP archive (no end-of-central-directory record)")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.7\n" + bytes(2000) + b"%%EOF\n")
    not_a_bundle(pdf, "report.pdf is a PDF document, not a ZIP archive")


def test_an_archive_cut_anywhere_is_refused_as_truncated(tmp_path: Path) -> None:
    whole = make(
        tmp_path / "whole.zip",
        [("bag/bagit.txt", b"BagIt"), ("bag/data/a", LOG_LINE * 500), ("bag/data/b", os.urandom(300))],
    ).read_bytes()
    directory = whole.rfind(b"PK\x01\x02")
    cut = tmp_path / "cut.zip"
    for length in range(1, len(whole)):
        cut.write_bytes(whole[:length])
        # The end record is the last 22 bytes: any cut loses it, inside a member or the directory alike.
        needle = "cut.zip is a truncated ZIP archive" if length >= 4 else "cut.zip is not a ZIP archive"
        with pytest.raises(HostileArchive) as caught:
            SafeZip.open(cut)
        assert needle in caught.value.message, (length, caught.value.message)
    for length in (40, 300, directory + 10, len(whole) - 1):  # in a member, the directory, the end record
        cut.write_bytes(whole[:length])
        not_a_bundle(cut, "cut.zip is a truncated ZIP archive (it ends before its end-of-central-directory record)")


def test_a_damaged_directory_is_refused_never_raised(tmp_path: Path) -> None:
    whole = make(tmp_path / "whole.zip", [("bag/bagit.txt", b"BagIt"), ("bag/data/a", LOG_LINE * 50)]).read_bytes()
    directory = whole.rfind(b"PK\x01\x02")
    damaged = tmp_path / "damaged.zip"
    # "Version needed to extract" beyond what zipfile supports made it raise NotImplementedError.
    raw = bytearray(whole)
    raw[directory + 6] = 99
    damaged.write_bytes(bytes(raw))
    not_a_bundle(damaged, "damaged.zip is a damaged or truncated ZIP archive: zip file version 9.9")
    # The end record giving the directory a size that puts its start elsewhere.
    raw = bytearray(whole)
    raw[-10:-6] = struct.pack("<I", len(whole) - directory + 5)
    damaged.write_bytes(bytes(raw))
    not_a_bundle(damaged, "damaged.zip is a damaged or truncated ZIP archive: Bad magic number for central directory")
    # Every single byte of the directory and the end record overwritten, three ways: refused or opened,
    # and then each member read or reported unreadable; nothing else escapes.
    for at in range(directory, len(whole)):
        for value in (0x00, 0xFF, whole[at] ^ 0x10):
            raw = bytearray(whole)
            raw[at] = value
            damaged.write_bytes(bytes(raw))
            try:
                with SafeZip.open(damaged) as opened:
                    for name in opened.members:
                        try:
                            opened.read(name)
                        except MemberUnreadable:
                            pass
            except HostileArchive:
                pass
            assert not verify_bundle(damaged).ok


def test_an_io_error_under_a_block_makes_its_members_unreadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make(tmp_path / "a.zip", [("bag/bagit.txt", b"BagIt"), ("bag/data/a", b"a" * 100)])

    def failing(*_args: object) -> int:
        raise OSError(5, "Input/output error")

    with SafeZip.open(path) as opened:
        monkeypatch.setattr(os, "preadv", failing)
        found = dict(opened.read_many(opened.members))
    assert set(found) == {"bagit.txt", "data/a"}
    assert all(isinstance(v, MemberUnreadable) and "Input/output error" in v.message for v in found.values())
    report = verify_bundle(path)
    assert {c.item for c in report.failures if c.kind == "archive"} == {"bagit.txt", "data/a"}
