"""Hostile archives are refused before anything is read, each with its reason; honest ones open."""

from __future__ import annotations

import io
import stat
import struct
import zipfile
from pathlib import Path

import pytest

from vault.bundle.verify import verify_bundle
from vault.bundle.zipsafe import MAX_ENTRIES, HostileArchive, MemberUnreadable, SafeZip, path_problem


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


def test_compression_bomb_is_refused_by_declared_ratio(tmp_path: Path) -> None:
    refused(make(tmp_path / "bomb.zip", [("bag/data/zeros", bytes(50 * 1024 * 1024))]), "compression bomb")


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
    with SafeZip.open(liar) as archive, pytest.raises(MemberUnreadable):
        archive.read("a")
